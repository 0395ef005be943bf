"""Interop with the official SDK, PyPI `chatxdk` 0.5.2 (`import chat_xdk`), in both directions.

chatxdk is the oracle: what the kit writes must be read and verified by chatxdk, and what
chatxdk writes must be read and verified by the kit. Nothing here compares against bytes
written down by hand; the only fixed bytes live in tests/vectors (see test_vectors.py).

Sections: 1 key wrap, 2 keys / signatures / bindings, 3 Thrift detail and the init body,
4 kit → chatxdk events, 5 chatxdk → kit events, 6 groups and rotation.
Every test makes its own chatxdk instances (`latest_version` is sticky per instance).
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import time

import pytest
from chatxdk_helpers import (
    CREATED_AT,
    ENFORCED_SEQ,
    SEQ,
    b64,
    encode_public_key,
    flip_signature_bit,
    kit_key_change_envelope,
    kit_message_envelope,
    raw_event_signature,
    raw_message_event,
    sdk_from_identity,
    sdk_key_change_event,
    sdk_message_event,
    sdk_user,
    signing_entry,
    unb64,
    wrap_entry,
)

import kit
from kit import signature as ksig
from kit import thrift, wrap
from kit.ids import version_key
from kit.keys import SPKI_PREFIX
from kit.thrift import KeyChangeDetail, ParticipantKey

DAVE = "1707000000000000004"
ERIN = "1808000000000000005"
FRANK = "2009000000000000006"
GROUP = "g1862051711563718656"

ENCODINGS = ["spki", "sec1", "compressed"]
TEXTS = {
    "ascii": "hello bob",
    "non_ascii": "ça va? 🔐 日本語, Ωμέγα",
    "empty": "",
    "commas": "a, b,, c,",
    "newlines": "line 1\nline 2\r\n\ttabbed \x00 nul",
    "long": "lorem ipsum dolor sit amet " * 400,
}
_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _only_event(out: dict) -> dict:
    assert out["errors"] == {}, out["errors"]
    (item,) = out["messages"]
    return item["event"]


def _entries(res_or_body: dict) -> dict[str, dict]:
    rows = res_or_body.get("participant_keys") or res_or_body["conversation_participant_keys"]
    return {row["user_id"]: row for row in rows}


# ============================================================================ 1. key wrap


@pytest.mark.parametrize("form", ["base64", "bytes"])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_chatxdk_unwraps_kit_wrap(encoding, form):
    dave, erin = sdk_user(DAVE), sdk_user(ERIN)
    key = os.urandom(32)
    recipient = encode_public_key(dave.reg.public_key.public_key, encoding)
    wrapped = wrap.wrap(key, recipient if form == "base64" else unb64(recipient))
    assert len(wrapped) == wrap.WRAPPED_KEY_SIZE and wrapped[0] == 0x04
    assert dave.chat.decrypt_conversation_key(b64(wrapped)) == key
    # only the recipient can open it, and a changed byte breaks it
    with pytest.raises(ValueError, match="Decryption failed"):
        erin.chat.decrypt_conversation_key(b64(wrapped))
    tampered = bytearray(wrapped)
    tampered[70] ^= 0x80
    with pytest.raises(ValueError, match="Decryption failed"):
        dave.chat.decrypt_conversation_key(b64(bytes(tampered)))


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_chatxdk_unwraps_kit_wrap_steps(encoding):
    dave = sdk_user(DAVE)
    key = os.urandom(32)
    steps = wrap.wrap_steps(key, encode_public_key(dave.reg.public_key.public_key, encoding))
    assert steps.shared_secret == dave.as_kit_identity().exchange(steps.ephemeral_public)
    assert dave.chat.decrypt_conversation_key(b64(steps.wrapped)) == key


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_kit_unwraps_chatxdk_wrap(encoding, bob):
    dave = sdk_user(DAVE)
    res = dave.chat.prepare_conversation_key_change(
        [wrap_entry(dave.public_keys), wrap_entry(bob.public_keys, encoding)]
    )
    key = res["conversation_key"]
    entries = _entries(res)
    assert set(entries) == {DAVE, bob.user_id}
    assert bob.unwrap(entries[bob.user_id]["encrypted_key"]) == key
    assert bob.unwrap(unb64(entries[bob.user_id]["encrypted_key"])) == key  # raw 113 bytes too
    # the sender's own entry, opened by the kit holding chatxdk's exported private keys
    assert dave.as_kit_identity().unwrap(entries[DAVE]["encrypted_key"]) == key
    with pytest.raises(kit.DecryptionError):
        bob.unwrap(entries[DAVE]["encrypted_key"])


# ============================================================================ 2. keys, signatures, bindings


@pytest.fixture(params=["kit-made keys", "chatxdk-made keys"])
def same_keys(request, alice) -> tuple[kit.Identity, object]:
    """One identity held by both sides: (kit.Identity, chat_xdk.Chat) with the same private keys."""
    if request.param == "kit-made keys":
        return alice, sdk_from_identity(alice)  # kit export_keys -> chatxdk import_keys
    dave = sdk_user(DAVE)
    return dave.as_kit_identity(), dave.chat  # chatxdk export_keys -> kit Identity.import_keys


def _payloads() -> dict[str, bytes]:
    key = bytes(range(32))
    mid = "21c5347e-6cae-47cd-a4aa-8fde57a46f12"
    return {
        "empty": b"",
        "ascii": b"hello",
        "binary": bytes(range(256)),
        "long": b"x" * 10_000,
        "v7_key_change": ksig.key_change_payload(
            message_id=mid,
            sender_id=DAVE,
            conversation_id=f"{DAVE}:{ERIN}",
            conversation_key_version="1795545957535",
            conversation_key=key,
        ),
        "group_key_change": ksig.key_change_payload(
            message_id=mid,
            sender_id=DAVE,
            conversation_id=GROUP,
            conversation_key_version="1795545957536",
            conversation_key=key[::-1],
        ),
        "message": ksig.message_payload(
            message_id=mid,
            sender_id=DAVE,
            conversation_id=f"{DAVE}:{ERIN}",
            conversation_key_version="1795545957535",
            sealed=os.urandom(80),
        ),
    }


PAYLOADS = _payloads()


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_signatures_identical_and_cross_verify(same_keys, payload):
    ident, chat = same_keys
    mine = ident.sign(payload)
    theirs = chat.sign(payload)
    assert isinstance(theirs, bytes) and len(mine) == 64
    assert mine == theirs  # RFC 6979: byte for byte
    pk = ident.public_keys
    raw_signing = chat.get_public_keys().signing
    # chatxdk verifies the kit's signature (SPKI and raw signing key), the kit verifies chatxdk's
    assert chat.verify(pk.signing_public_key, mine, payload) is True
    assert chat.verify(raw_signing, mine, payload) is True
    ksig.verify(kit.keys.load_public_key(raw_signing), theirs, payload)
    ksig.verify(pk.signing_key, theirs, payload)
    # and both reject it over other bytes or under the identity key
    assert chat.verify(pk.signing_public_key, mine, payload + b"!") is False
    assert chat.verify(pk.public_key, mine, payload) is False
    with pytest.raises(kit.SignatureError):
        ksig.verify(pk.signing_key, theirs, payload + b"!")
    with pytest.raises(kit.SignatureError):
        ksig.verify(pk.identity_key, theirs, payload)


def test_high_s_signatures_are_kept_and_accepted(same_keys):
    """The SDK does not normalise S; neither may the kit, and its verifier must accept high S."""
    ident, chat = same_keys
    seen = set()
    for i in range(64):
        data = f"payload {i}".encode()
        sig = chat.sign(data)
        high = int.from_bytes(sig[32:], "big") > _N // 2
        seen.add(high)
        assert ident.sign(data) == sig
        ksig.verify(ident.public_keys.signing_key, sig, data)
        if seen == {True, False}:
            break
    assert seen == {True, False}


def test_public_keys_and_fingerprint_match(same_keys):
    ident, chat = same_keys
    pk = ident.public_keys
    sdk = chat.get_public_keys()  # raw 65-byte SEC1, base64
    ident_spki, signing_spki = unb64(pk.public_key), unb64(pk.signing_public_key)
    assert len(ident_spki) == 91 and ident_spki.startswith(SPKI_PREFIX)
    assert ident_spki.endswith(unb64(sdk.identity)) and len(unb64(sdk.identity)) == 65
    assert signing_spki.endswith(unb64(sdk.signing)) and signing_spki.startswith(SPKI_PREFIX)
    assert chat.get_public_key_fingerprint() == ident.fingerprint == pk.fingerprint
    assert kit.fingerprint(sdk.identity) == ident.fingerprint  # from the raw form too
    assert chat.matches_registered_key(pk.public_key) is True
    assert chat.matches_registered_key(pk.signing_public_key) is False


def test_bindings_verify_both_ways(same_keys, carol):
    ident, chat = same_keys
    pk = ident.public_keys
    # identity binding (signing key over identity SPKI): chatxdk's check, and the kit's
    assert chat.verify_key_binding(pk.public_key, pk.signing_public_key, pk.identity_public_key_signature) is True
    # reverse binding (identity key over signing SPKI)
    assert chat.verify(pk.public_key, unb64(pk.signing_public_key_signature), unb64(pk.signing_public_key)) is True
    pk.verify_binding()
    # the binding chatxdk makes for these keys is the kit's, byte for byte
    assert b64(chat.sign(unb64(pk.public_key))) == pk.identity_public_key_signature
    # someone else's binding signature is rejected by both
    other = carol.public_keys.identity_public_key_signature
    assert chat.verify_key_binding(pk.public_key, pk.signing_public_key, other) is False
    with pytest.raises(kit.SignatureError):
        dataclasses.replace(pk, identity_public_key_signature=other).verify_binding()
    with pytest.raises(kit.SignatureError):
        dataclasses.replace(
            pk, signing_public_key_signature=carol.public_keys.signing_public_key_signature
        ).verify_binding()


def test_registration_payload_identical():
    """chatxdk's registration payload, rebuilt by the kit from chatxdk's exported private keys."""
    dave = sdk_user(DAVE)
    body = dave.as_kit_identity().registration_body()
    p = dave.reg.public_key
    assert body["version"] == dave.reg.version
    assert body["public_key"] == {
        "public_key": p.public_key,
        "signing_public_key": p.signing_public_key,
        "identity_public_key_signature": p.identity_public_key_signature,
        "signing_public_key_signature": p.signing_public_key_signature,
        "public_key_fingerprint": p.public_key_fingerprint,
        "registration_method": p.registration_method,
    }
    dave.public_keys.verify_binding()  # the kit accepts chatxdk's bindings


def test_private_key_blob_round_trips(alice):
    blob = alice.export_keys()
    chat = sdk_from_identity(alice)
    assert bytes(chat.export_keys()) == blob
    dave = sdk_user(DAVE)
    assert dave.as_kit_identity().export_keys() == dave.export()


# ============================================================================ 3. Thrift detail and body shape


@pytest.mark.parametrize("n", [2, 3, 5])
def test_kit_reencodes_chatxdk_detail(n):
    users = [sdk_user(uid) for uid in (DAVE, ERIN, FRANK, "1000000000000000001", "99")[:n]]
    sender = users[0]
    res = sender.chat.prepare_conversation_key_change(
        [wrap_entry(u.public_keys) for u in users], conversation_id=None if n == 2 else GROUP
    )
    (act,) = res["action_signatures"]
    sdk_bytes = unb64(act["encoded_message_event_detail"])
    detail = thrift.read_detail(sdk_bytes)
    assert isinstance(detail, KeyChangeDetail)
    assert detail.conversation_key_version == res["conversation_key_version"]
    assert detail.for_key_rotation is False
    order = [p.user_id for p in detail.participant_keys]
    assert sorted(order) == sorted(u.user_id for u in users)
    # re-encode from chatxdk's JSON-level values, in the detail's participant order
    by_user = _entries(res)
    rebuilt = KeyChangeDetail(
        res["conversation_key_version"],
        tuple(ParticipantKey(uid, by_user[uid]["encrypted_key"], by_user[uid]["public_key_version"]) for uid in order),
    )
    assert rebuilt.encode() == sdk_bytes
    assert detail.encode() == sdk_bytes
    assert base64.b64encode(rebuilt.encode()).decode() == act["encoded_message_event_detail"]


def _shape(value: str) -> tuple:
    """How a wire string looks: length, padding, alphabet (not its content)."""
    return (len(value), value.endswith("="), bool(re.fullmatch(r"[0-9]+", value)), bool(_UUID.match(value)))


def test_kit_init_body_maps_to_sdk_shape(alice):
    dave = sdk_user(DAVE)
    res = dave.chat.prepare_conversation_key_change([wrap_entry(dave.public_keys), wrap_entry(alice.public_keys)])
    (sdk_act,) = res["action_signatures"]
    key, mid = os.urandom(32), "0b3c1f7e-52a4-4f0e-9d55-6c1d2b7a9e10"
    init = kit.prepare_key_init(
        alice,
        [alice.public_keys, dave.public_keys],
        version=res["conversation_key_version"],
        conversation_key=key,
        message_id=mid,
    )
    body = init.body
    assert init.conversation_key == key and init.message_id == mid
    assert init.conversation_id == res["conversation_id"]

    # top level: SDK name -> API name; the SDK's conversation_id / conversation_key are KeyInit attributes
    rename = {"participant_keys": "conversation_participant_keys"}
    assert {rename.get(k, k) for k in res} - {"conversation_id", "conversation_key"} == set(body)
    assert body["conversation_key_version"] == res["conversation_key_version"]

    # participant entries: encrypted_key -> encrypted_conversation_key; same users, versions and shapes
    rename_entry = {"encrypted_key": "encrypted_conversation_key"}
    sdk_entries, kit_entries = _entries(res), _entries(body)
    assert set(sdk_entries) == set(kit_entries) == {alice.user_id, DAVE}
    for uid, sdk_e in sdk_entries.items():
        kit_e = kit_entries[uid]
        assert {rename_entry.get(k, k) for k in sdk_e} == set(kit_e)
        assert kit_e["public_key_version"] == sdk_e["public_key_version"]
        assert (
            _shape(kit_e["encrypted_conversation_key"]) == _shape(sdk_e["encrypted_key"]) == (152, True, False, False)
        )
        assert kit_e["encrypted_conversation_key"][0] == sdk_e["encrypted_key"][0] == "B"

    # the action signature: the SDK's flat dict is the API's nested message_event_signature
    (kit_act,) = body["action_signatures"]
    mes = kit_act["message_event_signature"]
    flat = {**{k: v for k, v in kit_act.items() if k != "message_event_signature"}, **mes}
    assert set(flat) == set(sdk_act)
    for name in ("message_id", "signature", "signature_version"):
        assert _shape(flat[name]) == _shape(sdk_act[name]), name
    assert mes["signature_version"] == sdk_act["signature_version"] == "7"
    assert sdk_act["public_key_version"] == dave.version and mes["public_key_version"] == alice.version
    assert len(kit_act["encoded_message_event_detail"]) == len(sdk_act["encoded_message_event_detail"])

    # the two details decode alike, and the kit's equals the kit encoding of its own body
    kit_detail = thrift.read_detail(unb64(kit_act["encoded_message_event_detail"]))
    sdk_detail = thrift.read_detail(unb64(sdk_act["encoded_message_event_detail"]))
    assert kit_detail == init.detail
    assert kit_detail.conversation_key_version == sdk_detail.conversation_key_version
    assert kit_detail.for_key_rotation == sdk_detail.for_key_rotation
    assert {(p.user_id, p.public_key_version) for p in kit_detail.participant_keys} == {
        (p.user_id, p.public_key_version) for p in sdk_detail.participant_keys
    }
    assert [p.user_id for p in kit_detail.participant_keys] == [
        e["user_id"] for e in body["conversation_participant_keys"]
    ]
    # chatxdk signing the same v7 payload with alice's keys gives the body's signature
    payload = ksig.key_change_payload(
        message_id=mid,
        sender_id=alice.user_id,
        conversation_id=res["conversation_id"],
        conversation_key_version=res["conversation_key_version"],
        conversation_key=key,
    )
    assert ksig.encode_signature(sdk_from_identity(alice).sign(payload)) == mes["signature"]
    # and each wrapped key opens in chatxdk / the kit
    assert dave.chat.decrypt_conversation_key(kit_entries[DAVE]["encrypted_conversation_key"]) == key
    assert alice.unwrap(kit_entries[alice.user_id]["encrypted_conversation_key"]) == key


def test_kit_envelope_matches_hand_built_recipe(alice):
    dave = sdk_user(DAVE)
    init = kit.prepare_key_init(alice, [dave.public_keys])
    ev = unb64(kit_key_change_envelope(init, alice.user_id))
    mes = init.body["action_signatures"][0]["message_event_signature"]
    assert ev == raw_message_event(
        seq=str(SEQ),
        message_id=init.message_id,
        sender_id=alice.user_id,
        conversation_id=init.conversation_id,
        created_at_msec=CREATED_AT,
        detail=init.encoded_detail,
        signature_struct=raw_event_signature(mes["signature"], mes["public_key_version"], mes["signature_version"]),
    )
    back = thrift.read_message_event(ev)
    assert back.detail == init.encoded_detail and back.extra_fields == ()


@pytest.mark.parametrize("options", [{}, {"ttl_msec": 60000, "should_notify": False}, {"ttl_msec": 1}])
def test_kit_thrift_matches_chatxdk_message_structs(options):
    dave = sdk_user(DAVE)
    res = dave.chat.prepare_conversation_key_change(
        [wrap_entry(dave.public_keys), wrap_entry(sdk_user(ERIN).public_keys)]
    )
    sp = dave.chat.encrypt_message(
        res["conversation_id"],
        "hi",
        conversation_key=res["conversation_key"],
        conversation_key_version=res["conversation_key_version"],
        **options,
    )
    mce_raw, mes_raw = unb64(sp.encrypted_content), unb64(sp.encoded_event_signature)
    mce = thrift.read_message_create_event(mce_raw)
    assert mce.conversation_key_version == res["conversation_key_version"]
    assert mce.should_notify is options.get("should_notify", True)
    assert mce.ttl_msec == options.get("ttl_msec")
    assert mce.encode() == mce_raw
    sig = thrift.read_event_signature(mes_raw)
    assert (sig.signature, sig.public_key_version, sig.signature_version) == (
        sp.signature,
        sp.signature_info.public_key_version,
        sp.signature_info.signature_version,
    )
    assert sig.encode() == mes_raw
    # and the kit opens the sealed contents to the same text
    assert kit.message.open_text(mce.contents, res["conversation_key"]) == "hi"


@pytest.mark.parametrize(
    ("a", "b"), [("9", "10"), ("99", "1215441834412953600"), ("1001", "1001")]
)
def test_conversation_id_order_matches_chatxdk(a, b):
    """The canonical 1:1 id (signed, and stored in events) is chatxdk's, also for odd user ids."""
    dave = sdk_user(a)
    entry = lambda uid: {"user_id": uid, "public_key": dave.reg.public_key.public_key, "key_version": dave.version}  # noqa: E731
    for x, y in ((a, b), (b, a)):
        sdk_id = dave.chat.prepare_conversation_key_change([entry(x), entry(y)], conversation_id=f"{x}:{y}")[
            "conversation_id"
        ]
        assert kit.ConversationId.pair(x, y).canonical == sdk_id
        assert kit.ConversationId.parse(f"{x}-{y}").canonical == sdk_id


