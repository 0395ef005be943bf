"""prepare_key_init and read_key_change: the init request and the recipient side."""

from __future__ import annotations

import base64

import pytest

import kit
from kit.protocol import key_change_event


def _event(init: kit.KeyInit, sender: kit.Identity, *, conversation_id: str | None = None) -> str:
    ev = key_change_event(
        init.body,
        sender_id=sender.user_id,
        conversation_id=conversation_id or init.conversation_id,
        sequence_id="2070276095283454100",
        created_at_msec="1795545957535",
    )
    return base64.b64encode(ev.encode()).decode()


def test_init_round_trip(alice, bob):
    init = kit.prepare_key_init(alice, [alice.public_keys, bob.public_keys])
    assert init.conversation_id == f"{alice.user_id}:{bob.user_id}"
    assert init.path_id == f"{alice.user_id}-{bob.user_id}"
    got = kit.read_key_change(_event(init, alice), recipient=bob, signing_keys=[alice.public_keys])
    assert got.conversation_key == init.conversation_key
    assert got.conversation_key_version == init.conversation_key_version
    assert got.sender_id == alice.user_id


def test_sender_is_added(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    users = [p["user_id"] for p in init.body["conversation_participant_keys"]]
    assert sorted(users) == sorted([alice.user_id, bob.user_id])


def test_body_never_holds_plaintext_key(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    text = repr(init.body)
    for form in (base64.b64encode(init.conversation_key).decode().rstrip("="), init.conversation_key.hex()):
        assert form not in text
    assert "signature_payload" not in init.body["action_signatures"][0]
    assert "<hidden>" in repr(init)


def test_forged_signature_raises(alice, bob, carol):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    # carol claims alice's key version: the binding holds, the signature does not
    fake = kit.PublicKeys(**{**carol.public_keys.__dict__, "user_id": alice.user_id, "version": alice.version})
    with pytest.raises(kit.SignatureError):
        kit.read_key_change(_event(init, alice), recipient=bob, signing_keys=[fake])


def test_hyphen_conversation_id_in_event_fails_verification(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    event = _event(init, alice, conversation_id=init.path_id)
    with pytest.raises(kit.SignatureError, match="does not verify"):
        kit.read_key_change(event, recipient=bob, signing_keys=[alice.public_keys])
