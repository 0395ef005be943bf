"""kit.lesson.recipient: the key-version, trust and comparison-code checks pass the right answer and name each mistake."""

from __future__ import annotations

from typing import Any

import pytest

import kit
from kit.lesson import BLANK, recipient

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"
VERSION = "1795545957535"


@pytest.fixture
def message_event(alice: kit.Identity, bob: kit.Identity) -> str:
    """A message alice sent bob, as bob fetches it from a sandbox (base64 MessageEvent)."""
    api = kit.connect()
    alice_api = api.sandbox_user("alice", user_id=ALICE_ID)
    bob_api = api.sandbox_user("bob", user_id=BOB_ID)
    alice_api.register_keys(alice)
    bob_api.register_keys(bob)
    init = kit.prepare_key_init(alice, [bob.public_keys], version=VERSION)
    conversation = alice_api.add_conversation_keys(init, path_id=BOB_ID).conversation_id
    alice_api.send_message(kit.prepare_message(alice, conversation, "hi", conversation_key=init.conversation_key, conversation_key_version=VERSION))
    return bob_api.get_events(conversation).messages[0]


def test_the_right_key_version_passes(message_event: str, bob: kit.Identity) -> None:
    event = kit.thrift.read_message_event(kit.encoding.from_b64(message_event, what="message event"))
    c = recipient.check_message_key_version(event.read_detail().conversation_key_version, event=message_event, recipient=bob)
    assert c and c.message.startswith(f"✓ version {VERSION}"), c.message


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("1", "a key *record* version"),  # alice's signing key record and bob's identity key are both version "1"
        (int(VERSION), "wrong type"),
        (1795545957536, "not yet"),
        ("1795545957536", "not yet"),
        (b"1795545957535", "should be a str"),
        (..., "fill in the blank"),
        (None, "is None"),
    ],
)
def test_each_key_version_mistake_is_named(message_event: str, bob: kit.Identity, answer: Any, said: str) -> None:
    c = recipient.check_message_key_version(answer, event=message_event, recipient=bob)
    assert not c and said in c.message, c.message


def test_the_record_versions_are_told_apart(message_event: str, alice: kit.Identity) -> None:
    """A recipient whose key version differs from the signer's: each mistake names whose version it is."""
    dave = kit.Identity.from_seed("dave (demo only)", BOB_ID, version="7")
    signer = recipient.check_message_key_version("1", event=message_event, recipient=dave)
    assert not signer and "the signature's public_key_version" in signer.message and "bob's own" not in signer.message
    own = recipient.check_message_key_version("7", event=message_event, recipient=dave)
    assert not own and "bob's own key version" in own.message


def test_the_sequence_id_is_named(message_event: str, bob: kit.Identity) -> None:
    event = kit.thrift.read_message_event(kit.encoding.from_b64(message_event, what="message event"))
    c = recipient.check_message_key_version(event.sequence_id, event=message_event, recipient=bob)
    assert not c and "sequence id" in c.message, c.message


# ----------------------------------------------------------------------------- adopt or refuse


@pytest.fixture
def pinned(alice: kit.Identity) -> kit.TrustStore:
    trust = kit.TrustStore()
    trust.pin(alice.public_keys)
    return trust


IMPOSTOR = kit.Identity.from_seed("impostor (demo only)", ALICE_ID, version="2")


@pytest.mark.parametrize(
    ("state", "answer", "ok", "said"),
    [
        ("pinned", "adopt", True, "keys pinned"),
        ("pinned", "pin and adopt", False, "already pinned"),
        ("pinned", "refuse and compare codes", False, "nothing changed"),
        ("changed", "refuse and compare codes", True, "keys changed"),
        ("changed", "adopt", False, "proves which keys signed, not whose"),
        ("changed", "pin and adopt", False, "token thief"),
        ("new", "pin and adopt", True, "trust on first use"),
        ("new", "adopt", False, "pin the keys first"),
        ("new", "refuse and compare codes", False, "nothing to compare against"),
        ("verified", "adopt", True, "verified with a comparison code"),
        ("pinned", "reject", False, "answer with one of"),
        ("pinned", ..., False, "fill in the blank"),
    ],
)
def test_each_trust_decision(alice: kit.Identity, bob: kit.Identity, pinned: kit.TrustStore, state: str, answer: Any, ok: bool, said: str) -> None:
    trust, keys = pinned, alice.public_keys
    if state == "changed":
        keys = IMPOSTOR.public_keys
    elif state == "new":
        trust = kit.TrustStore()
    elif state == "verified":
        trust.verify(keys, code=kit.comparison_code(bob, alice), mine=bob)
    assert trust.check(keys).state == state
    c = recipient.check_trust_decision(answer, trust=trust, keys=keys)
    assert bool(c) is ok and said in c.message, c.message


def test_the_trust_decision_is_the_keyrings(alice: kit.Identity, bob: kit.Identity, pinned: kit.TrustStore) -> None:
    """The answer the check calls right for changed keys is what Keyring(trust=...) does: it refuses."""
    init = kit.prepare_key_init(IMPOSTOR, [bob.public_keys], version=VERSION)
    event = kit.protocol.key_change_event(init.body, sender_id=ALICE_ID, conversation_id=init.conversation_id, sequence_id="2070276095283454101", created_at_msec=VERSION)
    with pytest.raises(kit.TrustError):
        kit.Keyring(trust=pinned).read(kit.encoding.b64(event.encode()), recipient=bob, signing_keys=[IMPOSTOR.public_keys])
    assert recipient.check_trust_decision("refuse and compare codes", trust=pinned, keys=IMPOSTOR.public_keys)


# ----------------------------------------------------------------------------- the codes


@pytest.mark.parametrize(
    ("answer", "ok", "said"),
    [
        ("do not trust these keys", True, "someone swapped a key"),
        ("verify them", False, "trust.verify refuses"),
        ("accept the change", False, "swapped in"),
        ("trust them", False, "answer with one of"),
        (..., False, "fill in the blank"),
    ],
)
def test_each_code_decision_when_the_codes_differ(alice: kit.Identity, bob: kit.Identity, answer: Any, ok: bool, said: str) -> None:
    mallory = kit.Identity.from_seed("mallory (demo only)", ALICE_ID, version="1")
    heard = kit.comparison_code(alice, bob)  # alice's screen: her real keys and bob's
    c = recipient.check_code_decision(answer, mine=bob, theirs=mallory.public_keys, heard=heard)  # bob got mallory's
    assert bool(c) is ok and said in c.message, c.message
    assert c.message != BLANK or answer is ...


@pytest.mark.parametrize(("answer", "ok"), [("verify them", True), ("do not trust these keys", False), ("accept the change", False)])
def test_the_code_decision_when_the_codes_match(alice: kit.Identity, bob: kit.Identity, answer: str, ok: bool) -> None:
    heard = kit.comparison_code(alice, bob)
    c = recipient.check_code_decision(answer, mine=bob, theirs=alice.public_keys, heard=heard)
    assert bool(c) is ok and "match" in c.message, c.message