@pytest.mark.parametrize(("a", "b"), [("0011", "12"), ("010", "10")])
def test_leading_zero_user_ids_are_refused_by_the_kit(a, b):
    """chatxdk orders "0011" by (length, text); the kit refuses the spelling outright: "010" is
    not a second user 10 (the X API's user ids have no leading zero)."""
    for x, y in ((a, b), (b, a)):
        with pytest.raises(kit.WireFormatError, match="no leading zero"):
            kit.ConversationId.pair(x, y)
        with pytest.raises(kit.WireFormatError, match="no leading zero"):
            kit.ConversationId.parse(f"{x}-{y}")


def test_duplicate_participants_resolved_like_chatxdk():
    """A user listed twice keeps the entry with the highest key version, in the kit as in chatxdk."""
    dave, erin, erin_new = sdk_user(DAVE), sdk_user(ERIN), sdk_user(ERIN)
    newer = dataclasses.replace(erin_new.public_keys, version=str(int(erin.version) + 10))
    older = dataclasses.replace(erin.public_keys, version=str(int(erin.version) + 9))
    for order in ([older, newer], [newer, older]):
        res = dave.chat.prepare_conversation_key_change(
            [wrap_entry(dave.public_keys)] + [wrap_entry(pk) for pk in order]
        )
        init = kit.prepare_key_init(dave.as_kit_identity(), [dave.public_keys, *order], verify_bindings=False)
        want = {(e["user_id"], e["public_key_version"]) for e in res["participant_keys"]}
        assert {(e["user_id"], e["public_key_version"]) for e in init.body["conversation_participant_keys"]} == want
        assert (ERIN, newer.version) in want
        # and only the newer record's private key opens erin's entry, on both sides
        assert erin_new.chat.decrypt_conversation_key(_entries(res)[ERIN]["encrypted_key"]) == res["conversation_key"]
        assert (
            erin_new.chat.decrypt_conversation_key(_entries(init.body)[ERIN]["encrypted_conversation_key"])
            == init.conversation_key
        )


