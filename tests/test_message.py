"""kit.message: text messages sealed with the conversation key and signed by their sender."""

from __future__ import annotations

import base64
import os
import struct

import pytest
from nacl.secret import SecretBox

import kit
from kit import message as m
from kit.errors import DecryptionError, KeyNotFoundError, SignatureError, WireFormatError
from kit.signature import message_payload, verify
from kit.thrift import EventSignature, MessageCreateEvent, MessageEvent, encode_text, read_message_create_event

KEY = bytes(range(32))
VERSION = "1795545957535"
MID = "0b6f2f5e-9c1d-4e8a-9b7a-3c2d1e0f4a5b"


@pytest.fixture(params=["single key", "key map"])
def keyed(request):
    """The two forms of `conversation_key`: one key, or `{version: key}` as `Keyring.keys()` returns.

    Every tampering test runs with both, so a check skipped on one path cannot go unnoticed.
    """

    def form(key: bytes, version: str = VERSION) -> bytes | dict[str, bytes]:
        return key if request.param == "single key" else {"1": os.urandom(32), version: key}

    return form


def _event(
    prepared: kit.PreparedMessage,
    sender: kit.Identity,
    *,
    conversation_id: str | None = None,
    mce: bytes | None = None,
    mes: bytes | None = None,
) -> str:
    body = prepared.body
    create = mce if mce is not None else base64.b64decode(body["encoded_message_create_event"])
    sig = mes if mes is not None else base64.b64decode(body["encoded_message_event_signature"])
    from kit.thrift import read_event_signature

    ev = MessageEvent(
        sequence_id="2070276095283454200",
        message_id=body["message_id"],
        sender_id=sender.user_id,
        conversation_id=conversation_id or prepared.conversation_id,
        created_at_msec="1795545960000",
        detail=b"\x0c\x00\x01" + create + b"\x00",
        signature=read_event_signature(sig),
    )
    return base64.b64encode(ev.encode()).decode()


@pytest.mark.parametrize("text", ["hello", "", "héllo wörld 👋🏽🔑", "a, b, c,,,", "line\nbreak\ttab\x00", "x" * 3000])
def test_round_trip(alice, bob, text):
    p = kit.prepare_message(alice, bob.user_id, text, conversation_key=KEY, conversation_key_version=VERSION)
    got = kit.read_message(_event(p, alice), conversation_key=KEY, signing_keys=[alice.public_keys])
    assert got.text == text
    assert got.sender_id == alice.user_id
    assert got.message_id == p.message_id
    assert got.conversation_id == p.conversation_id
    assert got.conversation_key_version == VERSION
    assert got.sequence_id == "2070276095283454200"
    assert got.created_at_msec == "1795545960000"


@pytest.mark.parametrize("spelling", ["bare", "colon", "colon-reversed", "hyphen", "hyphen-reversed"])
def test_every_spelling_signs_min_max(alice, bob, spelling):
    lo, hi = sorted((alice.user_id, bob.user_id), key=int)
    cid = {
        "bare": bob.user_id,
        "colon": f"{lo}:{hi}",
        "colon-reversed": f"{hi}:{lo}",
        "hyphen": f"{lo}-{hi}",
        "hyphen-reversed": f"{hi}-{lo}",
    }[spelling]
    p = kit.prepare_message(alice, cid, "hi", conversation_key=KEY, conversation_key_version=VERSION, message_id=MID)
    assert p.conversation_id == f"{lo}:{hi}"
    assert p.path_id == f"{lo}-{hi}"
    payload = message_payload(
        message_id=MID,
        sender_id=alice.user_id,
        conversation_id=f"{lo}:{hi}",
        conversation_key_version=VERSION,
        sealed=p.create_event.contents,
    )
    verify(alice.public_keys.signing_key, p.signature, payload)


