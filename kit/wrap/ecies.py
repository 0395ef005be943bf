"""ECIES key wrap: the conversation key, encrypted to one participant's identity key (one core).

For each participant:

1. make an ephemeral P-256 key pair; ``E`` = its 65-byte uncompressed public point;
2. ``Z`` = ECDH(ephemeral private key, participant's identity public key), 32 bytes;
3. ``K`` = ANSI X9.63 KDF with SHA-256 and shared info ``E``: one block, ``SHA256(Z ‖ 00000001 ‖ E)``;
4. AES-128-GCM with key ``K[:16]`` and the 16-byte IV ``K[16:]``, no associated data;
5. the wrapped key is ``E ‖ ciphertext ‖ tag``: 65 + 32 + 16 = 113 bytes (152 base64 characters).

Each wrap costs one key generation and one ECDH; nothing is shared between participants,
so a large roster (an init for thousands of members) is split between this process and a
helper process on each other core (`kit.wrap.workers`, which wraps its share with `wrap_block`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kit.errors import DecryptionError, WireFormatError
from kit.points import PublicKeyLike, load_public_key, sec1

__all__ = ["WRAPPED_KEY_SIZE", "WrapSteps", "check_key", "unwrap", "wrap", "wrap_block", "wrap_many", "wrap_steps"]

#: Size of a wrapped 32-byte conversation key: ephemeral point, ciphertext, tag.
WRAPPED_KEY_SIZE = 113
_POINT = 65
_TAG = 16
_COUNTER_1 = b"\x00\x00\x00\x01"
_CURVE = ec.SECP256R1()
_ECDH = ec.ECDH()
_X962 = Encoding.X962
_UNCOMPRESSED = PublicFormat.UncompressedPoint
_sha256 = hashlib.sha256
_from_point = ec.EllipticCurvePublicKey.from_encoded_point


def check_key(conversation_key: bytes) -> None:
    """`WireFormatError` unless `conversation_key` is exactly 32 bytes."""
    if not isinstance(conversation_key, (bytes, bytearray)) or len(conversation_key) != 32:
        got = len(conversation_key) if isinstance(conversation_key, (bytes, bytearray)) else type(conversation_key).__name__
        raise WireFormatError(f"conversation key must be exactly 32 bytes long, got {got}")


def _kdf(shared: bytes, eph: bytes) -> bytes:
    # X9.63 with a 32-byte output is exactly one SHA-256 block; hashlib avoids the
    # per-call object set-up of cryptography's X963KDF (same bytes: see tests/test_wrap.py).
    return _sha256(shared + _COUNTER_1 + eph).digest()


def wrap(conversation_key: bytes, recipient: PublicKeyLike) -> bytes:
    """Wrap a 32-byte conversation key to one identity public key; 113 bytes.

    `recipient` may be a parsed key, SPKI DER (91 bytes), SEC1 (65 or 33 bytes), or base64 of those.
    """
    check_key(conversation_key)
    public = load_public_key(recipient, what="recipient identity key")
    return _wrap_one(bytes(conversation_key), public)


def _wrap_one(conversation_key: bytes, public: ec.EllipticCurvePublicKey) -> bytes:
    eph = ec.generate_private_key(_CURVE)
    eph_point = eph.public_key().public_bytes(_X962, _UNCOMPRESSED)
    k = _sha256(b"".join((eph.exchange(_ECDH, public), _COUNTER_1, eph_point))).digest()
    return eph_point + AESGCM(k[:16]).encrypt(k[16:], conversation_key, None)


def wrap_block(key: bytes, recipients: Iterable[ec.EllipticCurvePublicKey]) -> list[bytes]:
    """Wrap a checked 32-byte `key` to each parsed key in `recipients`, in order, on this core."""
    # The steps of `_wrap_one`, inlined with every name bound locally: per participant this
    # costs one key generation, one ECDH and about 9 µs more, most of it encoding the
    # ephemeral point (measured in benchmarks/).
    generate, curve, ecdh, x962, uncompressed = ec.generate_private_key, _CURVE, _ECDH, _X962, _UNCOMPRESSED
    sha256, counter, aesgcm, join = _sha256, _COUNTER_1, AESGCM, b"".join
    out = []
    append = out.append
    for public in recipients:
        eph = generate(curve)
        eph_point = eph.public_key().public_bytes(x962, uncompressed)
        k = sha256(join((eph.exchange(ecdh, public), counter, eph_point))).digest()
        append(eph_point + aesgcm(k[:16]).encrypt(k[16:], key, None))
    return out


def wrap_many(conversation_key: bytes, recipients: Iterable[ec.EllipticCurvePublicKey]) -> Iterator[bytes]:
    """Wrap one conversation key to many parsed identity keys, in order (the hot loop of an init)."""
    check_key(conversation_key)
    key = bytes(conversation_key)
    if isinstance(recipients, (list, tuple)):
        for start in range(0, len(recipients), 64):  # a block at a time: no per-item generator frame
            yield from wrap_block(key, recipients[start : start + 64])
    else:
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
    if eph_point[0] != 4:
        raise WireFormatError(
            f"ephemeral key in the wrapped conversation key must start with 04 (the uncompressed SEC1 prefix), got {eph_point[0]:02x}"
        )
    try:  # what load_public_key does for 65 bytes, without its checks for other shapes
        eph = _from_point(_CURVE, eph_point)
    except ValueError:
        raise WireFormatError("ephemeral key in the wrapped conversation key is not a point on the P-256 curve") from None
    k = _sha256(b"".join((private_key.exchange(_ECDH, eph), _COUNTER_1, eph_point))).digest()
    try:
        return AESGCM(k[:16]).decrypt(k[16:], wrapped[_POINT:], None)
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
    check_key(conversation_key)
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
