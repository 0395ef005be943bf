"""kit.keyring: a recipient adopts only newer key changes, and keeps every key it was given."""

from __future__ import annotations

import base64
import dataclasses
import time

import pytest

import kit
from kit.protocol import key_change_event
from kit.thrift import MessageEvent, read_event_signature

V1, V2, V3 = "1795545957535", "1795632357535", "1795718757535"
KEY1, KEY2, KEY3 = bytes(range(32)), bytes(range(32, 64)), bytes(range(64, 96))
GROUP = "g1700000000000000001"


def _init(sender: kit.Identity, others: list[kit.Identity], version: str, key: bytes, **kw: str) -> kit.KeyInit:
    return kit.prepare_key_init(sender, [o.public_keys for o in others], version=version, conversation_key=key, **kw)


def _event(init: kit.KeyInit, sender: kit.Identity, *, seq: str = "2070276095283454101") -> str:
    ev = key_change_event(
        init.body,
        sender_id=sender.user_id,
        conversation_id=init.conversation_id,
        sequence_id=seq,
        created_at_msec="1795545957535",
    )
    return base64.b64encode(ev.encode()).decode()


def _message_event(msg: kit.PreparedMessage, sender: kit.Identity, *, seq: str = "2070276095283454200") -> str:
    ev = MessageEvent(
        sequence_id=seq,
        message_id=msg.message_id,
        sender_id=sender.user_id,
        conversation_id=msg.conversation_id,
        created_at_msec="1795545960000",
        detail=msg.create_event.encode_detail(),
        signature=read_event_signature(base64.b64decode(msg.body["encoded_message_event_signature"])),
    )
    return base64.b64encode(ev.encode()).decode()


@pytest.fixture
def changes(alice, bob):
    """Bob's verified key changes of the alice-bob conversation, at V1, V2, V3."""
    out = {}
    for version, key in ((V1, KEY1), (V2, KEY2), (V3, KEY3)):
        event = _event(_init(alice, [bob], version, key), alice)
        out[version] = kit.read_key_change(event, recipient=bob, signing_keys=[alice.public_keys])
    return out


# ----------------------------------------------------------------------------- adopting


def test_empty_keyring(alice, bob):
    ring = kit.Keyring()
    cid = kit.ConversationId.pair(alice.user_id, bob.user_id).canonical
    assert ring.latest(cid) is None
    assert ring.keys(cid) == {}


def test_adopt_in_order(changes):
    ring = kit.Keyring()
    first = ring.adopt(changes[V1])
    assert (first.adopted, first.latest_version, first.reason) == (True, V1, "first key change of the conversation")
    second = ring.adopt(changes[V2])
    assert (second.adopted, second.latest_version, second.reason) == (True, V2, f"newer than {V1}")
    assert second.change is changes[V2]
    cid = changes[V1].conversation_id
    assert ring.latest(cid) is changes[V2]
    assert ring.key(cid, V1) == KEY1 and ring.key(cid, V2) == KEY2
    assert ring.keys(cid) == {V1: KEY1, V2: KEY2}


def test_older_change_served_again_is_not_adopted(changes):
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    ring.adopt(changes[V2])
    again = ring.adopt(changes[V1])
    assert not again.adopted
    assert again.latest_version == V2
    assert again.reason == f"not newer than {V2}"
    assert ring.latest(changes[V1].conversation_id) is changes[V2]


def test_versions_compare_as_numbers_not_text(alice, bob):
    # "9" > "10" as text: a keyring comparing text would go back from 10 to 9
    ring = kit.Keyring()
    nine, ten = (
        kit.read_key_change(_event(_init(alice, [bob], v, k), alice), recipient=bob, signing_keys=[alice.public_keys])
        for v, k in (("9", KEY1), ("10", KEY2))
    )
    assert ring.adopt(ten).adopted
    assert not ring.adopt(nine).adopted
    assert ring.latest(ten.conversation_id).conversation_key_version == "10"
    assert list(ring.keys(ten.conversation_id)) == ["9", "10"]  # oldest first, by number