def test_large_roster_init_opens_in_chatxdk():
    """Rosters big enough for the kit's multi-core wrap: chatxdk opens every participant's wrapped key.

    The second init finds the wrap helper process (if the machine has a spare core) already running,
    so part of its roster is wrapped there; every entry is checked, wherever it was wrapped. To keep
    it fast, 600 user ids share the identity keys of four chatxdk instances.
    """
    sender = sdk_user(DAVE)
    holders = [sdk_user(uid) for uid in (ERIN, FRANK, "1000000000000000001", "1000000000000000002")]
    roster = [sender.public_keys] + [
        dataclasses.replace(holders[i % 4].public_keys, user_id=str(3_000_000_000 + i)) for i in range(600)
    ]
    for _ in range(2):
        init = kit.prepare_key_init(sender.as_kit_identity(), roster, GROUP, verify_bindings=False)
        rows = init.body["conversation_participant_keys"]
        assert [e["user_id"] for e in rows] == [pk.user_id for pk in roster]
        for i, row in enumerate(rows[1:]):
            opened = holders[i % 4].chat.decrypt_conversation_key(row["encrypted_conversation_key"])
            assert opened == init.conversation_key, row["user_id"]
        blobs = [unb64(e["encrypted_conversation_key"]) for e in rows]
        assert len({x[:65] for x in blobs}) == len(blobs)  # a fresh ephemeral key for every wrap
        out = sender.chat.decrypt_events([kit_key_change_envelope(init, DAVE)], [signing_entry(sender.public_keys)])
        assert _only_event(out)["verified"] is True
        assert out["conversation_keys"]["keys"] == {init.conversation_key_version: init.conversation_key}


