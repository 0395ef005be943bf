"""kit.signature: what is signed, and ECDSA P-256 sign / verify in raw r‖s form."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from kit import signature as sig
from kit.errors import SignatureError, WireFormatError

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
MID = "6f1c2b7e-3d4a-4b5c-8d9e-0f1a2b3c4d5e"
KEY = bytes(range(32))


def _key(n: int = 1) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(
        int.from_bytes(hashlib.sha256(b"sig test %d" % n).digest(), "big") % (N - 1) + 1, ec.SECP256R1()
    )


# ----------------------------------------------------------------------------- payloads


def test_key_change_payload_text_exactly():
    got = sig.key_change_payload(
        message_id=MID,
        sender_id="1215441834412953600",
        conversation_id="1215441834412953600:1603419180975409153",
        conversation_key_version="1795545957535",
        conversation_key=KEY,
    )
    ckey = base64.b64encode(KEY).decode().rstrip("=")
    assert len(ckey) == 43
    pair = "1215441834412953600:1603419180975409153"
    want = f"ConversationKeyChangeEvent,{MID},1215441834412953600,{pair},1795545957535,{ckey}"
    assert got == want.encode("utf-8")
    assert len(got) == 181  # the spec's typical payload_len
    assert not got.endswith(b"\n")


def test_message_payload_text_exactly():
    sealed = os.urandom(61)  # not a multiple of 3: padding would show
    got = sig.message_payload(
        message_id=MID, sender_id="7", conversation_id="3:20", conversation_key_version="12", sealed=sealed
    )
    blob = base64.b64encode(sealed).decode().rstrip("=")
    assert got == f"MessageCreateEvent,{MID},7,3:20,12,{blob}".encode()
    assert b"=" not in got


def test_message_payload_length_in_spec():
    # "hello", 18-digit sender and an 18+19-digit pair: payload_len = 210
    sealed = bytes(21 + 40)
    got = sig.message_payload(
        message_id=MID,
        sender_id="1" * 18,
        conversation_id="1" * 18 + ":" + "2" * 19,
        conversation_key_version="1795545957535",
        sealed=sealed,
    )
    assert len(got) == 210


def test_payload_field_order():
    got = sig.key_change_payload(
        message_id="m", sender_id="s", conversation_id="c", conversation_key_version="v", conversation_key=KEY
    ).decode()
    assert got.split(",")[:5] == ["ConversationKeyChangeEvent", "m", "s", "c", "v"]


@pytest.mark.parametrize("name", ["message_id", "sender_id", "conversation_id", "conversation_key_version"])
def test_commas_rejected_in_components(name):
    parts = dict(message_id=MID, sender_id="1", conversation_id="1:2", conversation_key_version="5")
    parts[name] = "a,b"
    with pytest.raises(WireFormatError, match=rf"{name} must not contain ','"):
        sig.key_change_payload(**parts, conversation_key=KEY)
    with pytest.raises(WireFormatError, match=rf"{name} must not contain ','"):
        sig.message_payload(**parts, sealed=b"x" * 40)


def test_non_string_component_rejected():
    with pytest.raises(WireFormatError, match="sender_id must be a string, got int"):
        sig.key_change_payload(
            message_id=MID, sender_id=1, conversation_id="1:2", conversation_key_version="5", conversation_key=KEY
        )


@pytest.mark.parametrize("key", [b"", bytes(31), bytes(33), bytes(64), "x" * 32, None])
def test_key_change_payload_needs_32_byte_key(key):
    with pytest.raises(WireFormatError, match="exactly 32 bytes"):
        sig.key_change_payload(
            message_id=MID, sender_id="1", conversation_id="1:2", conversation_key_version="5", conversation_key=key
        )


def test_message_payload_needs_bytes():
    with pytest.raises(WireFormatError, match="sealed must be bytes"):
        sig.message_payload(
            message_id=MID, sender_id="1", conversation_id="1:2", conversation_key_version="5", sealed="abc"
        )


def test_unicode_component_is_utf8():
    got = sig.message_payload(
        message_id="é", sender_id="1", conversation_id="1:2", conversation_key_version="5", sealed=b""
    )
    assert got == "MessageCreateEvent,é,1,1:2,5,".encode()


# ----------------------------------------------------------------------------- sign / verify


def test_sign_is_deterministic_raw_rs():
    k = _key()
    a = sig.sign(k, b"hello")
    b = sig.sign(k, b"hello")
    assert a == b
    assert len(a) == 64
    assert sig.sign(k, b"hello!") != a
    assert sig.sign(_key(2), b"hello") != a
    r, s = int.from_bytes(a[:32], "big"), int.from_bytes(a[32:], "big")
    assert 0 < r < N and 0 < s < N
    # the raw form is the DER signature's integers, big-endian, 32 bytes each
    k.public_key().verify(encode_dss_signature(r, s), b"hello", ec.ECDSA(hashes.SHA256()))


def test_sign_matches_cryptography_rfc6979():
    k = _key(3)
    der = k.sign(b"payload", ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    assert sig.sign(k, b"payload") == r.to_bytes(32, "big") + s.to_bytes(32, "big")


def test_verify_round_trip():
    k = _key()
    sig.verify(k.public_key(), sig.sign(k, b"data"), b"data")


def test_verify_accepts_high_s():
    # (r, n - s) is the other valid signature for the same nonce; the SDK does not normalise
    # S and about half its signatures are high-S, so a verifier must accept both.
    k = _key()
    seen_high = False
    for i in range(8):
        data = b"high-s %d" % i
        raw = sig.sign(k, data)
        s = int.from_bytes(raw[32:], "big")
        other = raw[:32] + (N - s).to_bytes(32, "big")
        assert other != raw
        sig.verify(k.public_key(), raw, data)
        sig.verify(k.public_key(), other, data)
        seen_high |= max(s, N - s) > N // 2
    assert seen_high


@pytest.mark.parametrize("pos", [0, 1, 31, 32, 33, 63])
def test_verify_rejects_flipped_byte(pos):
    k = _key()
    raw = bytearray(sig.sign(k, b"data"))
    raw[pos] ^= 0x01
    with pytest.raises(SignatureError, match="^action signature does not verify"):
        sig.verify(k.public_key(), bytes(raw), b"data", what="action signature")


def test_verify_rejects_other_data_and_key():
    k = _key()
    raw = sig.sign(k, b"data")
    with pytest.raises(SignatureError):
        sig.verify(k.public_key(), raw, b"datA")
    with pytest.raises(SignatureError):
        sig.verify(_key(2).public_key(), raw, b"data")


@pytest.mark.parametrize("raw", [b"", bytes(63), bytes(65), bytes(70), "x" * 64])
def test_verify_rejects_wrong_length(raw):
    with pytest.raises(SignatureError, match="^signature must be 64 bytes"):
        sig.verify(_key().public_key(), raw, b"data")


@pytest.mark.parametrize(
    "raw", [bytes(64), b"\xff" * 64, N.to_bytes(32, "big") * 2, bytes(31) + b"\x01" + bytes(31) + b"\x01"]
)
def test_verify_rejects_degenerate_integers(raw):
    with pytest.raises(SignatureError, match="does not verify"):
        sig.verify(_key().public_key(), raw, b"data")


# ----------------------------------------------------------------------------- text forms


def test_encode_decode_signature():
    raw = sig.sign(_key(), b"data")
    nopad = sig.encode_signature(raw)
    padded = sig.encode_signature(raw, padded=True)
    assert len(nopad) == 86 and "=" not in nopad
    assert len(padded) == 88 and padded.endswith("==")
    assert padded.rstrip("=") == nopad
    assert sig.decode_signature(nopad) == raw
    assert sig.decode_signature(padded) == raw


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "decode to 64 bytes"),
        ("A" * 84, "decode to 64 bytes"),
        ("A" * 88, "decode to 64 bytes"),  # 66 bytes
        ("A" * 85, "whole number of bytes"),
        ("A" * 120, "more than the 100 allowed"),
        ("A" * 85 + "-", "alphabet"),  # URL-safe alphabet fails, as in the SDK
        ("A" * 85 + "_", "alphabet"),
        (None, "base64 text"),
    ],
)
def test_decode_signature_rejects(text, fragment):
    with pytest.raises(WireFormatError) as info:
        sig.decode_signature(text, what="message signature")
    assert str(info.value).startswith("message signature ")
    assert fragment in str(info.value)


def test_der_signature_rejected():
    k = _key()
    der = k.sign(b"data", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(WireFormatError, match="64 bytes"):
        sig.decode_signature(base64.b64encode(der).decode())


def test_constants():
    assert sig.SIGNATURE_VERSION == "7"
    assert sig.MIN_SIGNATURE_VERSION == 2