def test_an_older_change_seen_late_still_gives_its_key(changes):
    # Bob saw the rotation first: the older key is not adopted, but it still opens older messages.
    ring = kit.Keyring()
    ring.adopt(changes[V3])
    late = ring.adopt(changes[V1])
    assert not late.adopted and late.latest_version == V3
    cid = changes[V1].conversation_id
    assert ring.latest(cid) is changes[V3]
    assert ring.key(cid, V1) == KEY1
    assert ring.keys(cid) == {V1: KEY1, V3: KEY3}


def test_same_version_twice(changes):
    ring = kit.Keyring()
    assert ring.adopt(changes[V1]).adopted
    twice = ring.adopt(changes[V1])
    assert not twice.adopted
    assert twice.latest_version == V1 and twice.reason == f"not newer than {V1}"
    assert ring.keys(changes[V1].conversation_id) == {V1: KEY1}


def test_same_version_with_another_key_keeps_the_first(alice, bob, changes):
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    ring.adopt(changes[V2])
    other = _event(_init(alice, [bob], V1, bytes(32), message_id="another"), alice)
    result = ring.read(other, recipient=bob, signing_keys=[alice.public_keys])
    assert not result.adopted
    assert result.latest_version == V2
    assert "already holds a different conversation key" in result.reason
    cid = changes[V1].conversation_id
    assert ring.key(cid, V1) == KEY1
    assert ring.latest(cid) is changes[V2]


def test_versions_are_keyed_by_value_not_spelling(alice, bob, changes):
    # "01795545957535" is not a second key for 1795545957535: a leading zero is refused outright.
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    padded = dataclasses.replace(changes[V1], conversation_key_version="0" + V1, conversation_key=bytes(32))
    with pytest.raises(kit.WireFormatError, match="no leading zero"):
        ring.adopt(padded)
    with pytest.raises(kit.WireFormatError, match="no leading zero"):
        ring.key(changes[V1].conversation_id, "0" + V1)
    assert ring.keys(changes[V1].conversation_id) == {V1: KEY1}
    with pytest.raises(kit.WireFormatError, match="no leading zero"):
        _init(alice, [bob], "0" + V2, KEY2)  # the kit does not build one either


@pytest.mark.parametrize("days_ahead", [2, 365, 10**6])
def test_a_far_future_version_is_refused_with_a_reason(changes, days_ahead):
    # Adopting it would make every honest rotation "not newer" until that day: a lock-out.
    ring = kit.Keyring()
    cid = changes[V1].conversation_id
    ring.adopt(changes[V1])
    future = str(int(time.time() * 1000) + days_ahead * 86_400_000)
    result = ring.adopt(dataclasses.replace(changes[V2], conversation_key_version=future))
    assert not result.adopted
    assert result.reason.startswith("refused: ") and "more than one day in the future" in result.reason
    assert result.latest_version == V1
    assert ring.keys(cid) == {V1: KEY1}  # not remembered either
    assert ring.adopt(changes[V3]).adopted  # the next honest rotation still wins
    first = kit.Keyring().adopt(dataclasses.replace(changes[V1], conversation_key_version=future))
    assert not first.adopted and first.latest_version == ""


def test_latest_never_goes_backwards(changes):
    ring = kit.Keyring()
    cid = changes[V1].conversation_id
    seen = []
    for version in (V2, V1, V3, V1, V2, V3):
        ring.adopt(changes[version])
        seen.append(ring.latest(cid).conversation_key_version)
    assert seen == [V2, V2, V3, V3, V3, V3]


# ----------------------------------------------------------------------------- reading events and messages


def test_read_verifies_then_adopts(alice, bob):
    ring = kit.Keyring()
    init = _init(alice, [bob], V1, KEY1)
    result = ring.read(_event(init, alice), recipient=bob, signing_keys=[alice.public_keys])
    assert result.adopted and result.change.conversation_key == KEY1
    assert ring.latest(init.conversation_id).message_id == init.message_id