# ============================================================================ 4. kit -> chatxdk


@pytest.mark.parametrize("spelling", ["derived", "a:b", "b:a", "a-b", "b-a", "bare"])
def test_chatxdk_accepts_kit_key_change(alice, spelling):
    dave = sdk_user(DAVE)
    a, b = alice.user_id, DAVE
    conv = {"derived": None, "a:b": f"{a}:{b}", "b:a": f"{b}:{a}", "a-b": f"{a}-{b}", "b-a": f"{b}-{a}", "bare": b}[
        spelling
    ]
    init = kit.prepare_key_init(alice, [alice.public_keys, dave.public_keys], conv)
    ev = kit_key_change_envelope(init, alice.user_id)
    out = dave.chat.decrypt_events([ev], [signing_entry(alice.public_keys)])
    e = _only_event(out)
    assert e["type"] == "KeyChange" and e["verified"] is True
    assert e["id"] == init.message_id and e["sender_id"] == alice.user_id
    assert e["conversation_id"] == init.conversation_id == f"{alice.user_id}:{DAVE}"
    assert e["key_version"] == init.conversation_key_version
    assert e["sequence_id"] == str(SEQ) and e["created_at_msec"] == int(CREATED_AT)
    assert sorted((p["user_id"], p["encrypted_key"], p["public_key_version"]) for p in e["participant_keys"]) == sorted(
        (p["user_id"], p["encrypted_conversation_key"], p["public_key_version"])
        for p in init.body["conversation_participant_keys"]
    )
    assert out["conversation_keys"] == {
        "keys": {init.conversation_key_version: init.conversation_key},
        "latest_version": init.conversation_key_version,
    }
    # decrypt_event (single) verifies it too, and the sender verifies her own event
    single = dave.chat.decrypt_event(ev, None, [signing_entry(alice.public_keys)])
    assert single["verified"] is True and single["key_version"] == init.conversation_key_version
    own = sdk_from_identity(alice).decrypt_events([ev], [signing_entry(alice.public_keys)])
    assert _only_event(own)["verified"] is True
    assert own["conversation_keys"]["keys"] == {init.conversation_key_version: init.conversation_key}


def _forge_key_change(how: str, alice: kit.Identity, roster: list[kit.PublicKeys]) -> tuple[kit.KeyInit, str]:
    """A key change claiming to be alice's that must not verify, and the key it carries."""
    init = kit.prepare_key_init(alice, roster)
    body, env = init.body, {}
    act = body["action_signatures"][0]
    mes = act["message_event_signature"]
    if how == "other_signer":  # mallory claims alice's user id and key version
        mallory = kit.Identity.from_seed("mallory (demo only)", alice.user_id, version=alice.version)
        init = kit.prepare_key_init(mallory, roster)
        body = init.body
    elif how == "flipped_signature_bit":
        body = {
            **body,
            "action_signatures": [
                {**act, "message_event_signature": {**mes, "signature": flip_signature_bit(mes["signature"])}}
            ],
        }
    elif how == "other_message_id":
        body = {**body, "action_signatures": [{**act, "message_id": "11111111-2222-4333-8444-555555555555"}]}
    elif how == "signed_other_key":  # a valid alice signature, but over a different plaintext key
        payload = ksig.key_change_payload(
            message_id=init.message_id,
            sender_id=alice.user_id,
            conversation_id=init.conversation_id,
            conversation_key_version=init.conversation_key_version,
            conversation_key=os.urandom(32),
        )
        sig = ksig.encode_signature(alice.sign(payload))
        body = {**body, "action_signatures": [{**act, "message_event_signature": {**mes, "signature": sig}}]}
    elif how == "replayed_as_newer_version":  # same entries and signature, detail claims a newer version
        newer = str(version_key(init.conversation_key_version) + 1)
        detail = dataclasses.replace(init.detail, conversation_key_version=newer)
        body = {**body, "action_signatures": [{**act, "encoded_message_event_detail": b64(detail.encode())}]}
        init = dataclasses.replace(init, conversation_key_version=newer)
    elif how == "hyphen_conversation_id":
        env = {"conversation_id": init.path_id}
    else:  # pragma: no cover
        raise AssertionError(how)
    init = dataclasses.replace(init, body=body)
    return init, kit_key_change_envelope(init, alice.user_id, seq=ENFORCED_SEQ, **env)


