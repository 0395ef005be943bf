"""Base64 the way X Chat writes it: padded for keys and Thrift, unpadded for signatures.

Decoding is strict (only the standard alphabet, correct padding or none) and names the
field that was wrong, because a learner's first mistake is usually a pasted string.
"""

from __future__ import annotations

import base64
import binascii
import re

from kit.errors import WireFormatError

__all__ = ["b64", "b64_nopad", "b64url_nopad", "from_b64"]

_STD = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")


def b64(data: bytes) -> str:
    """Standard base64 with padding (keys, wrapped keys, Thrift)."""
    return base64.b64encode(data).decode("ascii")


def b64_nopad(data: bytes) -> str:
    """Standard base64 without padding (action and message signatures, the signed key)."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def b64url_nopad(data: bytes) -> str:
    """URL-safe base64 without padding (key fingerprints)."""
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def from_b64(text: object, *, what: str, max_len: int | None = None) -> bytes:
    """Decode standard base64, padded or not; raise `WireFormatError` naming `what`."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            raise WireFormatError(f"{what} must be base64 text, got non-ASCII bytes") from None
    if not isinstance(text, str):
        raise WireFormatError(f"{what} must be base64 text, got {type(text).__name__}")
    if max_len is not None and len(text) > max_len:
        raise WireFormatError(f"{what} is {len(text)} characters long, more than the {max_len} allowed")
    if not len(text) % 4:  # the common case, well-formed padded text, in one C call
        try:
            raw = binascii.a2b_base64(text, strict_mode=True)
        except (binascii.Error, ValueError):
            raw = None
        # strict mode still lets a surplus '=' through ("abc=" + "="): the length settles it
        if raw is not None and len(raw) == len(text) // 4 * 3 - (len(text) - len(text.rstrip("="))):
            return raw
    if not _STD.fullmatch(text):
        bad = next((c for c in text if not (c.isascii() and (c.isalnum() or c in "+/="))), None)
        reason = f"character {bad!r} is not in the standard base64 alphabet" if bad else "padding is misplaced"
        raise WireFormatError(f"{what} is not valid base64: {reason}")
    stripped = text.rstrip("=")
    if len(stripped) % 4 == 1:
        raise WireFormatError(f"{what} is not valid base64: {len(stripped)} characters cannot be a whole number of bytes")
    padded = stripped + "=" * (-len(stripped) % 4)
    if text != stripped and text != padded:
        raise WireFormatError(f"{what} is not valid base64: wrong amount of '=' padding")
    try:
        return base64.b64decode(padded, validate=True)
    except binascii.Error as exc:  # pragma: no cover - the checks above catch every case seen
        raise WireFormatError(f"{what} is not valid base64: {exc}") from None
