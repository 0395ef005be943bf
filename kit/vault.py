"""Passphrase-protected storage of a private key blob (Argon2id + XSalsa20-Poly1305, via pynacl).

The real X Chat backs keys up with Juicebox PIN realms, which are not reachable offline;
this is the kit's local stand-in. Layout of a sealed blob::

    b"XCKV1" ‖ opslimit (u32) ‖ memlimit (u32) ‖ salt (16) ‖ nonce (24) ‖ tag (16) ‖ ciphertext
"""

from __future__ import annotations

import struct

from kit.errors import DecryptionError, WireFormatError

__all__ = ["open_sealed", "seal"]

_MAGIC = b"XCKV1"
_HEADER = struct.Struct(">II")
_SALT = 16


def _key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    from nacl import pwhash

    if not isinstance(passphrase, str) or not passphrase:
        raise WireFormatError("passphrase must be a non-empty string")
    return pwhash.argon2id.kdf(32, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit)


def seal(secret: bytes, passphrase: str) -> bytes:
    """Encrypt `secret` under a key derived from `passphrase` (Argon2id, interactive limits)."""
    from nacl import pwhash, secret as nacl_secret, utils

    ops, mem = pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE
    salt = utils.random(_SALT)
    box = nacl_secret.SecretBox(_key(passphrase, salt, ops, mem))
    return _MAGIC + _HEADER.pack(ops, mem) + salt + bytes(box.encrypt(secret))


def open_sealed(sealed: bytes, passphrase: str) -> bytes:
    """Decrypt a blob from `seal`; a wrong passphrase or a changed byte raises `DecryptionError`."""
    from nacl import exceptions, pwhash, secret as nacl_secret

    head = len(_MAGIC) + _HEADER.size
    if not isinstance(sealed, (bytes, bytearray)) or len(sealed) < head + _SALT + 40 or sealed[: len(_MAGIC)] != _MAGIC:
        raise WireFormatError("protected key blob is not in the kit's sealed format (missing 'XCKV1' header or too short)")
    ops, mem = _HEADER.unpack_from(sealed, len(_MAGIC))
    if not (pwhash.argon2id.OPSLIMIT_MIN <= ops <= pwhash.argon2id.OPSLIMIT_SENSITIVE) or not (
        pwhash.argon2id.MEMLIMIT_MIN <= mem <= pwhash.argon2id.MEMLIMIT_SENSITIVE
    ):
        raise WireFormatError("protected key blob asks for Argon2id limits outside pynacl's supported range")
    salt = bytes(sealed[head : head + _SALT])
    box = nacl_secret.SecretBox(_key(passphrase, salt, ops, mem))
    try:
        return bytes(box.decrypt(bytes(sealed[head + _SALT :])))
    except exceptions.CryptoError:
        raise DecryptionError("protected key blob does not open: wrong passphrase, or the blob was changed") from None