FORGERIES = [
    "other_signer",
    "flipped_signature_bit",
    "other_message_id",
    "signed_other_key",
    "replayed_as_newer_version",
    "hyphen_conversation_id",
]


@pytest.mark.parametrize("how", FORGERIES)
def test_chatxdk_rejects_forged_kit_key_change(how, alice):
    dave = sdk_user(DAVE)
    init, ev = _forge_key_change(how, alice, [alice.public_keys, dave.public_keys])
    # the forged event still carries a key dave can unwrap: only the signature is wrong
    detail = thrift.read_detail(unb64(init.body["action_signatures"][0]["encoded_message_event_detail"]))
    entry = next(p for p in detail.participant_keys if p.user_id == DAVE)
    assert dave.chat.decrypt_conversation_key(entry.encrypted_conversation_key) == init.conversation_key
    # a message under that key, by the real alice
    pm = kit.prepare_message(
        alice,
        init.conversation_id,
        "after a forged key change",
        conversation_key=init.conversation_key,
        conversation_key_version=init.conversation_key_version,
    )
    out = dave.chat.decrypt_events(
        [ev, kit_message_envelope(pm, alice.user_id, seq=ENFORCED_SEQ + 1)], [signing_entry(alice.public_keys)]
    )
    assert out["messages"] == []
    assert set(out["errors"]) == {"0", "1"}
    assert "signature" in out["errors"]["0"].lower() or "mismatch" in out["errors"]["0"].lower()
    assert "no matching key" in out["errors"]["1"]
    assert out["conversation_keys"]["keys"] == {}
    assert out["conversation_keys"]["latest_version"] is None
    with pytest.raises(ValueError):
        dave.chat.decrypt_event(ev, None, [signing_entry(alice.public_keys)])
    # the kit agrees: a SignatureError for every forgery
    with pytest.raises(kit.SignatureError):
        kit.read_key_change(ev, recipient=dave.as_kit_identity(), signing_keys=[alice.public_keys])


def test_chatxdk_adopts_an_unverified_key_change_below_its_threshold(alice):
    """Below ENFORCED_SEQ the SDK records the bad signature but still adopts the key, for decryption (05 says so)."""
    dave = sdk_user(DAVE)
    init, _ = _forge_key_change("other_signer", alice, [alice.public_keys, dave.public_keys])
    ev = kit_key_change_envelope(init, alice.user_id, seq=ENFORCED_SEQ - 1)
    pm = kit.prepare_message(alice, init.conversation_id, "under an unverified key", conversation_key=init.conversation_key,
                             conversation_key_version=init.conversation_key_version)  # fmt: skip
    out = dave.chat.decrypt_events([ev, kit_message_envelope(pm, alice.user_id, seq=ENFORCED_SEQ)], [signing_entry(alice.public_keys)])
    assert set(out["errors"]) == {"0"}  # the key change's signature fails, and is reported
    assert out["conversation_keys"]["keys"] == {init.conversation_key_version: init.conversation_key}  # adopted anyway
    assert [m["event"]["content"]["text"] for m in out["messages"]] == ["under an unverified key"]
    # the kit never adopts it, whatever the sequence id
    with pytest.raises(kit.SignatureError):
        kit.read_key_change(ev, recipient=dave.as_kit_identity(), signing_keys=[alice.public_keys])
    # and the sandbox's sequence ids start above the threshold
    from kit.sandbox.store import SEQUENCE_BASE

    assert SEQUENCE_BASE >= ENFORCED_SEQ


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_chatxdk_decrypts_kit_message(alice, text):
    dave = sdk_user(DAVE)
    init = kit.prepare_key_init(alice, [alice.public_keys, dave.public_keys])
    pm = kit.prepare_message(
        alice,
        init.path_id,
        text,
        conversation_key=init.conversation_key,
        conversation_key_version=init.conversation_key_version,
    )
    assert pm.conversation_id == init.conversation_id
    events = [kit_key_change_envelope(init, alice.user_id), kit_message_envelope(pm, alice.user_id)]
    out = dave.chat.decrypt_events(events, [signing_entry(alice.public_keys)])
    assert out["errors"] == {}, out["errors"]
    kc, msg = (m["event"] for m in out["messages"])
    assert kc["type"] == "KeyChange" and kc["verified"] is True
    assert msg["type"] == "Message" and msg["verified"] is True
    assert msg["content"] == {"content_type": "Text", "text": text}
    assert msg["id"] == pm.message_id and msg["sender_id"] == alice.user_id
    assert msg["conversation_id"] == init.conversation_id
    assert msg["key_version"] == init.conversation_key_version
    assert msg["should_notify"] is True and msg["ttl_msec"] is None
    # decrypt_event with an explicit key map
    single = dave.chat.decrypt_event(
        events[1], {init.conversation_key_version: init.conversation_key}, [signing_entry(alice.public_keys)]
    )
    assert single["verified"] is True and single["content"]["text"] == text


@pytest.mark.parametrize("spelling", ["a:b", "b:a", "a-b", "b-a", "bare"])
def test_chatxdk_verifies_kit_message_for_any_id_spelling(alice, spelling):
    dave = sdk_user(DAVE)
    key, version = os.urandom(32), kit.new_version()
    a, b = alice.user_id, DAVE
    conv = {"a:b": f"{a}:{b}", "b:a": f"{b}:{a}", "a-b": f"{a}-{b}", "b-a": f"{b}-{a}", "bare": b}[spelling]
    pm = kit.prepare_message(alice, conv, "spelled", conversation_key=key, conversation_key_version=version)
    ev = kit_message_envelope(pm, alice.user_id, conversation_id=f"{min(a, b, key=int)}:{max(a, b, key=int)}")
    got = dave.chat.decrypt_event(ev, {version: key}, [signing_entry(alice.public_keys)])
    assert got["verified"] is True and got["content"]["text"] == "spelled"


