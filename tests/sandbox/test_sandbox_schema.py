"""kit.sandbox.schema: the compiled checks agree with jsonschema.

The sandbox accepts a request when the compiled closure says valid, and asks jsonschema only
when it says invalid. So a closure must never accept what jsonschema rejects (soundness), and
should reject exactly what jsonschema rejects (or the fast path is useless and errors slow).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kit
from kit.errors import APIError
from kit.sandbox import schema as schema_module
from kit.sandbox.schema import spec

ALICE, BOB, CAROL = "1001", "1002", "1003"

_WRONG = (None, True, False, 0, 1, -7, 1.5, 2.0, "", "x", "12", [], [1], ["a"], {}, {"k": "v"})


def _validators() -> Iterator[tuple[str, str, Any]]:
    for op in spec().operations:
        for name, v in op.path_params.items():
            yield op.operation_id, f"path {name}", v
        for name, (v, _) in op.query_params.items():
            yield op.operation_id, f"query {name}", v
        if op.body_validator is not None:
            yield op.operation_id, "body", op.body_validator


ALL = list(_validators())


def _valid_bodies() -> dict[str, dict[str, Any]]:
    alice = kit.Identity.from_seed(b"schema-test-alice", ALICE)
    bob = kit.Identity.from_seed(b"schema-test-bob", BOB)
    carol = kit.Identity.from_seed(b"schema-test-carol", CAROL)
    init = kit.prepare_key_init(alice, [bob.public_keys])
    group = kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], conversation_id="g1234567890")
    message = kit.prepare_message(
        alice, init.conversation_id, "hello", conversation_key=init.conversation_key,
        conversation_key_version=init.conversation_key_version,
    )
    return {
        "addConversationKeys": init.body,
        "createChatConversation": {
            **group.body, "conversation_id": group.conversation_id, "group_members": [BOB, CAROL], "group_name": "g",
        },
        "addUserPublicKey": alice.registration_body(generate_version=False),
        "sendChatMessage": message.body,
    }


BODIES = _valid_bodies()


def _mutations(value: Any) -> Iterator[Any]:
    """The body with one change: a value swapped for each wrong kind, a key dropped or added, an
    array emptied or doubled, at every place in the tree."""
    for wrong in _WRONG:
        yield wrong
    if isinstance(value, dict):
        for key in value:
            dropped = dict(value)
            del dropped[key]
            yield dropped
            for inner in _mutations(value[key]):
                changed = dict(value)
                changed[key] = inner
                yield changed
        yield {**value, "unexpected_member": "x"}
    elif isinstance(value, list):
        yield []
        yield value + value
        for i, item in enumerate(value):
            for inner in _mutations(item):
                changed = list(value)
                changed[i] = inner
                yield changed
    elif isinstance(value, str):
        yield value + "\n"
        yield " " + value
        yield value[:-1]


def test_every_schema_of_the_document_has_a_compiled_check() -> None:
    missing = [(op, where) for op, where, v in ALL if v.fast is None]
    assert not missing, f"schemas only jsonschema checks: {missing}"
    assert len(ALL) > 30


@pytest.mark.parametrize("operation_id", sorted(BODIES))
def test_valid_bodies_pass_both(operation_id: str) -> None:
    v = spec().by_id[operation_id].body_validator
    body = json.loads(json.dumps(BODIES[operation_id]))
    assert v.full.is_valid(body)
    assert v.fast(body) is True


@pytest.mark.parametrize("operation_id", sorted(BODIES))
def test_compiled_check_agrees_with_jsonschema_on_every_mutation(operation_id: str) -> None:
    v = spec().by_id[operation_id].body_validator
    seen = rejected = 0
    for body in _mutations(json.loads(json.dumps(BODIES[operation_id]))):
        full, fast = v.full.is_valid(body), v.fast(body)
        assert fast == full, f"compiled says {fast}, jsonschema says {full}: {json.dumps(body)[:300]}"
        seen += 1
        rejected += not full
    assert seen > 50 and rejected > 20  # the mutations really reach invalid bodies


def test_a_rejected_body_is_still_explained_by_jsonschema() -> None:
    op = spec().by_id["addConversationKeys"]
    body = copy.deepcopy(BODIES["addConversationKeys"])
    body["conversation_participant_keys"][0]["public_key_version"] = 7
    with pytest.raises(APIError) as caught:
        op.validate_body(body)
    assert caught.value.status == 400
    assert "$.conversation_participant_keys[0].public_key_version" in caught.value.problem.detail
    assert "7 is not of type 'string'" in caught.value.problem.detail


def test_a_closure_never_accepts_what_jsonschema_rejects_even_if_it_rejects_more() -> None:
    # uniqueItems over numbers goes to jsonschema: the closure's False is the safe answer.
    check = schema_module._compile({"type": "array", "uniqueItems": True}, {})
    assert check is not None
    assert check(["a", "b"]) is True
    assert check(["a", "a"]) is False
    assert check([1, 2]) is False  # not judged here; jsonschema accepts it on the slow path


def test_unknown_keywords_leave_the_schema_to_jsonschema() -> None:
    assert schema_module._compile({"type": "object", "patternProperties": {"^x": {}}}, {}) is None
    assert schema_module._compile({"if": {"type": "string"}}, {}) is None
    assert schema_module._compile({"enum": [1, True]}, {}) is None


def test_ecma_end_of_input_holds_in_the_compiled_pattern() -> None:
    check = schema_module._compile({"type": "string", "pattern": "^[0-9]+$"}, {})
    assert check is not None
    assert check("123") is True
    assert check("123\n") is False


def test_recursive_refs_compile() -> None:
    document = {
        "components": {
            "schemas": {
                "Node": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}},
                }
            }
        }
    }
    check = schema_module._compile({"$ref": "#/components/schemas/Node"}, document)
    assert check is not None
    assert check({"name": "a", "children": [{"name": "b", "children": []}]}) is True
    assert check({"name": "a", "children": [{"children": []}]}) is False


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30)
    | st.sampled_from(["1", "123", "0", "1001-1002", "g123", "7", "id,name", "a,a", "id"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, len(ALL) - 1), value=_json)
def test_compiled_checks_never_accept_what_jsonschema_rejects(index: int, value: Any) -> None:
    _, _, v = ALL[index]
    if v.fast(value):
        assert v.full.is_valid(value)
    else:
        # not strictly required (a False is safe), but any disagreement here is worth knowing
        assert not v.full.is_valid(value) or _only_unique_items_over_non_strings(v.schema, value)


def _only_unique_items_over_non_strings(schema: Any, value: Any) -> bool:
    return isinstance(schema, dict) and schema.get("uniqueItems") is True and isinstance(value, list) and not all(
        isinstance(x, str) for x in value
    )
