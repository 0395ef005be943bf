"""P-256 public keys on the wire: SPKI DER (91 bytes), uncompressed SEC1 (65), compressed (33).

The lowest layer under identities and the key wrap: `load_public_key` reads any of the forms the API,
the SDK and the docs use (raw or base64), `sec1` and `spki` write them. Notebook 01 shows the bytes.
"""

from __future__ import annotations

from typing import Union

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from kit.encoding import from_b64
from kit.errors import WireFormatError

__all__ = ["CURVE", "SPKI_PREFIX", "PublicKeyLike", "load_public_key", "sec1", "spki"]

#: The DER header of every P-256 SubjectPublicKeyInfo; the 65-byte point follows it.
SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")
#: The one curve of X Chat: NIST P-256 (secp256r1).
CURVE = ec.SECP256R1()

PublicKeyLike = Union[ec.EllipticCurvePublicKey, bytes, str]


def load_public_key(key: PublicKeyLike, *, what: str = "public key") -> ec.EllipticCurvePublicKey:
    """Parse a P-256 public key: SPKI DER (91 bytes), SEC1 (65 or 33 bytes), or base64 of either."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key
    raw = from_b64(key, what=what, max_len=200) if isinstance(key, str) else key
    if not isinstance(raw, (bytes, bytearray)):
        raise WireFormatError(f"{what} must be bytes or base64 text, got {type(key).__name__}")
    raw = bytes(raw)
    if len(raw) == 91:
        if raw[:26] != SPKI_PREFIX:
            raise WireFormatError(f"{what} is 91 bytes but not a P-256 SubjectPublicKeyInfo (wrong DER header)")
        raw = raw[26:]
    if len(raw) not in (65, 33):
        raise WireFormatError(
            f"{what} must be SPKI (91 bytes) or SEC1 (65 or 33 bytes), got {len(raw)} bytes"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(CURVE, raw)
    except ValueError:
        raise WireFormatError(f"{what} is not a point on the P-256 curve") from None


def sec1(key: ec.EllipticCurvePublicKey) -> bytes:
    """The 65-byte uncompressed SEC1 point (``04 ‖ X ‖ Y``)."""
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def spki(key: ec.EllipticCurvePublicKey) -> bytes:
    """The 91-byte SPKI DER encoding (what the API stores)."""
    return SPKI_PREFIX + sec1(key)