def test_chatxdk_reads_kit_message_ttl(alice):
    dave = sdk_user(DAVE)
    key, version = os.urandom(32), kit.new_version()
    pm = kit.prepare_message(
        alice, DAVE, "short-lived", conversation_key=key, conversation_key_version=version, ttl_msec=60000
    )
    got = dave.chat.decrypt_event(
        kit_message_envelope(pm, alice.user_id), {version: key}, [signing_entry(alice.public_keys)]
    )
    assert got["verified"] is True and got["ttl_msec"] == 60000 and got["content"]["text"] == "short-lived"


@pytest.mark.parametrize("how", ["swapped_contents", "flipped_signature_bit", "other_signer"])
def test_chatxdk_and_kit_reject_forged_kit_message(how, alice):
    dave = sdk_user(DAVE)
    key, version = os.urandom(32), kit.new_version()
    pm = kit.prepare_message(alice, DAVE, "the real text", conversation_key=key, conversation_key_version=version)
    body = dict(pm.body)
    if how == "swapped_contents":  # another sealed text under the same key, original signature
        other = kit.prepare_message(
            alice, DAVE, "a forged text", conversation_key=key, conversation_key_version=version
        )
        body["encoded_message_create_event"] = other.body["encoded_message_create_event"]
    elif how == "flipped_signature_bit":
        mes = thrift.read_event_signature(unb64(body["encoded_message_event_signature"]))
        body["encoded_message_event_signature"] = b64(
            dataclasses.replace(mes, signature=flip_signature_bit(mes.signature)).encode()
        )
    else:  # mallory claims alice's user id and key version and signs with her own key
        mallory = kit.Identity.from_seed("mallory (demo only)", alice.user_id, version=alice.version)
        body = kit.prepare_message(
            mallory, DAVE, "the real text", conversation_key=key, conversation_key_version=version
        ).body
    ev = kit_message_envelope(dataclasses.replace(pm, body=body), alice.user_id)
    keys = [signing_entry(alice.public_keys)]
    with pytest.raises(ValueError, match="(?i)signature|mismatch"):
        dave.chat.decrypt_event(ev, {version: key}, keys)
    with pytest.raises(kit.SignatureError):
        kit.read_message(ev, conversation_key=key, signing_keys=[alice.public_keys])
    # the untouched message passes both
    good = kit_message_envelope(pm, alice.user_id)
    assert dave.chat.decrypt_event(good, {version: key}, keys)["content"]["text"] == "the real text"
    assert kit.read_message(good, conversation_key=key, signing_keys=[alice.public_keys]).text == "the real text"


def _relabel(init: kit.KeyInit, signature_version: str) -> kit.KeyInit:
    act = init.body["action_signatures"][0]
    mes = {**act["message_event_signature"], "signature_version": signature_version}
    return dataclasses.replace(init, body={**init.body, "action_signatures": [{**act, "message_event_signature": mes}]})


@pytest.mark.parametrize("label", ["2", "5", "6", "7", "8", "10"])
def test_message_signature_version_labels_agree(alice, label):
    """Message payloads have one layout from v2 on: both sides accept any label >= 2."""
    dave = sdk_user(DAVE)
    key, version = os.urandom(32), kit.new_version()
    pm = kit.prepare_message(alice, DAVE, "labelled", conversation_key=key, conversation_key_version=version)
    mes = thrift.read_event_signature(unb64(pm.body["encoded_message_event_signature"]))
    body = {
        **pm.body,
        "encoded_message_event_signature": b64(dataclasses.replace(mes, signature_version=label).encode()),
    }
    ev = kit_message_envelope(dataclasses.replace(pm, body=body), alice.user_id)
    assert dave.chat.decrypt_event(ev, {version: key}, [signing_entry(alice.public_keys)])["verified"] is True
    assert kit.read_message(ev, conversation_key=key, signing_keys=[alice.public_keys]).text == "labelled"


@pytest.mark.parametrize("label", ["6", "7", "8", "10"])
def test_key_change_signature_version_labels_from_6_agree(alice, label):
    dave = sdk_user(DAVE)
    init = _relabel(kit.prepare_key_init(alice, [dave.public_keys]), label)
    ev = kit_key_change_envelope(init, alice.user_id)
    assert _only_event(dave.chat.decrypt_events([ev], [signing_entry(alice.public_keys)]))["verified"] is True
    kc = kit.read_key_change(ev, recipient=dave.as_kit_identity(), signing_keys=[alice.public_keys])
    assert kc.conversation_key == init.conversation_key


# chatxdk checks a key-change signature labelled 2..5 against the pre-v6 payload (the wrapped-key
# list) and reports 'ECDSA mismatch'; the kit refuses those labels too.
@pytest.mark.parametrize("label", ["2", "5"])
def test_key_change_signature_version_labels_below_6(alice, label):
    dave = sdk_user(DAVE)
    init = _relabel(kit.prepare_key_init(alice, [dave.public_keys]), label)
    ev = kit_key_change_envelope(init, alice.user_id)
    out = dave.chat.decrypt_events([ev], [signing_entry(alice.public_keys)])
    assert out["messages"] == [] and "ECDSA mismatch" in out["errors"]["0"]
    with pytest.raises(kit.SignatureError, match="minimum 6"):
        kit.read_key_change(ev, recipient=dave.as_kit_identity(), signing_keys=[alice.public_keys])


# ============================================================================ 5. chatxdk -> kit


def test_kit_reads_chatxdk_key_change(bob):
    dave = sdk_user(DAVE)
    res = dave.chat.prepare_conversation_key_change([wrap_entry(dave.public_keys), wrap_entry(bob.public_keys)])
    ev = b64(sdk_key_change_event(res, DAVE).encode())
    kc = kit.read_key_change(ev, recipient=bob, signing_keys=[dave.public_keys])
    assert kc.conversation_key == res["conversation_key"]
    assert kc.conversation_key_version == res["conversation_key_version"]
    assert kc.sender_id == DAVE and kc.conversation_id == res["conversation_id"]
    assert kc.message_id == res["action_signatures"][0]["message_id"] and kc.sequence_id == str(SEQ)
    # the same envelope verifies in chatxdk (so the kit is judged on a faithful event)
    assert (
        _only_event(sdk_from_identity(bob).decrypt_events([ev], [signing_entry(dave.public_keys)]))["verified"] is True
    )
    # and the sender, as a kit identity, reads her own key change
    assert (
        kit.read_key_change(ev, recipient=dave.as_kit_identity(), signing_keys=[dave.public_keys]).conversation_key
        == res["conversation_key"]
    )


