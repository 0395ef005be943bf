"""Conformance: schemathesis drives the in-process sandbox from the vendored OpenAPI document.

Every operation the sandbox implements gets generated requests (schema-valid and schema-invalid,
the coverage phase's boundary cases and undeclared methods) from one registered user with keys,
a pair conversation and a group, so that generated paths sometimes resolve. Every answer goes
through schemathesis's checks: no 5xx, status, content type and body (every problem included)
conform to the document, invalid data is rejected, auth is enforced. A run that only ever got
401s fails (`require_real_answers`), and valid requests built by the kit are accepted (2xx).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

import kit
from kit.sandbox import Sandbox, create_app
from sandbox_fixtures import served_sandbox
from tests.reliability_helpers import SPEC_PATH, assert_problem, tool_state_in

#: the chat and public-key operations the sandbox implements: those it has a handler for
#: (the document's others, media, typing, read receipts, ..., answer 404 by design)
IMPLEMENTED = sorted(Sandbox.ROUTES)
MAX_EXAMPLES = 25

# A schema-valid request can still be refused for what it means (random bytes are not a signed
# key change, an id may name nobody, a pagination token may not be one the server issued):
# the sandbox answers 400 with the rule it broke, as the live API does. Invalid data must still
# be rejected (negative_data_rejection keeps its defaults).
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}}}
)


class World:
    """One in-process sandbox with three users, keys, a pair conversation with a message, and a group."""

    def __init__(self) -> None:
        self.sandbox = Sandbox()
        self.app = create_app(self.sandbox)
        root = kit.connect(sandbox=self.sandbox, quiet=True)
        accounts = {n: root.create_sandbox_user(f"conf_{n}") for n in ("alice", "bob", "carol")}
        alice, bob, carol = (root.as_user(accounts[n]) for n in ("alice", "bob", "carol"))
        ids = {}
        for name, client in (("alice", alice), ("bob", bob), ("carol", carol)):
            ident = kit.Identity.generate(client.user_id, version="1")
            client.register_keys(ident)
            ids[name] = ident
        self.identities = ids
        self.clients = {"alice": alice, "bob": bob, "carol": carol}
        self.users = {name: c.user_id for name, c in self.clients.items()}
        init = kit.prepare_key_init(ids["alice"], [ids["bob"].public_keys])
        alice.add_conversation_keys(init)
        self.pair_init = init
        alice.send_message(
            kit.prepare_message(
                ids["alice"],
                init.conversation_id,
                "hello",
                conversation_key=init.conversation_key,
                conversation_key_version=init.conversation_key_version,
            )
        )
        # bob and carol talk without alice: alice must get 403 there
        other = kit.prepare_key_init(ids["bob"], [ids["carol"].public_keys])
        bob.add_conversation_keys(other)
        self.foreign_pair = other.path_id
        gid = alice.initialize_group()
        # a group of alice and bob, made with the signed create; carol joins later (addChatGroupMembers)
        alice.create_group(kit.prepare_group_create(ids["alice"], gid, members=[ids["bob"].public_keys], title="conformance"))
        self.group = gid
        self.token = accounts["alice"].access_token  # the Bearer every generated request carries
        self.bob_token, self.carol_token = accounts["bob"].access_token, accounts["carol"].access_token
        self.statuses: dict[str, Counter[int]] = {}
        self._cycles: dict[str, Any] = {}
        self._lock = threading.Lock()

    def path_choices(self, case: Any) -> list[str | None]:
        if "/users/" in case.path:
            return [None, self.users["alice"], self.users["bob"], None, self.users["carol"]]
        return [None, self.pair_init.path_id, self.group, self.foreign_pair, self.users["bob"]]

    def steer(self, case: Any) -> None:
        """Point every other schema-valid request at something that exists (None keeps the generated value)."""
        if case.meta is None or not case.meta.generation.mode.is_positive:
            return
        label = case.operation.label
        with self._lock:
            cycle = self._cycles.setdefault(label, itertools.count())
            n = next(cycle)
        if case.path_parameters and "id" in case.path_parameters:
            choice = self.path_choices(case)[n % 5]
            if choice is not None:
                case.path_parameters["id"] = choice
        if isinstance(case.query, dict) and "ids" in case.query and n % 2:
            case.query["ids"] = [self.users["alice"], self.users["carol"], "1"]

    def record(self, label: str, status: int) -> None:
        with self._lock:
            self.statuses.setdefault(label, Counter())[status] += 1


_world: World | None = None
_world_lock = threading.Lock()


def world() -> World:
    global _world
    with _world_lock:
        if _world is None:
            _world = World()
        return _world


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI app schemathesis calls: the world's sandbox behind `kit.sandbox.create_app`."""
    await world().app(scope, receive, send)


schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG).include(operation_id=IMPLEMENTED)
schema.app = app


def require_real_answers(label: str, statuses: Counter[int], *, need_2xx: bool = False) -> None:
    """Fail a fuzzing run whose requests never got past authentication (or never ran)."""
    total = sum(statuses.values())
    assert total > 0, f"{label}: no request was sent"
    past_auth = total - statuses[401]
    assert past_auth > 0, f"{label}: all {total} answers were 401: the token was not accepted, nothing was tested"
    assert past_auth >= total // 2, f"{label}: {statuses[401]} of {total} answers were 401; the token should pass"
    assert not [s for s in statuses if s >= 500], f"{label}: server errors {statuses}"
    if need_2xx:
        assert any(200 <= s < 300 for s in statuses), f"{label}: no request was accepted: {statuses}"


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Any) -> Any:
    with tool_state_in(tmp_path):  # .schemathesis/ and .hypothesis/ go there, not into the checkout
        yield


@pytest.fixture
def statuses(request: pytest.FixtureRequest) -> Any:
    """Each operation's statuses; after its run, fail if it never got past auth (or saw a 5xx)."""
    w = world()
    yield w
    name = request.node.name
    for op_label, counts in w.statuses.items():
        if name.endswith(f"[{op_label}]"):
            print(f"{op_label}: {dict(sorted(counts.items()))}")
            # random bytes are never a signed key change or message: for those POSTs the 2xx
            # answers come from test_valid_requests_from_the_kit_are_accepted_and_conform
            require_real_answers(op_label, counts, need_2xx=op_label.startswith("GET") or "initialize" in op_label)
            return
    pytest.fail(f"{name}: no statuses recorded")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_generated_requests_conform(case: Any, statuses: World) -> None:
    statuses.steer(case)
    response = case.call_and_validate(headers={"Authorization": f"Bearer {statuses.token}"})
    statuses.record(case.operation.label, response.status_code)


def test_the_fuzzed_operations_are_the_implemented_ones() -> None:
    """Every operation the sandbox has a handler for is fuzzed (a new one joins automatically)."""
    ops = {r.ok().definition.raw.get("operationId") for r in schema.get_all_operations()}
    assert ops == set(IMPLEMENTED)
    assert set(IMPLEMENTED) >= {
        "addChatGroupMembers",
        "addConversationKeys",
        "addUserPublicKey",
        "getChatConversationEvents",
        "sendChatMessage",
    }


def test_a_run_with_only_401s_fails() -> None:
    with pytest.raises(AssertionError, match="all 7 answers were 401"):
        require_real_answers("GET /x", Counter({401: 7}))
    with pytest.raises(AssertionError, match="no request"):
        require_real_answers("GET /x", Counter())
    with pytest.raises(AssertionError, match="server errors"):
        require_real_answers("GET /x", Counter({200: 3, 500: 1}))
    require_real_answers("GET /x", Counter({200: 3, 400: 2, 401: 1}))


