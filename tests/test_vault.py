"""kit.vault and Identity.export_protected / import_protected: the passphrase-sealed private blob."""

from __future__ import annotations

import struct

import pytest
from nacl import pwhash

from kit import vault
from kit.errors import DecryptionError, WireFormatError
from kit.keys import Identity

PASS = "correct horse battery staple"
HEAD = 5 + 8  # magic + opslimit + memlimit
SALT = 16


@pytest.fixture(scope="module")
def ident() -> Identity:
    return Identity.from_seed("vault (demo only)", "1215441834412953600", version="1795545957535")


@pytest.fixture(scope="module")
def sealed(ident) -> bytes:
    return ident.export_protected(PASS)


def test_round_trip(ident, sealed):
    back = Identity.import_protected(sealed, PASS)
    assert back.export_keys() == ident.export_keys()
    assert back.user_id == ident.user_id
    assert back.version == ident.version
    assert back.public_keys.public_key == ident.public_keys.public_key


def test_layout(ident, sealed):
    assert sealed[:5] == b"XCKV1"
    ops, mem = struct.unpack(">II", sealed[5:13])
    assert (ops, mem) == (pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE)
    # header, salt, nonce 24, tag 16, then the 64-byte blob and the JSON metadata
    assert len(sealed) > HEAD + SALT + 24 + 16 + 64


def test_sealed_blob_hides_the_private_keys(ident, sealed):
    blob = ident.export_keys()
    assert blob not in sealed
    assert blob[:32] not in sealed and blob[32:] not in sealed
    assert blob.hex().encode() not in sealed
    assert ident.user_id.encode() not in sealed  # the metadata is sealed too


def test_every_seal_is_fresh(ident, sealed):
    again = ident.export_protected(PASS)
    assert again != sealed
    assert again[HEAD : HEAD + SALT] != sealed[HEAD : HEAD + SALT]
    assert Identity.import_protected(again, PASS).export_keys() == ident.export_keys()


@pytest.mark.parametrize("wrong", ["correct horse battery stapl", "Correct horse battery staple", PASS + " "])
def test_wrong_passphrase(sealed, wrong):
    with pytest.raises(
        DecryptionError, match="^protected key blob does not open: wrong passphrase, or the blob was changed"
    ):
        Identity.import_protected(sealed, wrong)


@pytest.mark.parametrize("where", ["salt", "nonce", "tag", "ciphertext", "last"])
def test_changed_byte(sealed, where):
    pos = {
        "salt": HEAD,
        "nonce": HEAD + SALT + 3,
        "tag": HEAD + SALT + 24 + 1,
        "ciphertext": HEAD + SALT + 40 + 7,
        "last": len(sealed) - 1,
    }[where]
    bad = bytearray(sealed)
    bad[pos] ^= 0x20
    with pytest.raises(DecryptionError):
        Identity.import_protected(bytes(bad), PASS)


def test_changed_kdf_limits_do_not_open(sealed):
    # cheaper (but valid) Argon2id limits derive another key
    bad = sealed[:5] + struct.pack(">II", pwhash.argon2id.OPSLIMIT_MIN, pwhash.argon2id.MEMLIMIT_MIN) + sealed[13:]
    with pytest.raises(DecryptionError):
        Identity.import_protected(bad, PASS)


@pytest.mark.parametrize(
    ("ops", "mem"),
    [
        (0, pwhash.argon2id.MEMLIMIT_MIN),
        (pwhash.argon2id.OPSLIMIT_SENSITIVE + 1, pwhash.argon2id.MEMLIMIT_MIN),
        (2, 0),
        (2, 2**32 - 1),
    ],
)
def test_out_of_range_kdf_limits(sealed, ops, mem):
    bad = sealed[:5] + struct.pack(">II", ops, mem) + sealed[13:]
    with pytest.raises(WireFormatError, match="Argon2id limits"):
        Identity.import_protected(bad, PASS)


@pytest.mark.parametrize(
    "blob", [b"", b"XCKV1", b"XCKV2" + bytes(100), b"xckv1" + bytes(100), b"XCKV1" + bytes(60), "XCKV1"]
)
def test_not_a_sealed_blob(blob):
    with pytest.raises(WireFormatError, match="not in the kit's sealed format"):
        Identity.import_protected(blob, PASS)


def test_truncated(sealed):
    with pytest.raises((DecryptionError, WireFormatError)):
        Identity.import_protected(sealed[:-1], PASS)


@pytest.mark.parametrize("passphrase", ["", None, b"bytes"])
def test_empty_or_non_text_passphrase_rejected(ident, sealed, passphrase):
    with pytest.raises(WireFormatError, match="passphrase must be a non-empty string"):
        ident.export_protected(passphrase)
    with pytest.raises(WireFormatError, match="passphrase must be a non-empty string"):
        Identity.import_protected(sealed, passphrase)


def test_unicode_passphrase(ident):
    sealed = ident.export_protected("pässwörd 🔑")
    assert Identity.import_protected(sealed, "pässwörd 🔑").export_keys() == ident.export_keys()
    with pytest.raises(DecryptionError):
        Identity.import_protected(sealed, "passwörd 🔑")


def test_sealed_non_identity_contents():
    # a vault blob that opens but does not hold an identity
    for secret in (
        b"short",
        bytes(64) + b"{}",
        b"\x01" * 64 + b'{"user_id": "x", "version": "1"}',
        b"\x01" * 64 + b"[]",
    ):
        with pytest.raises(DecryptionError, match="not an identity"):
            Identity.import_protected(vault.seal(secret, PASS), PASS)


def test_vault_round_trip_raw():
    assert vault.open_sealed(vault.seal(b"anything at all", PASS), PASS) == b"anything at all"
    assert vault.open_sealed(vault.seal(b"", PASS), PASS) == b""