@pytest.mark.parametrize(
    "how", ["other_signer", "flipped_signature_bit", "hyphen_conversation_id", "other_key_version"]
)
def test_kit_rejects_forged_chatxdk_key_change(how, bob):
    dave = sdk_user(DAVE)
    entries = [wrap_entry(dave.public_keys), wrap_entry(bob.public_keys)]
    res = dave.chat.prepare_conversation_key_change(entries)
    event = sdk_key_change_event(res, DAVE, seq=ENFORCED_SEQ)
    if how == "other_signer":  # another chatxdk user claiming dave's id and key version
        mallory = sdk_user(DAVE)
        mallory.chat.set_identity(DAVE, dave.version)
        res = mallory.chat.prepare_conversation_key_change(entries)
        event = sdk_key_change_event(res, DAVE, seq=ENFORCED_SEQ)
    elif how == "flipped_signature_bit":
        event = dataclasses.replace(
            event,
            signature=dataclasses.replace(event.signature, signature=flip_signature_bit(event.signature.signature)),
        )
    elif how == "hyphen_conversation_id":
        event = dataclasses.replace(event, conversation_id=event.conversation_id.replace(":", "-"))
    else:
        event = dataclasses.replace(event, signature=dataclasses.replace(event.signature, public_key_version="42"))
    ev = b64(event.encode())
    assert bob.unwrap(_entries(res)[bob.user_id]["encrypted_key"]) == res["conversation_key"]
    with pytest.raises(kit.SignatureError):
        kit.read_key_change(ev, recipient=bob, signing_keys=[dave.public_keys])
    # chatxdk agrees: not verified, key not adopted
    out = sdk_from_identity(bob).decrypt_events([ev], [signing_entry(dave.public_keys)])
    assert out["messages"] == [] and set(out["errors"]) == {"0"} and out["conversation_keys"]["keys"] == {}


def test_recipient_key_version_must_match_both_ways(bob):
    """An entry wrapped to an older key version of mine is not mine: the kit and chatxdk both skip it."""
    dave = sdk_user(DAVE)
    res = dave.chat.prepare_conversation_key_change([wrap_entry(dave.public_keys), wrap_entry(bob.public_keys)])
    ev = b64(sdk_key_change_event(res, DAVE).encode())
    bob_v2 = kit.Identity.import_keys(bob.export_keys(), user_id=bob.user_id, version="2")  # same keys, newer record
    with pytest.raises(kit.KeyNotFoundError):
        kit.read_key_change(ev, recipient=bob_v2, signing_keys=[dave.public_keys])
    out = sdk_from_identity(bob_v2).decrypt_events([ev], [signing_entry(dave.public_keys)])
    assert out["conversation_keys"]["keys"] == {}
    # at the version the entry names, both take it
    assert (
        kit.read_key_change(ev, recipient=bob, signing_keys=[dave.public_keys]).conversation_key
        == res["conversation_key"]
    )
    out = sdk_from_identity(bob).decrypt_events([ev], [signing_entry(dave.public_keys)])
    assert out["conversation_keys"]["keys"] == {res["conversation_key_version"]: res["conversation_key"]}
    # kit -> chatxdk: the kit wraps to dave's registered version; dave at another version gets nothing
    init = kit.prepare_key_init(bob, [dave.public_keys])
    kc = kit_key_change_envelope(init, bob.user_id)
    stale = sdk_from_identity(dave.as_kit_identity())
    stale.set_identity(DAVE, str(int(dave.version) + 1))
    assert stale.decrypt_events([kc], [signing_entry(bob.public_keys)])["conversation_keys"]["keys"] == {}
    assert dave.chat.decrypt_events([kc], [signing_entry(bob.public_keys)])["conversation_keys"]["keys"] == {
        init.conversation_key_version: init.conversation_key
    }


@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
def test_kit_reads_chatxdk_message(bob, text):
    dave = sdk_user(DAVE)
    res = dave.chat.prepare_conversation_key_change([wrap_entry(dave.public_keys), wrap_entry(bob.public_keys)])
    key, version, conv = res["conversation_key"], res["conversation_key_version"], res["conversation_id"]
    sp = dave.chat.encrypt_message(conv, text, conversation_key=key, conversation_key_version=version)
    ev = b64(sdk_message_event(sp, DAVE, conv).encode())
    msg = kit.read_message(ev, conversation_key=key, signing_keys=[dave.public_keys])
    assert msg.text == text
    assert msg.sender_id == DAVE and msg.message_id == sp.message_id
    assert msg.conversation_id == conv and msg.conversation_key_version == version
    assert kit.read_message(ev, conversation_key={version: key}, signing_keys=[dave.public_keys]).text == text
    # the whole chatxdk flow (key change + message) read by the kit as bob
    kc = kit.read_key_change(
        b64(sdk_key_change_event(res, DAVE).encode()), recipient=bob, signing_keys=[dave.public_keys]
    )
    assert kit.read_message(ev, conversation_key=kc.conversation_key, signing_keys=[dave.public_keys]).text == text


@pytest.mark.parametrize("how", ["flipped_signature_bit", "swapped_contents", "other_signer", "other_conversation"])
def test_kit_rejects_forged_chatxdk_message(how, bob):
    dave, erin = sdk_user(DAVE), sdk_user(ERIN)
    res = dave.chat.prepare_conversation_key_change([wrap_entry(dave.public_keys), wrap_entry(bob.public_keys)])
    key, version, conv = res["conversation_key"], res["conversation_key_version"], res["conversation_id"]
    sp = dave.chat.encrypt_message(conv, "genuine", conversation_key=key, conversation_key_version=version)
    event = sdk_message_event(sp, DAVE, conv)
    if how == "flipped_signature_bit":
        event = dataclasses.replace(
            event,
            signature=dataclasses.replace(event.signature, signature=flip_signature_bit(event.signature.signature)),
        )
    elif how == "swapped_contents":
        other = dave.chat.encrypt_message(conv, "forged", conversation_key=key, conversation_key_version=version)
        event = dataclasses.replace(event, detail=sdk_message_event(other, DAVE, conv).detail)
    elif how == "other_signer":  # another chatxdk user claiming dave's id and key version
        mallory = sdk_user(DAVE)
        mallory.chat.set_identity(DAVE, dave.version)
        other = mallory.chat.encrypt_message(conv, "genuine", conversation_key=key, conversation_key_version=version)
        event = sdk_message_event(other, DAVE, conv)
    else:
        event = dataclasses.replace(event, conversation_id=f"{ERIN}:{FRANK}")
    ev = b64(event.encode())
    keys = [dave.public_keys, erin.public_keys]
    assert (
        kit.read_message(b64(sdk_message_event(sp, DAVE, conv).encode()), conversation_key=key, signing_keys=keys).text
        == "genuine"
    )
    with pytest.raises(kit.SignatureError):
        kit.read_message(ev, conversation_key=key, signing_keys=keys)
    with pytest.raises(ValueError):
        sdk_from_identity(bob).decrypt_event(ev, {version: key}, [signing_entry(pk) for pk in keys])


