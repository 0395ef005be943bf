"""Hostile input for the decoders of every message kind: each succeeds or raises a `kit.KitError` with a message.

The readers: `kit.content.read_content` (every plaintext kind, reply previews, quick replies),
`read_detail` on deletes, `kit.message.read_delete`, `read_message` on replies (the quote check
never raises), `check_preview` on a hostile embedded original (it never raises at all), and
`kit.read_events` (it never raises: every failure is an entry in `errors`). The Thrift reader's
budgets (kit/thrift/codec.py) hold for the new structs: huge declared lengths fail fast and small.
"""

from __future__ import annotations

import base64
import struct
import time
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kit
from kit import content, thrift
from kit.message import check_preview

ALICE = kit.Identity.from_seed("alice (demo only)", "1215441834412953600", version="1")
BOB = kit.Identity.from_seed("bob (demo only)", "1603419180975409153", version="1")
KEY = bytes(range(32))
VERSION = "1795545957535"
CONV = f"{ALICE.user_id}:{BOB.user_id}"
SIGNERS = [ALICE.public_keys, BOB.public_keys]


def _envelope(pm: kit.PreparedMessage, sender: kit.Identity, seq: str) -> bytes:
    mce = thrift.read_message_create_event(base64.b64decode(pm.body["encoded_message_create_event"]))
    mes = thrift.read_event_signature(base64.b64decode(pm.body["encoded_message_event_signature"]))
    return thrift.MessageEvent(seq, pm.message_id, sender.user_id, CONV, VERSION, mce.encode_detail(), mes).encode()


KW = {"conversation_key": KEY, "conversation_key_version": VERSION}
ORIGINAL = _envelope(
    kit.prepare_message(ALICE, BOB.user_id, "hi @bob", entities=[kit.Entity("mention", 3, 7)],
                        message_id="11111111-2222-4333-8444-555555555555", nonce=bytes(24), **KW),
    ALICE, "2070276095283454201",
)  # fmt: skip
REPLY_PM = kit.prepare_message(
    BOB, ALICE.user_id, "yes", reply_to=ORIGINAL, quick_reply=kit.QuickReply.request("q", [("a", "A")]),
    message_id="66666666-7777-4888-9999-aaaaaaaaaaaa", nonce=bytes(range(24)), **KW,
)  # fmt: skip
REPLY = _envelope(REPLY_PM, BOB, "2070276095283454202")
EDIT = content.encode_edit("2070276095283454201", "hi @bob!", entities=[("mention", 3, 7)])
REACTION = content.encode_reaction("2070276095283454201", "👍")
_DEL = kit.prepare_delete(ALICE, BOB.user_id, ["2070276095283454201"], delete_for_all=True, message_id="d-1")
_ACT = _DEL.body["action_signatures"][0]
DELETE = thrift.MessageEvent(
    "2070276095283454203", "d-1", ALICE.user_id, CONV, VERSION, _DEL.detail.encode(),
    thrift.EventSignature(_ACT["message_event_signature"]["signature"], ALICE.version, "7"),
).encode()  # fmt: skip
OUTER = thrift.read_message_event(REPLY)


def _quote_check(data: object) -> object:
    # check_preview never raises: a hostile original is an "invalid" quote with a reason
    got = check_preview(OUTER, content.Preview(raw_event=data, text="hi"), keys={VERSION: KEY}, signing_keys=SIGNERS, recipient=BOB)  # type: ignore[arg-type]
    if data is None:  # no raw original: nothing to check
        assert got.validation is None
    else:
        assert got.validation in ("valid", "invalid") and (got.validation == "valid" or got.problem)
    return got


def _batch(data: object) -> object:
    ring = kit.Keyring()  # holding the conversation key, as if the key change had come in an earlier batch
    ring.adopt(kit.KeyChange(KEY, VERSION, ALICE.user_id, CONV, "k-1", "2070276095283454200", VERSION))
    batch = kit.read_events([data], recipient=BOB, signing_keys=SIGNERS, keyring=ring)  # type: ignore[list-item]
    for err in batch.errors.values():
        assert isinstance(err, kit.KitError) and str(err).strip()
    return batch


READERS: dict[str, Callable[[object], object]] = {
    "read_content": content.read_content,
    "read_detail": thrift.read_detail,
    "read_delete": lambda d: kit.message.read_delete(d, signing_keys=SIGNERS),  # type: ignore[arg-type]
    "read_message": lambda d: kit.read_message(d, conversation_key={VERSION: KEY}, signing_keys=SIGNERS, recipient=BOB),  # type: ignore[arg-type]
    "check_preview": _quote_check,
    "read_events": _batch,
}
SAMPLES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "reply plaintext": (REPLY_PM.plaintext, ("read_content",)),
    "edit plaintext": (EDIT, ("read_content",)),
    "reaction plaintext": (REACTION, ("read_content",)),
    "delete detail": (_DEL.detail.encode(), ("read_detail",)),
    "delete event": (DELETE, ("read_delete", "read_events")),
    "reply event": (REPLY, ("read_message", "read_events")),
    "quoted original": (ORIGINAL, ("check_preview",)),
}
SAMPLE_READERS = [(name, reader) for name, (_, readers) in SAMPLES.items() for reader in readers]
HOSTILE = settings(deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow])