def test_a_bad_token_gets_only_401s_and_the_guard_catches_it() -> None:
    """The same generated requests with an unknown token: every answer is a conforming 401."""
    w = world()
    op = schema["/2/chat/conversations"]["GET"]
    counts: Counter[int] = Counter()
    transport = httpx.ASGITransport(app=w.app)

    async def go() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for n in range(5):
                case = op.Case(query={"max_results": 1 + n})
                r = await client.get(
                    case.formatted_path, params=case.query, headers={"Authorization": "Bearer not-a-token"}
                )
                case.validate_response(r)
                assert_problem(r.status_code, r.headers, r.content, expected=401)
                counts[r.status_code] += 1

    import asyncio

    asyncio.run(go())
    assert counts == Counter({401: 5})
    with pytest.raises(AssertionError, match="were 401"):
        require_real_answers(op.label, counts)


# ---------------------------------------------------------------------------- valid data is accepted


def _call(case: Any, token: str) -> Any:
    return case.call_and_validate(headers={"Authorization": f"Bearer {token}"})


def test_valid_requests_from_the_kit_are_accepted_and_conform() -> None:
    """Requests the kit builds, through schemathesis's checks: 2xx answers whose bodies conform."""
    w = world()
    alice, bob, carol = (w.identities[n] for n in ("alice", "bob", "carol"))
    token = w.token
    newer = kit.Identity.generate(alice.user_id, version="2")
    r = _call(
        schema["/2/users/{id}/public_keys"]["POST"].Case(
            path_parameters={"id": alice.user_id}, body=newer.registration_body()
        ),
        token,
    )
    assert r.status_code == 200, r.text
    r = _call(schema["/2/users/{id}/public_keys"]["GET"].Case(path_parameters={"id": bob.user_id}), token)
    assert r.status_code == 200 and r.json()["data"]
    r = _call(schema["/2/users/public_keys"]["GET"].Case(query={"ids": f"{bob.user_id},{carol.user_id}"}), token)
    assert r.status_code == 200 and len(r.json()["data"]) == 2

    rotation = kit.prepare_key_init(alice, [bob.public_keys], conversation_id=w.pair_init.conversation_id)
    keys_op = schema["/2/chat/conversations/{id}/keys"]["POST"]
    r = _call(keys_op.Case(path_parameters={"id": rotation.path_id}, body=rotation.body), token)
    assert r.status_code == 200, r.text
    replay = _call(keys_op.Case(path_parameters={"id": rotation.path_id}, body=rotation.body), token)
    assert replay.json() == r.json()  # the same request again gets the same answer

    msg = kit.prepare_message(
        alice,
        rotation.conversation_id,
        "conformant",
        conversation_key=rotation.conversation_key,
        conversation_key_version=rotation.conversation_key_version,
    )
    r = _call(
        schema["/2/chat/conversations/{id}/messages"]["POST"].Case(path_parameters={"id": msg.path_id}, body=msg.body),
        token,
    )
    assert r.status_code == 201, r.text

    for path, params in (
        ("/2/chat/conversations/{id}/events", {"id": rotation.path_id}),
        ("/2/chat/conversations/{id}", {"id": rotation.path_id}),
        ("/2/chat/conversations/{id}", {"id": w.group}),
    ):
        r = _call(schema[path]["GET"].Case(path_parameters=params), token)
        assert r.status_code == 200, r.text
    r = _call(schema["/2/chat/conversations"]["GET"].Case(query={"max_results": 1}), token)
    assert r.status_code == 200 and r.json()["meta"]["result_count"] == 1

    gid = _call(schema["/2/chat/conversations/group/initialize"]["POST"].Case(), token).json()["data"][
        "conversation_id"
    ]
    ginit = kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], conversation_id=gid)
    body = {**ginit.body, "conversation_id": gid, "group_members": [bob.user_id, carol.user_id]}
    r = _call(schema["/2/chat/conversations/group"]["POST"].Case(body=body), token)
    assert r.status_code == 201, r.text

    # the signed group create, then carol added with a new key: both stored and served as events
    gid = _call(schema["/2/chat/conversations/group/initialize"]["POST"].Case(), token).json()["data"]["conversation_id"]
    create = kit.prepare_group_create(alice, gid, members=[bob.public_keys], title="two then three")
    r = _call(schema["/2/chat/conversations/group"]["POST"].Case(body=create.body), token)
    assert r.status_code == 201, r.text
    add = kit.prepare_members_change(alice, gid, add=[carol.public_keys], current=[bob.public_keys], admins=[alice.user_id],
                                     title=create.title)  # fmt: skip
    members_op = schema["/2/chat/conversations/{id}/members"]["POST"]
    r = _call(members_op.Case(path_parameters={"id": gid}, body=add.body), token)
    assert r.status_code == 200 and r.json()["data"]["conversation_id"] == gid, r.text
    assert _call(members_op.Case(path_parameters={"id": gid}, body=add.body), token).json() == r.json()  # a replay
    r = _call(schema["/2/chat/conversations/{id}/events"]["GET"].Case(path_parameters={"id": gid}), token)
    assert r.status_code == 200 and len(r.json()["data"]) == 2 and len(r.json()["meta"]["conversation_key_events"]) == 2