def test_a_change_that_does_not_verify_leaves_the_keyring_as_is(alice, bob, changes):
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    impostor = kit.Identity.from_seed("impostor (demo only)", alice.user_id, version="1")
    forged = _event(_init(impostor, [bob], V3, KEY3), impostor)
    with pytest.raises(kit.SignatureError):
        ring.read(forged, recipient=bob, signing_keys=[alice.public_keys])
    cid = changes[V1].conversation_id
    assert ring.latest(cid) is changes[V1]
    assert ring.keys(cid) == {V1: KEY1}


def test_messages_of_several_versions_read_with_keys(alice, bob, changes):
    ring = kit.Keyring()
    for version in (V1, V2):
        ring.adopt(changes[version])
    cid = changes[V1].conversation_id
    events = [
        _message_event(kit.prepare_message(alice, cid, text, conversation_key=key, conversation_key_version=v), alice)
        for text, key, v in (("before rotation", KEY1, V1), ("after rotation", KEY2, V2))
    ]
    texts = [
        kit.read_message(e, conversation_key=ring.keys(cid), signing_keys=[alice.public_keys]).text for e in events
    ]
    assert texts == ["before rotation", "after rotation"]
    # a message sealed with a version the keyring does not hold
    unknown = _message_event(
        kit.prepare_message(alice, cid, "later", conversation_key=KEY3, conversation_key_version=V3), alice
    )
    with pytest.raises(kit.KeyNotFoundError, match=V3):
        kit.read_message(unknown, conversation_key=ring.keys(cid), signing_keys=[alice.public_keys])


def test_keys_is_a_copy(changes):
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    cid = changes[V1].conversation_id
    view = ring.keys(cid)
    view[V1] = bytes(32)
    view[V2] = KEY2
    assert ring.keys(cid) == {V1: KEY1}


def test_conversations_are_kept_apart(alice, bob, carol, changes):
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    group = kit.read_key_change(
        _event(_init(alice, [bob, carol], V3, KEY3, conversation_id=GROUP), alice),
        recipient=bob,
        signing_keys=[alice.public_keys],
    )
    # the group's newer version is the first of its own conversation, not a rotation of the 1:1
    assert ring.adopt(group).reason == "first key change of the conversation"
    pair = changes[V1].conversation_id
    assert ring.latest(pair) is changes[V1]
    assert ring.latest(GROUP) is group
    assert ring.keys(pair) == {V1: KEY1} and ring.keys(GROUP) == {V3: KEY3}
    with pytest.raises(kit.KeyNotFoundError):
        ring.key(pair, V3)
    # an older version in the 1:1 is still newer than nothing there, and the group is untouched
    assert ring.adopt(changes[V2]).adopted
    assert ring.latest(GROUP) is group


def test_any_full_spelling_of_a_conversation_id(alice, bob, changes):
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    lo, hi = changes[V1].conversation_id.split(":")
    for spelling in (f"{lo}:{hi}", f"{lo}-{hi}", f"{hi}-{lo}"):
        assert ring.latest(spelling) is changes[V1]
        assert ring.key(spelling, V1) == KEY1


# ----------------------------------------------------------------------------- errors and secrets


def test_key_not_found_names_the_conversation_and_known_versions(changes):
    ring = kit.Keyring()
    ring.adopt(changes[V2])
    ring.adopt(changes[V1])
    cid = changes[V1].conversation_id
    with pytest.raises(kit.KeyNotFoundError) as info:
        ring.key(cid, V3)
    message = str(info.value)
    assert cid in message and V3 in message
    assert f"known versions: ['{V1}', '{V2}']" in message
    with pytest.raises(kit.KeyNotFoundError, match=r"conversation g1 at version 5; known versions: \[\]"):
        ring.key("g1", "5")
    assert isinstance(info.value, LookupError)


