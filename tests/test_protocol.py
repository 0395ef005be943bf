"""prepare_key_init and read_key_change: the init request and the recipient side."""

from __future__ import annotations

import base64
import dataclasses

import pytest

import kit
import kit.thrift
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
    fake = dataclasses.replace(carol.public_keys, user_id=alice.user_id, version=alice.version)
    with pytest.raises(kit.SignatureError):
        kit.read_key_change(_event(init, alice), recipient=bob, signing_keys=[fake])


def test_hyphen_conversation_id_in_event_fails_verification(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    event = _event(init, alice, conversation_id=init.path_id)
    with pytest.raises(kit.SignatureError, match="does not verify"):
        kit.read_key_change(event, recipient=bob, signing_keys=[alice.public_keys])


# ----------------------------------------------------------------------------- groups and rotation


def test_group_init_every_member_unwraps(alice, bob, carol):
    init = kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], conversation_id="g1234567890")
    assert init.conversation_id == init.path_id == "g1234567890"
    users = sorted(p["user_id"] for p in init.body["conversation_participant_keys"])
    assert users == sorted([alice.user_id, bob.user_id, carol.user_id])
    event = _event(init, alice)
    for member in (alice, bob, carol):
        got = kit.read_key_change(event, recipient=member, signing_keys=[alice.public_keys])
        assert got.conversation_key == init.conversation_key
        assert got.conversation_id == "g1234567890"
    # every wrapped key is different (fresh ephemeral per participant)
    wrapped = [p["encrypted_conversation_key"] for p in init.body["conversation_participant_keys"]]
    assert len(set(wrapped)) == 3


def test_group_signature_covers_group_id(alice, bob, carol):
    init = kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], conversation_id="g77")
    with pytest.raises(kit.SignatureError):
        kit.read_key_change(_event(init, alice, conversation_id="g78"), recipient=bob, signing_keys=[alice.public_keys])


def test_rotation(alice, bob):
    first = kit.prepare_key_init(alice, [bob.public_keys])
    second = kit.prepare_key_init(alice, [bob.public_keys], first.path_id)
    assert second.conversation_id == first.conversation_id
    assert int(second.conversation_key_version) > int(first.conversation_key_version)
    assert second.conversation_key != first.conversation_key
    assert second.message_id != first.message_id
    a = kit.read_key_change(_event(first, alice), recipient=bob, signing_keys=[alice.public_keys])
    b = kit.read_key_change(_event(second, alice), recipient=bob, signing_keys=[alice.public_keys])
    assert (a.conversation_key, b.conversation_key) == (first.conversation_key, second.conversation_key)


def test_explicit_version_and_key(alice, bob):
    key = bytes(range(32))
    init = kit.prepare_key_init(alice, [bob.public_keys], version="10", conversation_key=key, message_id="m-1")
    assert init.conversation_key == key and init.conversation_key_version == "10" and init.message_id == "m-1"
    assert init.body["conversation_key_version"] == "10"
    assert init.detail.conversation_key_version == "10"
    with pytest.raises(kit.WireFormatError, match="conversation key version"):
        kit.prepare_key_init(alice, [bob.public_keys], version="v10")
    with pytest.raises(kit.WireFormatError, match="exactly 32 bytes"):
        kit.prepare_key_init(alice, [bob.public_keys], conversation_key=bytes(31))


def test_init_is_repeatable_except_wraps(alice, bob):
    kw = dict(version="5", conversation_key=bytes(32), message_id="fixed")
    a = kit.prepare_key_init(alice, [bob.public_keys], **kw)
    b = kit.prepare_key_init(alice, [bob.public_keys], **kw)
    assert a.signature == b.signature  # RFC 6979
    assert (
        a.body["action_signatures"][0]["message_event_signature"]
        == b.body["action_signatures"][0]["message_event_signature"]
    )


# ----------------------------------------------------------------------------- conversation ids


def test_three_users_need_conversation_id(alice, bob, carol):
    with pytest.raises(kit.WireFormatError, match="cannot derive a conversation id from 3 users"):
        kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys])


def test_sender_alone_needs_conversation_id(alice):
    with pytest.raises(kit.WireFormatError, match="from 1 users"):
        kit.prepare_key_init(alice, [])


@pytest.mark.parametrize("form", ["colon", "reversed", "hyphen", "bare"])
def test_one_to_one_spellings(alice, bob, form):
    lo, hi = sorted((alice.user_id, bob.user_id), key=int)
    cid = {"colon": f"{lo}:{hi}", "reversed": f"{hi}:{lo}", "hyphen": f"{hi}-{lo}", "bare": bob.user_id}[form]
    init = kit.prepare_key_init(alice, [bob.public_keys], cid)
    assert init.conversation_id == f"{lo}:{hi}"
    assert init.path_id == f"{lo}-{hi}"