def test_refusals_are_conforming_problems() -> None:
    """409, 403 and 404 answers to kit-built requests pass the same checks."""
    w = world()
    alice, bob = w.identities["alice"], w.identities["bob"]
    keys_op = schema["/2/chat/conversations/{id}/keys"]["POST"]
    stale = kit.prepare_key_init(alice, [bob.public_keys], conversation_id=w.pair_init.conversation_id, version="5")
    r = _call(keys_op.Case(path_parameters={"id": stale.path_id}, body=stale.body), w.token)
    assert_problem(r.status_code, r.headers, r.content, expected=409)
    r = _call(schema["/2/chat/conversations/{id}/events"]["GET"].Case(path_parameters={"id": w.foreign_pair}), w.token)
    assert_problem(r.status_code, r.headers, r.content, expected=403)
    r = _call(schema["/2/users/{id}/public_keys"]["GET"].Case(path_parameters={"id": "42"}), w.token)
    assert_problem(r.status_code, r.headers, r.content, expected=404)
    # addChatGroupMembers: bob is a member of alice's group, not an admin (403); carol is not a member (403)
    carol = w.identities["carol"]
    members_op = schema["/2/chat/conversations/{id}/members"]["POST"]
    by_bob = kit.prepare_members_change(bob, w.group, add=[carol.public_keys], current=[alice.public_keys], admins=[bob.user_id])
    r = _call(members_op.Case(path_parameters={"id": w.group}, body=by_bob.body), w.bob_token)
    assert "not an admin" in assert_problem(r.status_code, r.headers, r.content, expected=403)["detail"]
    r = _call(schema["/2/chat/conversations/{id}/events"]["GET"].Case(path_parameters={"id": w.group}), w.carol_token)
    assert "not a member" in assert_problem(r.status_code, r.headers, r.content, expected=403)["detail"]


@pytest.mark.parametrize(
    "auth",
    [None, "Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer not-a-token-this-sandbox-issued", "OAuth oauth_token=x"],
    ids=["none", "basic", "empty-bearer", "unknown-token", "oauth1"],
)
def test_auth_is_enforced_on_every_operation(auth: str | None) -> None:
    """Without a token this sandbox issued, every operation answers a conforming 401, before any other rule."""
    w = world()
    sandbox = w.sandbox
    for result in schema.get_all_operations():
        op = result.ok()
        path = op.path.replace("{id}", w.pair_init.path_id if "conversations" in op.path else w.users["alice"])
        headers = {"content-type": "application/json"} | ({"authorization": auth} if auth else {})
        reply = sandbox.handle(op.method.upper(), path, [], headers, b"{}" if op.method == "post" else b"")
        data = assert_problem(reply.status, reply.headers, reply.body, expected=401)
        assert "token" in data["detail"] or "Authorization" in data["detail"]