def test_group_message(alice, bob):
    p = kit.prepare_message(alice, "g1234", "to the group", conversation_key=KEY, conversation_key_version="5")
    assert p.conversation_id == p.path_id == "g1234"
    assert (
        kit.read_message(_event(p, alice), conversation_key=KEY, signing_keys=[bob.public_keys, alice.public_keys]).text
        == "to the group"
    )


def test_deterministic_with_fixed_nonce(alice, bob):
    nonce = bytes(range(24))
    a = kit.prepare_message(
        alice, bob.user_id, "same", conversation_key=KEY, conversation_key_version=VERSION, message_id=MID, nonce=nonce
    )
    b = kit.prepare_message(
        alice, bob.user_id, "same", conversation_key=KEY, conversation_key_version=VERSION, message_id=MID, nonce=nonce
    )
    assert a.body == b.body
    assert a.signature == b.signature
    c = kit.prepare_message(
        alice, bob.user_id, "same", conversation_key=KEY, conversation_key_version=VERSION, message_id=MID
    )
    assert c.create_event.contents != a.create_event.contents  # random nonce by default


# ----------------------------------------------------------------------------- layouts


def test_sealed_blob_layout():
    nonce = os.urandom(24)
    sealed = m.seal_text("hello", KEY, nonce=nonce)
    assert len(sealed) == 5 + 16 + 40  # UTF-8 length + 56
    assert sealed[:24] == nonce
    # PyNaCl's layout: nonce ‖ tag ‖ ct, opened as is
    assert SecretBox(KEY).decrypt(sealed) == encode_text("hello")
    assert m.open_text(sealed, KEY) == "hello"


def test_mce_layout_per_spec(alice, bob):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    data = base64.b64decode(p.body["encoded_message_create_event"], validate=True)
    blob = p.create_event.contents
    assert len(blob) == 61
    assert data[:3] == bytes.fromhex("0b0064")
    assert data[3:7] == struct.pack(">I", len(blob))
    assert data[7 : 7 + len(blob)] == blob
    rest = data[7 + len(blob) :]
    assert (
        rest == bytes.fromhex("0b0065") + struct.pack(">I", 13) + VERSION.encode() + bytes.fromhex("02006601") + b"\x00"
    )
    assert len(data) == len(blob) + 32
    assert read_message_create_event(data) == MessageCreateEvent(blob, VERSION, True, None)


def test_mce_layout_with_ttl(alice, bob):
    p = kit.prepare_message(
        alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION, ttl_msec=86_400_000
    )
    data = base64.b64decode(p.body["encoded_message_create_event"])
    blob = p.create_event.contents
    assert len(data) == len(blob) + 32 + 11
    assert data[-12:] == bytes.fromhex("0a0067") + struct.pack(">q", 86_400_000) + b"\x00"
    assert data[-16:-12] == bytes.fromhex("02006601")
    assert read_message_create_event(data).ttl_msec == 86_400_000


def test_ttl_not_signed(alice, bob):
    # fields 102-109 are not in the payload: a message with a TTL verifies like one without
    nonce = bytes(24)
    a = kit.prepare_message(
        alice, bob.user_id, "x", conversation_key=KEY, conversation_key_version=VERSION, message_id=MID, nonce=nonce
    )
    b = kit.prepare_message(
        alice,
        bob.user_id,
        "x",
        conversation_key=KEY,
        conversation_key_version=VERSION,
        message_id=MID,
        nonce=nonce,
        ttl_msec=5,
    )
    assert a.signature == b.signature


def test_mes_layout_per_spec(alice, bob):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    data = base64.b64decode(p.body["encoded_message_event_signature"], validate=True)
    sig_text = base64.b64encode(p.signature).decode().rstrip("=")
    version = alice.version.encode()
    want = (
        bytes.fromhex("0b0001") + struct.pack(">I", 86) + sig_text.encode()
        + bytes.fromhex("0b0002") + struct.pack(">I", len(version)) + version
        + bytes.fromhex("0b0003000000" "0137")
        + b"\x00"
    )  # fmt: skip
    assert data == want