def test_one_to_one_with_stranger(alice, bob, carol):
    with pytest.raises(kit.WireFormatError, match=rf"is 1:1 but participants include \['{carol.user_id}'\]"):
        kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], f"{alice.user_id}-{bob.user_id}")
    # and a 1:1 id that does not include the sender at all
    with pytest.raises(kit.WireFormatError, match="is 1:1 but participants include"):
        kit.prepare_key_init(alice, [bob.public_keys], f"{bob.user_id}-{carol.user_id}")


# ----------------------------------------------------------------------------- the roster


def test_duplicate_user_keeps_highest_version(alice):
    old = kit.Identity.from_seed("bob old (demo only)", "1603419180975409153", version="9")
    new = kit.Identity.from_seed("bob new (demo only)", "1603419180975409153", version="10")
    for order in ([old.public_keys, new.public_keys], [new.public_keys, old.public_keys]):
        init = kit.prepare_key_init(alice, order)
        entries = [p for p in init.body["conversation_participant_keys"] if p["user_id"] == new.user_id]
        assert [e["public_key_version"] for e in entries] == ["10"]  # numeric: "10" > "9"
        assert len(init.participants) == 2
        assert (
            kit.read_key_change(_event(init, alice), recipient=new, signing_keys=[alice.public_keys]).conversation_key
            == init.conversation_key
        )
        with pytest.raises(kit.KeyNotFoundError, match=r"it has versions \['10'\]"):
            kit.read_key_change(_event(init, alice), recipient=old, signing_keys=[alice.public_keys])


def test_sender_own_entry_uses_current_keys(alice, bob):
    stale = kit.Identity.from_seed("alice old (demo only)", alice.user_id, version="0").public_keys
    init = kit.prepare_key_init(alice, [stale, bob.public_keys])
    mine = [p for p in init.body["conversation_participant_keys"] if p["user_id"] == alice.user_id]
    assert [p["public_key_version"] for p in mine] == [alice.version]
    assert (
        kit.read_key_change(_event(init, alice), recipient=alice, signing_keys=[alice.public_keys]).conversation_key
        == init.conversation_key
    )


def test_verify_bindings_rejects_broken_binding(alice, bob, carol):
    broken = dataclasses.replace(bob.public_keys, public_key=carol.public_keys.public_key)
    with pytest.raises(kit.SignatureError, match=f"user {bob.user_id}"):
        kit.prepare_key_init(alice, [broken])
    # only with the check switched off does it go through
    kit.prepare_key_init(alice, [broken], verify_bindings=False)


def test_verify_bindings_rejects_missing_signature(alice, bob):
    unsigned = dataclasses.replace(bob.public_keys, identity_public_key_signature="", signing_public_key_signature="")
    with pytest.raises(kit.SignatureError, match="no identity_public_key_signature"):
        kit.prepare_key_init(alice, [unsigned])


def test_participants_must_be_public_keys(alice, bob):
    with pytest.raises(kit.WireFormatError, match="must be kit.PublicKeys, got dict"):
        kit.prepare_key_init(alice, [bob.public_keys.to_api()])


def test_progress_callback(alice, bob, carol):
    calls: list[tuple[int, int]] = []
    kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], "g1", progress=lambda i, n: calls.append((i, n)))
    assert calls[-1] == (3, 3)
    many = [kit.Identity.from_seed(f"u{i}", str(1000 + i)).public_keys for i in range(300)]
    calls.clear()
    kit.prepare_key_init(alice, many, "g2", verify_bindings=False, progress=lambda i, n: calls.append((i, n)))
    assert calls == [(256, 301), (301, 301)]


# ----------------------------------------------------------------------------- recipient side


