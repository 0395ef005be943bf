"""kit.encoding: base64 the way X Chat writes it, decoded strictly."""

from __future__ import annotations

import base64
import os

import pytest

from kit.encoding import b64, b64_nopad, b64url_nopad, from_b64
from kit.errors import WireFormatError


@pytest.mark.parametrize("n", range(0, 70))
def test_round_trip_every_length(n):
    data = os.urandom(n)
    assert from_b64(b64(data), what="x") == data
    assert from_b64(b64_nopad(data), what="x") == data
    assert b64(data) == base64.b64encode(data).decode()
    assert b64_nopad(data) == base64.b64encode(data).decode().rstrip("=")
    assert "=" not in b64_nopad(data)
    assert len(b64(data)) % 4 == 0


def test_url_safe_fingerprint_alphabet():
    data = bytes(range(256))
    text = b64url_nopad(data)
    assert "+" not in text and "/" not in text and "=" not in text
    assert base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)) == data


def test_spec_lengths():
    # 64-byte signature: 86 chars unpadded, 88 padded; 113-byte wrapped key: 152; 91-byte SPKI: 124
    assert len(b64_nopad(bytes(64))) == 86
    assert len(b64(bytes(64))) == 88
    assert len(b64(bytes(113))) == 152
    assert len(b64(bytes(91))) == 124
    assert len(b64_nopad(bytes(32))) == 43


def test_bytes_input_accepted():
    assert from_b64(b"QUJD", what="x") == b"ABC"
    assert from_b64(bytearray(b"QUI="), what="x") == b"AB"


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("QU-D", "'-'"),
        ("QU_D", "'_'"),
        ("QU D", "' '"),
        ("QUJD\n", "'\\n'"),
        ("\nQUJD", "'\\n'"),
        ("QUé=", "'é'"),
        ("QU٣D", "'٣'"),  # a non-ASCII digit is still not base64
        ("QU.D", "'.'"),
    ],
)
def test_bad_alphabet_names_field_and_character(text, bad):
    with pytest.raises(WireFormatError) as info:
        from_b64(text, what="encrypted_conversation_key")
    msg = str(info.value)
    assert msg.startswith("encrypted_conversation_key ")
    assert bad in msg
    assert "alphabet" in msg


@pytest.mark.parametrize("text", ["QUI==", "QQ=", "QUJD=", "QUJD==", "QQ===", "Q===", "=QUJD", "QU=D", "QUI=QUI="])
def test_bad_padding(text):
    with pytest.raises(WireFormatError, match=r"^signature .*(padding|whole number)"):
        from_b64(text, what="signature")


@pytest.mark.parametrize("text", ["Q", "QUJDR", "QUJDRUZHS", "Q=", "QUJDR=="])
def test_impossible_lengths(text):
    with pytest.raises(WireFormatError, match=r"^public_key .*whole number of bytes"):
        from_b64(text, what="public_key")


@pytest.mark.parametrize("value", [None, 12, 1.5, ["QUJD"], {"a": 1}, object()])
def test_non_text_rejected(value):
    with pytest.raises(WireFormatError, match=rf"^my field must be base64 text, got {type(value).__name__}"):
        from_b64(value, what="my field")


def test_non_ascii_bytes_rejected():
    with pytest.raises(WireFormatError, match="^blob must be base64 text, got non-ASCII bytes"):
        from_b64(b"QU\xffD", what="blob")


def test_max_len():
    assert from_b64("QUJD", what="x", max_len=4) == b"ABC"
    with pytest.raises(WireFormatError, match="^x is 8 characters long, more than the 4 allowed"):
        from_b64("QUJDQUJD", what="x", max_len=4)


def test_empty_is_empty():
    assert from_b64("", what="x") == b""


def test_errors_are_value_errors_too():
    with pytest.raises(ValueError):
        from_b64("!!!!", what="x")