def test_body_shape(alice, bob):
    p = kit.prepare_message(
        alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION, message_id=MID
    )
    assert set(p.body) == {"message_id", "encoded_message_create_event", "encoded_message_event_signature"}
    assert p.body["message_id"] == MID == p.message_id
    assert "hello" not in repr(p.body)
    assert base64.b64encode(encode_text("hello")).decode() not in repr(p.body)


def test_default_message_id_is_uuid4(alice, bob):
    import uuid

    p = kit.prepare_message(alice, bob.user_id, "x", conversation_key=KEY, conversation_key_version=VERSION)
    u = uuid.UUID(p.message_id)
    assert u.version == 4 and str(u) == p.message_id


# ----------------------------------------------------------------------------- tampering


def test_flipped_ciphertext_byte_is_signature_error(alice, bob, keyed):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    for pos in (0, 23, 24, 39, 40, 60):  # nonce, tag and ciphertext
        blob = bytearray(p.create_event.contents)
        blob[pos] ^= 0x01
        mce = MessageCreateEvent(bytes(blob), VERSION).encode()
        with pytest.raises(SignatureError, match="does not verify"):
            kit.read_message(_event(p, alice, mce=mce), conversation_key=keyed(KEY), signing_keys=[alice.public_keys])


def test_resigned_tampering_is_decryption_error(alice, bob, keyed):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    blob = bytearray(p.create_event.contents)
    blob[45] ^= 0x01
    sig = alice.sign(
        message_payload(
            message_id=p.message_id,
            sender_id=alice.user_id,
            conversation_id=p.conversation_id,
            conversation_key_version=VERSION,
            sealed=bytes(blob),
        )
    )
    mes = EventSignature(base64.b64encode(sig).decode().rstrip("="), alice.version, "7").encode()
    event = _event(p, alice, mce=MessageCreateEvent(bytes(blob), VERSION).encode(), mes=mes)
    with pytest.raises(DecryptionError, match="does not open"):
        kit.read_message(event, conversation_key=keyed(KEY), signing_keys=[alice.public_keys])


def test_wrong_key(alice, bob, keyed):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    with pytest.raises(DecryptionError, match="wrong conversation key"):
        kit.read_message(_event(p, alice), conversation_key=keyed(bytes(32)), signing_keys=[alice.public_keys])


def test_signature_checked_before_decryption(alice, bob, keyed):
    # a bad signature wins over a wrong key: nothing is decrypted unverified
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    event = _event(p, alice, conversation_id=p.path_id)  # a server that stored the hyphen form
    with pytest.raises(SignatureError):
        kit.read_message(event, conversation_key=keyed(bytes(32)), signing_keys=[alice.public_keys])


def test_wrong_signer(alice, bob, keyed):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    with pytest.raises(SignatureError, match=f"no signing key for user {alice.user_id}"):
        kit.read_message(_event(p, alice), conversation_key=keyed(KEY), signing_keys=[bob.public_keys])
    # bob's keys filed under alice's id and version: the binding holds, the signature does not
    import dataclasses

    fake = dataclasses.replace(bob.public_keys, user_id=alice.user_id, version=alice.version)
    with pytest.raises(SignatureError, match="does not verify"):
        kit.read_message(_event(p, alice), conversation_key=keyed(KEY), signing_keys=[fake])


def test_unsigned_message_rejected(alice, bob, keyed):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    mce = base64.b64decode(p.body["encoded_message_create_event"])
    ev = MessageEvent("1", p.message_id, alice.user_id, p.conversation_id, "2", b"\x0c\x00\x01" + mce + b"\x00")
    with pytest.raises(SignatureError, match="carries no message_event_signature"):
        kit.read_message(base64.b64encode(ev.encode()).decode(), conversation_key=keyed(KEY), signing_keys=[alice.public_keys])