def test_recipient_version_mismatch_names_versions(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    bob_v2 = kit.Identity.from_seed("bob (demo only)", bob.user_id, version="2")
    with pytest.raises(kit.KeyNotFoundError, match=rf"user {bob.user_id} at key version 2 \(it has versions \['1'\]\)"):
        kit.read_key_change(_event(init, alice), recipient=bob_v2, signing_keys=[alice.public_keys])


def test_non_participant(alice, bob, carol):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    with pytest.raises(kit.KeyNotFoundError, match="not a participant"):
        kit.read_key_change(_event(init, alice), recipient=carol, signing_keys=[alice.public_keys])


def _event_with_signature(init: kit.KeyInit, sender: kit.Identity, **changes: str) -> str:
    ev = key_change_event(
        init.body, sender_id=sender.user_id, conversation_id=init.conversation_id, sequence_id="1", created_at_msec="2"
    )
    ev = dataclasses.replace(ev, signature=dataclasses.replace(ev.signature, **changes))
    return base64.b64encode(ev.encode()).decode()


@pytest.mark.parametrize("version", ["1", "0", "", "seven"])
def test_low_signature_version_rejected(alice, bob, version):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    with pytest.raises(kit.SignatureError, match="signature_version"):
        kit.read_key_change(
            _event_with_signature(init, alice, signature_version=version),
            recipient=bob,
            signing_keys=[alice.public_keys],
        )


def test_signature_version_6_accepted(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    got = kit.read_key_change(
        _event_with_signature(init, alice, signature_version="6"), recipient=bob, signing_keys=[alice.public_keys]
    )
    assert got.conversation_key == init.conversation_key


@pytest.mark.parametrize("label", ["2", "5"])
def test_key_change_labels_before_6_rejected(alice, bob, label):
    # before v6 a key change signed the wrapped-key list, which cannot be rebuilt (chatxdk: ECDSA mismatch)
    init = kit.prepare_key_init(alice, [bob.public_keys])
    with pytest.raises(kit.SignatureError, match=f"signature_version '{label}' is not accepted \\(minimum 6\\)"):
        kit.read_key_change(
            _event_with_signature(init, alice, signature_version=label), recipient=bob, signing_keys=[alice.public_keys]
        )


def test_signing_key_version_must_match(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    with pytest.raises(kit.SignatureError, match=f"no signing key for user {alice.user_id} at key version 99"):
        kit.read_key_change(
            _event_with_signature(init, alice, public_key_version="99"), recipient=bob, signing_keys=[alice.public_keys]
        )


def test_signer_binding_checked(alice, bob, carol):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    broken = dataclasses.replace(alice.public_keys, public_key=carol.public_keys.public_key)
    with pytest.raises(kit.SignatureError, match="identity_public_key_signature"):
        kit.read_key_change(_event(init, alice), recipient=bob, signing_keys=[broken])


def test_unsigned_event_rejected(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    ev = dataclasses.replace(
        key_change_event(
            init.body,
            sender_id=alice.user_id,
            conversation_id=init.conversation_id,
            sequence_id="1",
            created_at_msec="2",
        ),
        signature=None,
    )
    with pytest.raises(kit.SignatureError, match="carries no message_event_signature"):
        kit.read_key_change(ev.encode(), recipient=bob, signing_keys=[alice.public_keys])


def test_message_event_is_not_a_key_change(alice, bob):
    p = kit.prepare_message(alice, bob.user_id, "hi", conversation_key=bytes(32), conversation_key_version="1")
    mce = base64.b64decode(p.body["encoded_message_create_event"])
    ev = kit.thrift.MessageEvent(
        "1", p.message_id, alice.user_id, p.conversation_id, "2", b"\x0c\x00\x01" + mce + b"\x00"
    )
    with pytest.raises(kit.WireFormatError, match="is not a key change"):
        kit.read_key_change(ev.encode(), recipient=bob, signing_keys=[alice.public_keys])


def test_key_change_event_keeps_detail_bytes(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    ev = key_change_event(
        init.body, sender_id=alice.user_id, conversation_id=init.conversation_id, sequence_id="5", created_at_msec="6"
    )
    assert ev.detail == init.encoded_detail
    assert base64.b64encode(ev.detail).decode() == init.body["action_signatures"][0]["encoded_message_event_detail"]
    assert ev.signature.signature_version == "7"
    assert ev.signature.public_key_version == alice.version
    assert len(ev.signature.signature) == 86


def test_body_matches_detail(alice, bob, carol):
    init = kit.prepare_key_init(alice, [bob.public_keys, carol.public_keys], "g9")
    detail = kit.thrift.read_detail(base64.b64decode(init.body["action_signatures"][0]["encoded_message_event_detail"]))
    assert detail == init.detail
    assert detail.conversation_key_version == init.body["conversation_key_version"]
    assert [(p.user_id, p.encrypted_conversation_key, p.public_key_version) for p in detail.participant_keys] == [
        (p["user_id"], p["encrypted_conversation_key"], p["public_key_version"])
        for p in init.body["conversation_participant_keys"]
    ]
    assert detail.for_key_rotation is False