# ---------------------------------------------------------------------------- rate limiting


def test_rate_limit_answers_429_with_headers_and_a_conforming_problem() -> None:
    clock = [1_800_000_000.0]
    sandbox = Sandbox(rate_limit=3, clock=lambda: clock[0])
    root = kit.connect(sandbox=sandbox, quiet=True)
    account = root.create_sandbox_user("limited")
    me, token = root.as_user(account), account.access_token
    limited_schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG).include(operation_id=IMPLEMENTED)
    limited_schema.app = create_app(sandbox)
    op = limited_schema["/2/chat/conversations"]["GET"]
    seen = []
    for _ in range(4):
        r = op.Case().call_and_validate(headers={"Authorization": f"Bearer {token}"})
        seen.append((r.status_code, r.headers.get("x-rate-limit-remaining"), r.headers.get("x-rate-limit-reset")))
    assert [s[0] for s in seen] == [200, 200, 200, 429]
    assert [s[1] for s in seen] == [["2"], ["1"], ["0"], ["0"]]
    assert seen[3][2] == [str(int(clock[0] + 900))]
    assert r.headers.get("x-rate-limit-limit") == ["3"]
    problem = assert_problem(r.status_code, {"content-type": r.headers["content-type"][0]}, r.content, expected=429)
    assert problem["type"] == "https://api.x.com/2/problems/resource-unavailable"
    assert problem["resource_type"] == "rate-limit" and "x-rate-limit-reset" in problem["detail"]
    # the window is per user and endpoint: another endpoint still answers
    assert me.get_public_keys(me.user_id) == []
    # and it reopens after the reset time
    clock[0] += 901
    assert op.Case().call_and_validate(headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_served_sandbox_rate_limits_with_headers(tmp_path: Any) -> None:
    """`python -m kit sandbox --rate-limit 2`: the third call in the window is a 429 with the headers."""
    with served_sandbox(tmp_path / "server.log", rate_limit=2) as served:
        root = kit.connect(base_url=served.url, quiet=True)
        token = root.create_sandbox_user("limited").access_token
        root.close()
        with httpx.Client(base_url=served.url, headers={"authorization": f"Bearer {token}"}, timeout=10) as http:
            answers = [http.get("/2/chat/conversations") for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert [r.headers["x-rate-limit-remaining"] for r in answers] == ["1", "0", "0"]
    assert all(r.headers["x-rate-limit-limit"] == "2" for r in answers)
    reset = int(answers[2].headers["x-rate-limit-reset"])
    assert 0 < reset - time.time() <= 900
    problem = assert_problem(429, answers[2].headers, answers[2].content, expected=429)
    assert problem["resource_type"] == "rate-limit"


def test_rate_limit_is_off_by_default_in_process() -> None:
    sandbox = Sandbox()
    me = kit.connect(sandbox=sandbox, quiet=True).sandbox_user("unlimited")
    for _ in range(60):
        r = me.http.get("/2/chat/conversations")
        assert r.status_code == 200 and "x-rate-limit-limit" not in r.headers


# ---------------------------------------------------------------------------- non-ASCII digits and surrogates

#: Digits str.isdigit() takes and the X API does not (superscript, Arabic-Indic, full-width).
ODD_DIGITS = ["²", "١٢٣", "１２３", "1²"]


def test_odd_digits_in_every_parameter_are_conforming_400s() -> None:
    """Each path and query parameter of every operation, holding non-ASCII digits, through
    schemathesis's checks: a conforming 400, never a 5xx."""
    w = world()
    tried = 0
    for result in schema.get_all_operations():
        op = result.ok()
        params = [p for p in op.definition.raw.get("parameters", []) if "$ref" not in p]
        names = [(p["in"], p["name"]) for p in params] + [("query", "pagination_token"), ("query", "max_results")]
        for where, name in dict.fromkeys(names):
            if where == "query" and name not in {p["name"] for p in params}:
                continue
            for odd in ODD_DIGITS:
                path_params = {"id": w.pair_init.path_id if "conversations" in op.path else w.users["alice"]}
                if where == "path":
                    path_params[name] = odd
                kw: dict[str, Any] = {"path_parameters": path_params} if "{id}" in op.path else {}
                if where == "query":
                    kw["query"] = {name: odd}
                if op.method == "post":
                    kw["body"] = {}
                r = _call(op.Case(**kw), w.token)
                assert r.status_code == 400, (op.label, name, odd, r.status_code, r.text)
                tried += 1
    assert tried >= 4 * 8


def _valid_bodies(w: World) -> dict[str, tuple[str, dict[str, Any]]]:
    alice, bob, carol = (w.identities[n] for n in ("alice", "bob", "carol"))
    rotation = kit.prepare_key_init(alice, [bob.public_keys], conversation_id=w.pair_init.conversation_id)
    msg = kit.prepare_message(alice, w.pair_init.conversation_id, "x", conversation_key=w.pair_init.conversation_key,
                              conversation_key_version=w.pair_init.conversation_key_version)  # fmt: skip
    gid = w.clients["alice"].initialize_group()
    ginit = kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], conversation_id=gid)
    group = {**ginit.body, "conversation_id": gid, "group_members": [bob.user_id, carol.user_id], "group_name": "n"}
    return {
        "addUserPublicKey": (f"/2/users/{alice.user_id}/public_keys", kit.Identity.generate(alice.user_id).registration_body()),
        "addConversationKeys": (f"/2/chat/conversations/{rotation.path_id}/keys", rotation.body),
        "sendChatMessage": (f"/2/chat/conversations/{msg.path_id}/messages", msg.body),
        "createChatConversation": ("/2/chat/conversations/group", group),
        "addChatGroupMembers": (
            f"/2/chat/conversations/{w.group}/members",
            kit.prepare_members_change(alice, w.group, add=[carol.public_keys], current=[bob.public_keys], admins=[alice.user_id],
                                       title="conformance").body,
        ),  # fmt: skip
    }