def _outcome(reader: str, data: object) -> BaseException | None:
    try:
        READERS[reader](data)
    except kit.KitError as exc:
        assert reader not in ("check_preview", "read_events"), f"{reader} raised {exc!r}: it must never raise"
        assert str(exc).strip(), f"{reader} raised {type(exc).__name__} with an empty message"
        return exc
    except Exception as exc:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{reader}({data!r:.120}) raised {type(exc).__name__}: {exc}")
    return None


def test_samples_are_valid():
    m = kit.read_message(REPLY, conversation_key=KEY, signing_keys=SIGNERS)
    assert m.kind == "reply" and m.reply_to.validation == "valid" and m.quick_reply is not None
    assert _quote_check(ORIGINAL).validation == "valid"
    assert content.read_content(EDIT).kind == "edit" and content.read_content(REACTION).kind == "reaction_add"
    assert kit.message.read_delete(DELETE, signing_keys=SIGNERS).delete_for_all is True
    assert _batch(DELETE).deletes and _batch(REPLY).messages
    for name, (data, readers) in SAMPLES.items():
        for reader in readers:
            assert _outcome(reader, data) is None, (name, reader)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", sorted(READERS))
@HOSTILE
@given(data=st.binary(max_size=400))
def test_random_bytes(reader, data):
    _outcome(reader, data)


_FIELD_BITS = st.one_of(
    st.sampled_from([b"\x00", b"\x02", b"\x08", b"\x0a", b"\x0b", b"\x0c", b"\x0f"]),
    st.builds(lambda t, f: struct.pack(">bh", t, f), st.sampled_from([2, 8, 10, 11, 12, 15]), st.integers(-1, 17)),
    st.builds(lambda n: struct.pack(">i", n), st.sampled_from([0, 1, 2, 3, 7, 2**31 - 1, -1])),
    st.binary(max_size=6),
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reader", ["read_content", "read_detail", "check_preview"])
@HOSTILE
@given(parts=st.lists(_FIELD_BITS, max_size=40))
def test_thrift_shaped_garbage(reader, parts):
    _outcome(reader, b"".join(parts))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("sample", "reader"), SAMPLE_READERS)
def test_every_truncated_prefix(sample, reader):
    data = SAMPLES[sample][0]
    step = max(1, len(data) // 150)
    for n in range(0, len(data), step):
        _outcome(reader, data[:n])


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("sample", "reader"), SAMPLE_READERS)
@HOSTILE
@given(data=st.data())
def test_random_mutations(sample, reader, data):
    raw = bytearray(SAMPLES[sample][0])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    _outcome(reader, bytes(raw))


@pytest.mark.parametrize("reader", ["read_message", "read_delete", "read_events", "check_preview"])
@pytest.mark.parametrize("value", [None, 0, 3.5, [], {}, object(), "", b"", "not base64!"])
def test_wrong_types(reader, value):
    _outcome(reader, value)


def _h(t: int, f: int) -> bytes:
    return struct.pack(">bh", t, f)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "data",
    [
        _h(12, 1) + _h(12, 1) + _h(15, 2) + b"\x0c" + struct.pack(">i", 2**31 - 1) + b"\x00",  # entities
        _h(12, 7) + _h(15, 1) + b"\x0b" + struct.pack(">i", 2**31 - 1) + b"\x00",  # delete sequence_ids
        _h(12, 1) + _h(12, 1) + _h(12, 4) + _h(15, 10) + b"\x0c" + struct.pack(">i", 2**31 - 1),  # raw_event_ckces
    ],
    ids=["entities", "sequence_ids", "raw_event_ckces"],
)
def test_huge_declaration_fails_fast_and_small(data):
    tracemalloc.start()
    try:
        start = time.perf_counter()
        for reader in ("read_content", "read_detail"):
            assert isinstance(_outcome(reader, data), kit.WireFormatError)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024 * 1024 and elapsed < 1.0


def test_a_quote_of_a_quote_of_a_quote_is_bounded():
    """A reply embeds its original, which may itself be a reply: 40 levels still read (each level is sealed bytes, not nested Thrift)."""
    event = ORIGINAL
    for i in range(40):
        pm = kit.prepare_message(BOB, ALICE.user_id, f"re {i}", reply_to=event, **KW)
        event = _envelope(pm, BOB, str(2070276095283454300 + i))
    m = kit.read_message(event, conversation_key=KEY, signing_keys=SIGNERS)
    assert m.text == "re 39" and m.reply_to.validation == "valid" and m.reply_to.original_text == "re 38"