@pytest.mark.parametrize("version", ["1", "0", "", "abc"])
def test_old_signature_version_rejected(alice, bob, version, keyed):
    p = kit.prepare_message(alice, bob.user_id, "hello", conversation_key=KEY, conversation_key_version=VERSION)
    mes = EventSignature(base64.b64encode(p.signature).decode().rstrip("="), alice.version, version).encode()
    with pytest.raises(SignatureError, match="signature_version"):
        kit.read_message(_event(p, alice, mes=mes), conversation_key=keyed(KEY), signing_keys=[alice.public_keys])


@pytest.mark.parametrize("version", ["2", "6", "8", "99"])
def test_newer_signature_versions_accepted(alice, bob, version):
    p = kit.prepare_message(alice, bob.user_id, "hi", conversation_key=KEY, conversation_key_version=VERSION)
    mes = EventSignature(base64.b64encode(p.signature).decode(), alice.version, version).encode()  # padded is fine too
    assert (
        kit.read_message(_event(p, alice, mes=mes), conversation_key=KEY, signing_keys=[alice.public_keys]).text == "hi"
    )


# ----------------------------------------------------------------------------- key maps


def test_key_map_lookup_by_version(alice, bob):
    other = os.urandom(32)
    p = kit.prepare_message(alice, bob.user_id, "v2 text", conversation_key=other, conversation_key_version="2")
    keys = {"1": KEY, "2": other, "3": os.urandom(32)}
    assert kit.read_message(_event(p, alice), conversation_key=keys, signing_keys=[alice.public_keys]).text == "v2 text"


def test_key_map_missing_version(alice, bob):
    p = kit.prepare_message(alice, bob.user_id, "x", conversation_key=KEY, conversation_key_version="42")
    with pytest.raises(KeyNotFoundError, match=r"conversation key version 42; known versions: \['1', '7'\]"):
        kit.read_message(_event(p, alice), conversation_key={"7": KEY, "1": KEY}, signing_keys=[alice.public_keys])
    with pytest.raises(LookupError):
        kit.read_message(_event(p, alice), conversation_key={}, signing_keys=[alice.public_keys])


def test_bytes_event_accepted(alice, bob):
    p = kit.prepare_message(alice, bob.user_id, "raw", conversation_key=KEY, conversation_key_version=VERSION)
    raw = base64.b64decode(_event(p, alice))
    assert kit.read_message(raw, conversation_key=KEY, signing_keys=[alice.public_keys]).text == "raw"


def test_key_change_event_is_not_a_message(alice, bob):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    from kit.protocol import key_change_event

    ev = key_change_event(
        init.body, sender_id=alice.user_id, conversation_id=init.conversation_id, sequence_id="1", created_at_msec="1"
    )
    with pytest.raises(WireFormatError, match="is not a message"):
        kit.read_message(base64.b64encode(ev.encode()).decode(), conversation_key=KEY, signing_keys=[alice.public_keys])


# ----------------------------------------------------------------------------- argument checks


def test_prepare_checks(alice, bob):
    with pytest.raises(WireFormatError, match="exactly 32 bytes"):
        kit.prepare_message(alice, bob.user_id, "x", conversation_key=bytes(31), conversation_key_version="1")
    with pytest.raises(WireFormatError, match="conversation key version"):
        kit.prepare_message(alice, bob.user_id, "x", conversation_key=KEY, conversation_key_version="v1")
    with pytest.raises(WireFormatError, match="message text must be a str"):
        kit.prepare_message(alice, bob.user_id, b"x", conversation_key=KEY, conversation_key_version="1")
    with pytest.raises(WireFormatError):
        kit.prepare_message(alice, "not an id", "x", conversation_key=KEY, conversation_key_version="1")


def test_open_text_checks():
    with pytest.raises(WireFormatError, match="at least 40 bytes"):
        m.open_text(bytes(39), KEY)
    with pytest.raises(DecryptionError):
        m.open_text(bytes(40), KEY)
    # a sealed blob that opens but does not hold a MessageEntryHolder
    with pytest.raises(WireFormatError):
        m.open_text(bytes(SecretBox(KEY).encrypt(b"not thrift")), KEY)