def test_repr_hides_keys(changes):
    ring = kit.Keyring()
    for version in (V1, V2):
        adoption = ring.adopt(changes[version])
    shown = repr(ring) + repr(adoption) + str(ring)
    for key in (KEY1, KEY2):
        for form in (key.hex(), repr(key), base64.b64encode(key).decode().rstrip("="), str(list(key))):
            assert form not in shown
    cid = changes[V1].conversation_id
    assert repr(ring) == f"Keyring({{'{cid}': latest '{V2}' of 2 version(s)}}, conversation_key=<hidden>)"
    assert "<hidden>" in repr(adoption)
    assert repr(kit.Keyring()) == "Keyring({}, conversation_key=<hidden>)"


def test_adopt_refuses_what_is_not_a_key_change(alice, bob, changes):
    ring = kit.Keyring()
    init = _init(alice, [bob], V1, KEY1)
    for thing, name in ((init, "KeyInit"), ("event text", "str"), (None, "NoneType")):
        with pytest.raises(kit.WireFormatError, match=rf"adopts a kit\.KeyChange .*got {name}\Z"):
            ring.adopt(thing)
    bad_version = dataclasses.replace(changes[V1], conversation_key_version="v1")
    with pytest.raises(kit.WireFormatError, match="conversation_key_version of the key change"):
        ring.adopt(bad_version)
    bad_id = dataclasses.replace(changes[V1], conversation_id="not an id")
    with pytest.raises(kit.WireFormatError, match="conversation id"):
        ring.adopt(bad_id)
    assert repr(ring) == "Keyring({}, conversation_key=<hidden>)"


def test_lookups_refuse_bad_ids_and_versions(bob, changes):
    ring = kit.Keyring()
    ring.adopt(changes[V1])
    cid = changes[V1].conversation_id
    with pytest.raises(kit.WireFormatError, match="conversation key version"):
        ring.key(cid, "latest")
    with pytest.raises(kit.WireFormatError, match="bare user id"):
        ring.latest(bob.user_id)
    with pytest.raises(kit.WireFormatError, match="non-empty string"):
        ring.keys("")


# ----------------------------------------------------------------------------- through the sandbox


def test_a_recipient_keyring_through_the_sandbox(monkeypatch, alice, bob):
    monkeypatch.delenv("X_API_BASE_URL", raising=False)
    monkeypatch.delenv("X_API_USER_TOKEN", raising=False)
    with kit.connect(quiet=True) as api:
        alice_api = api.sandbox_user("keyringalice", user_id=alice.user_id)
        bob_api = api.sandbox_user("keyringbob", user_id=bob.user_id)
        alice_api.register_keys(alice)
        bob_api.register_keys(bob)
        bob_keys = alice_api.latest_public_keys(bob.user_id)
        alice_keys = bob_api.get_public_keys(alice.user_id)

        def send(init: kit.KeyInit, text: str) -> None:
            key, version = init.conversation_key, init.conversation_key_version
            cid = init.conversation_id
            message = kit.prepare_message(alice, cid, text, conversation_key=key, conversation_key_version=version)
            alice_api.send_message(message)

        first = kit.prepare_key_init(alice, [bob_keys], version=V1)
        conversation = alice_api.add_conversation_keys(first, path_id=bob.user_id).conversation_id
        send(first, "one")
        second = kit.prepare_key_init(alice, [bob_keys], conversation, version=V2)
        alice_api.add_conversation_keys(second)
        send(second, "two")
        page = bob_api.get_events(conversation)

    ring = kit.Keyring()
    served = [*page.key_changes, page.key_changes[0]]  # the first key change served again
    results = [ring.read(event, recipient=bob, signing_keys=alice_keys) for event in served]
    assert [r.adopted for r in results] == [True, True, False]
    assert ring.latest(conversation).conversation_key == second.conversation_key
    keys = ring.keys(conversation)
    assert keys == {V1: first.conversation_key, V2: second.conversation_key}
    texts = [kit.read_message(m, conversation_key=keys, signing_keys=alice_keys).text for m in page.messages]
    assert sorted(texts) == ["one", "two"]
