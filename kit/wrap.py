"""ECIES key wrap: the conversation key, encrypted to one participant's identity key.

For each participant:

1. make an ephemeral P-256 key pair; ``E`` = its 65-byte uncompressed public point;
2. ``Z`` = ECDH(ephemeral private key, participant's identity public key), 32 bytes;
3. ``K`` = ANSI X9.63 KDF with SHA-256 and shared info ``E``: one block, ``SHA256(Z ‖ 00000001 ‖ E)``;
4. AES-128-GCM with key ``K[:16]`` and the 16-byte IV ``K[16:]``, no associated data;
5. the wrapped key is ``E ‖ ciphertext ‖ tag``: 65 + 32 + 16 = 113 bytes (152 base64 characters).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kit.errors import DecryptionError, WireFormatError
from kit.keys import PublicKeyLike, load_public_key, sec1

__all__ = ["WRAPPED_KEY_SIZE", "WrapSteps", "unwrap", "wrap", "wrap_many", "wrap_steps"]

#: Size of a wrapped 32-byte conversation key: ephemeral point, ciphertext, tag.
WRAPPED_KEY_SIZE = 113
_POINT = 65
_TAG = 16
_COUNTER_1 = b"\x00\x00\x00\x01"
_CURVE = ec.SECP256R1()
_ECDH = ec.ECDH()


def _check_key(conversation_key: bytes) -> None:
    if not isinstance(conversation_key, (bytes, bytearray)) or len(conversation_key) != 32:
        got = len(conversation_key) if isinstance(conversation_key, (bytes, bytearray)) else type(conversation_key).__name__
        raise WireFormatError(f"conversation key must be exactly 32 bytes long, got {got}")


def _kdf(shared: bytes, eph: bytes) -> bytes:
    # X9.63 with a 32-byte output is exactly one SHA-256 block; hashlib avoids the
    # per-call object set-up of cryptography's X963KDF (same bytes: see tests/test_wrap.py).
    return hashlib.sha256(shared + _COUNTER_1 + eph).digest()


def wrap(conversation_key: bytes, recipient: PublicKeyLike) -> bytes:
    """Wrap a 32-byte conversation key to one identity public key; 113 bytes.

    `recipient` may be a parsed key, SPKI DER (91 bytes), SEC1 (65 or 33 bytes), or base64 of those.
    """
    _check_key(conversation_key)
    public = load_public_key(recipient, what="recipient identity key")
    return _wrap_one(bytes(conversation_key), public)


def _wrap_one(conversation_key: bytes, public: ec.EllipticCurvePublicKey) -> bytes:
    eph = ec.generate_private_key(_CURVE)
    eph_point = sec1(eph.public_key())
    k = _kdf(eph.exchange(_ECDH, public), eph_point)
    return eph_point + AESGCM(k[:16]).encrypt(k[16:], conversation_key, None)


def wrap_many(conversation_key: bytes, recipients: Iterable[ec.EllipticCurvePublicKey]) -> Iterator[bytes]:
    """Wrap one conversation key to many parsed identity keys, in order (the hot loop of an init)."""
    _check_key(conversation_key)
    key = bytes(conversation_key)
    for public in recipients:
        yield _wrap_one(key, public)


def unwrap(private_key: ec.EllipticCurvePrivateKey, wrapped: bytes) -> bytes:
    """Open a wrapped key with the identity private key; the 32-byte conversation key.

    Raises `WireFormatError` for a blob of the wrong shape and `DecryptionError` when the
    tag does not match (a different key, or a changed byte).
    """
    if not isinstance(wrapped, (bytes, bytearray, memoryview)):
        raise WireFormatError(f"wrapped conversation key must be bytes, got {type(wrapped).__name__}")
    if len(wrapped) != WRAPPED_KEY_SIZE:
        raise WireFormatError(
            f"wrapped conversation key must be {WRAPPED_KEY_SIZE} bytes (65 point + 32 ciphertext + 16 tag), got {len(wrapped)}"
        )
    eph_point = bytes(wrapped[:_POINT])
    eph = load_public_key(eph_point, what="ephemeral key in the wrapped conversation key")
    k = _kdf(private_key.exchange(_ECDH, eph), eph_point)
    try:
        return AESGCM(k[:16]).decrypt(k[16:], bytes(wrapped[_POINT:]), None)
    except InvalidTag:
        raise DecryptionError(
            "wrapped conversation key does not open: it was wrapped to another identity key, or a byte changed"
        ) from None


@dataclass(frozen=True)
class WrapSteps:
    """Every intermediate value of one wrap, for looking at (not for production use)."""

    ephemeral_public: bytes
    shared_secret: bytes
    kdf_output: bytes
    aes_key: bytes
    iv: bytes
    ciphertext: bytes
    tag: bytes

    @property
    def wrapped(self) -> bytes:
        """The 113 bytes that go on the wire: ``E ‖ ciphertext ‖ tag``."""
        return self.ephemeral_public + self.ciphertext + self.tag


def wrap_steps(
    conversation_key: bytes, recipient: PublicKeyLike, *, ephemeral: ec.EllipticCurvePrivateKey | None = None
) -> WrapSteps:
    """Wrap like `wrap`, returning each step; pass `ephemeral` to make it repeatable in a lesson."""
    _check_key(conversation_key)
    public = load_public_key(recipient, what="recipient identity key")
    eph = ephemeral or ec.generate_private_key(_CURVE)
    eph_point = sec1(eph.public_key())
    shared = eph.exchange(_ECDH, public)
    k = _kdf(shared, eph_point)
    sealed = AESGCM(k[:16]).encrypt(k[16:], bytes(conversation_key), None)
    return WrapSteps(
        ephemeral_public=eph_point,
        shared_secret=shared,
        kdf_output=k,
        aes_key=k[:16],
        iv=k[16:],
        ciphertext=sealed[:-_TAG],
        tag=sealed[-_TAG:],
    )