# ============================================================================ 6. groups and rotation


@pytest.mark.parametrize("kind", ["pair", "group"])
def test_rotation_kit_to_chatxdk(kind, alice, bob):
    sdk_users = [sdk_user(uid) for uid in ((DAVE,) if kind == "pair" else (DAVE, ERIN, FRANK))]
    roster = [alice.public_keys] + [u.public_keys for u in sdk_users] + ([bob.public_keys] if kind == "group" else [])
    conv = GROUP if kind == "group" else None
    first = kit.prepare_key_init(alice, roster, conv)
    second = kit.prepare_key_init(alice, roster, conv)  # rotation: same roster, newer version, fresh key
    assert version_key(second.conversation_key_version) > version_key(first.conversation_key_version)
    assert second.conversation_key != first.conversation_key
    assert first.conversation_id == second.conversation_id == (GROUP if kind == "group" else f"{alice.user_id}:{DAVE}")
    assert len(first.body["conversation_participant_keys"]) == len(roster)
    msgs = [
        kit.prepare_message(
            alice,
            first.conversation_id,
            text,
            conversation_key=i.conversation_key,
            conversation_key_version=i.conversation_key_version,
        )
        for text, i in (("under the first key", first), ("under the second key", second))
    ]
    events = [
        kit_key_change_envelope(first, alice.user_id, seq=SEQ),
        kit_message_envelope(msgs[0], alice.user_id, seq=SEQ + 1),
        kit_key_change_envelope(second, alice.user_id, seq=SEQ + 2),
        kit_message_envelope(msgs[1], alice.user_id, seq=SEQ + 3),
    ]
    expected_keys = {
        first.conversation_key_version: first.conversation_key,
        second.conversation_key_version: second.conversation_key,
    }
    for u in sdk_users:
        out = u.chat.decrypt_events(events, [signing_entry(alice.public_keys)])
        assert out["errors"] == {}, out["errors"]
        assert [m["event"]["verified"] for m in out["messages"]] == [True] * 4
        texts = [m["event"]["content"]["text"] for m in out["messages"] if m["event"]["type"] == "Message"]
        assert texts == ["under the first key", "under the second key"]
        assert out["conversation_keys"] == {"keys": expected_keys, "latest_version": second.conversation_key_version}
    # a fresh instance given the events newest first still picks the newer version
    again = sdk_from_identity(sdk_users[-1].as_kit_identity()).decrypt_events(
        events[::-1], [signing_entry(alice.public_keys)]
    )
    assert again["errors"] == {} and again["conversation_keys"]["latest_version"] == second.conversation_key_version
    # and an older key change alone, after the newer one, does not move latest_version back
    late = sdk_from_identity(sdk_users[0].as_kit_identity())
    late.decrypt_events([events[2]], [signing_entry(alice.public_keys)])
    assert (
        late.decrypt_events([events[0]], [signing_entry(alice.public_keys)])["conversation_keys"]["latest_version"]
        == second.conversation_key_version
    )


@pytest.mark.parametrize("kind", ["pair", "group"])
def test_rotation_chatxdk_to_kit(kind, bob, carol):
    dave, erin = sdk_user(DAVE), sdk_user(ERIN)
    members = [dave.public_keys, bob.public_keys] + ([erin.public_keys, carol.public_keys] if kind == "group" else [])
    conv = GROUP if kind == "group" else None
    entries = [wrap_entry(pk) for pk in members]
    res1 = dave.chat.prepare_conversation_key_change(entries, conversation_id=conv)
    res2 = dave.chat.prepare_conversation_key_change(entries, conversation_id=conv)
    while res2["conversation_key_version"] == res1["conversation_key_version"]:
        # chatxdk mints the version from the clock: two calls in one millisecond get the same one
        time.sleep(0.001)
        res2 = dave.chat.prepare_conversation_key_change(entries, conversation_id=conv)
    v1, v2 = res1["conversation_key_version"], res2["conversation_key_version"]
    assert version_key(v2) > version_key(v1) and res1["conversation_key"] != res2["conversation_key"]
    cid = res1["conversation_id"]
    assert cid == (GROUP if kind == "group" else f"{bob.user_id}:{DAVE}")
    ev1 = b64(sdk_key_change_event(res1, DAVE, seq=SEQ).encode())
    ev2 = b64(sdk_key_change_event(res2, DAVE, seq=SEQ + 2).encode())
    sp1 = dave.chat.encrypt_message(cid, "one", conversation_key=res1["conversation_key"], conversation_key_version=v1)
    sp2 = dave.chat.encrypt_message(cid, "two", conversation_key=res2["conversation_key"], conversation_key_version=v2)
    m1, m2 = (b64(sdk_message_event(sp, DAVE, cid, seq=s).encode()) for sp, s in ((sp1, SEQ + 1), (sp2, SEQ + 3)))
    for reader in [bob] + ([carol] if kind == "group" else []):
        got = {
            kc.conversation_key_version: kc.conversation_key
            for kc in (kit.read_key_change(ev, recipient=reader, signing_keys=[dave.public_keys]) for ev in (ev2, ev1))
        }
        assert got == {v1: res1["conversation_key"], v2: res2["conversation_key"]}
        assert max(got, key=version_key) == v2
        assert [kit.read_message(m, conversation_key=got, signing_keys=[dave.public_keys]).text for m in (m1, m2)] == [
            "one",
            "two",
        ]
    # a chatxdk member of the same conversation agrees on the latest version
    if kind == "group":
        out = erin.chat.decrypt_events([ev2, ev1, m1, m2], [signing_entry(dave.public_keys)])
        assert out["errors"] == {} and out["conversation_keys"]["latest_version"] == v2


def test_group_mixed_members_all_read_the_same_key(alice, bob, carol):
    """A kit group init over kit and chatxdk members: every member, either side, gets the one key."""
    dave, erin = sdk_user(DAVE), sdk_user(ERIN)
    init = kit.prepare_key_init(alice, [bob.public_keys, dave.public_keys, carol.public_keys, erin.public_keys], GROUP)
    assert len(init.body["conversation_participant_keys"]) == 5  # the sender is added
    ev = kit_key_change_envelope(init, alice.user_id)
    for u in (dave, erin):
        out = u.chat.decrypt_events([ev], [signing_entry(alice.public_keys)])
        assert _only_event(out)["conversation_id"] == GROUP
        assert out["conversation_keys"]["keys"] == {init.conversation_key_version: init.conversation_key}
    for reader in (alice, bob, carol):
        assert (
            kit.read_key_change(ev, recipient=reader, signing_keys=[alice.public_keys]).conversation_key
            == init.conversation_key
        )