def _string_leaves(node: Any, where: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, str):
        return [where]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    return [leaf for k, v in items for leaf in _string_leaves(v, (*where, k))]


def test_a_surrogate_in_every_string_of_every_body_is_a_400_naming_it() -> None:
    """Every string field of a valid body of each operation with a body, in turn, with a lone
    surrogate ("\\ud800", valid JSON, no UTF-8 text): a conforming 400 whose parameter is that
    field's JSON path, and nothing stored."""
    w = world()
    headers = {"authorization": f"Bearer {w.token}", "content-type": "application/json"}
    events_before = w.sandbox.store.read("SELECT COUNT(*) FROM events")[0][0]
    tried = 0
    for op_id, (path, body) in _valid_bodies(w).items():
        assert Sandbox.ROUTES[op_id]
        for leaf in _string_leaves(body):
            raw = json.loads(json.dumps(body))
            node = raw
            for part in leaf[:-1]:
                node = node[part]
            node[leaf[-1]] = "@@S@@" + node[leaf[-1]]
            data = json.dumps(raw).replace("@@S@@", "\\ud800").encode()
            reply = w.sandbox.handle("POST", path, [], headers, data)
            problem = assert_problem(reply.status, reply.headers, reply.body, expected=400)
            want = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in leaf)
            assert problem["parameter"] == want and "surrogate" in problem["detail"], (op_id, want, problem)
            tried += 1
    assert tried >= 20
    assert w.sandbox.store.read("SELECT COUNT(*) FROM events")[0][0] == events_before
