"""kit.lesson.conversation: the reaction, quote and batch checks pass the right answer and name each mistake."""

from __future__ import annotations

import base64

import pytest
from chatxdk_helpers import kit_key_change_envelope, kit_message_envelope

import kit
from kit.content import encode_reaction
from kit.lesson import conversation

SEQ = "2070276095283454102"


def test_the_right_reaction_passes():
    assert conversation.check_reaction(encode_reaction(SEQ, "👍"), target_sequence_id=SEQ, emoji="👍")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (encode_reaction(SEQ, "👍", remove=True), "reaction *removal*"),
        (encode_reaction(SEQ, "👍")[:-1], "one STOP byte short"),
        (encode_reaction(SEQ, "👍") + b"\x00", "one STOP byte too many"),
        (encode_reaction(SEQ, "👍").replace(b"\x00\x00\x00\x04\xf0", b"\x00\x00\x00\x01\xf0"), "UTF-8 bytes (4), not its characters (1)"),
        (b"\x0c\x00\x01\x0c\x00\x02\x0a\x00\x01" + int(SEQ).to_bytes(8, "big") + b"\x0b\x00\x02\x00\x00\x00\x04" + "👍".encode() + b"\x00\x00\x00", "not an i64"),
        (encode_reaction(SEQ, "👎"), "differ from the 46 bytes"),
        (..., "fill in the blank"),
        (encode_reaction(SEQ, "👍").hex(), "got text"),
    ],
)
def test_each_reaction_mistake_is_named(answer, said):
    c = conversation.check_reaction(answer, target_sequence_id=SEQ, emoji="👍")
    assert not c and said in c.message, c.message


@pytest.fixture
def convo(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    kw = {"conversation_key": init.conversation_key, "conversation_key_version": init.conversation_key_version}
    kc = kit_key_change_envelope(init, alice.user_id, seq=int(SEQ) - 1)
    ev = kit_message_envelope(kit.prepare_message(alice, bob.user_id, "lunch is on me next time, not today", **kw), alice.user_id, seq=int(SEQ))
    reply = kit_message_envelope(kit.prepare_message(bob, alice.user_id, "ok", reply_to=ev, **kw), bob.user_id, seq=int(SEQ) + 1)
    original = kit.read_message(ev, conversation_key=init.conversation_key, signing_keys=[alice.public_keys])
    return init, original, [kc, ev, reply]


@pytest.mark.parametrize(
    ("answer", "quote", "ok", "said"),
    [
        ("valid", "lunch is on me next time, not today", True, "says exactly"),
        ("valid", "lunch is on me", True, "a prefix passes"),
        ("invalid", "lunch is on me", False, "a shortened quote passes"),
        ("invalid", "lunch is on you", True, "only its quote is forged"),
        ("valid", "lunch is on you", False, "not valid"),
        ("maybe", "lunch is on you", False, "answer with one of"),
        (..., "lunch", False, "fill in the blank"),
    ],
)
def test_quote_verdicts(convo, alice, bob, answer, quote, ok, said):
    init, original, _ = convo
    c = conversation.check_quote(
        answer, original=original, quote=quote, replier=bob, conversation_key=init.conversation_key,
        signing_keys=[alice.public_keys, bob.public_keys],
    )  # fmt: skip
    assert bool(c) is ok and said in c.message, c.message


def _broken(events: list[str], index: int) -> list[str]:
    raw = bytearray(base64.b64decode(events[index]))
    raw[-40] ^= 1
    return [*events[:index], base64.b64encode(bytes(raw)).decode(), *events[index + 1 :]]


def test_batch_checks(convo, alice, bob):
    _, _, events = convo
    events = _broken(events + [events[1]], 1)  # the first message damaged; an intact copy of it after the reply
    keys = [alice.public_keys, bob.public_keys]
    right = kit.read_events(events, recipient=bob, signing_keys=keys)
    assert conversation.check_batch(right, events=events, broken=1, reader=bob, signing_keys=keys)
    cases = [
        (..., "fill in the blank"),
        ([], "kit.EventBatch"),
        (kit.read_events(events[1:], recipient=bob, signing_keys=keys), "no key change was read"),
        (kit.read_events(events, recipient=bob, signing_keys=[bob.public_keys]), "both users' public keys"),
    ]
    for answer, said in cases:
        c = conversation.check_batch(answer, events=events, broken=1, reader=bob, signing_keys=keys)
        assert not c and said in c.message, c.message
