"""The message cipher: XSalsa20-Poly1305 (NaCl secretbox, via pynacl) under the conversation key.

A sealed blob is ``nonce(24) ‖ tag(16) ‖ ciphertext``, exactly pynacl's layout. Every kind of
message (text, reply, edit, reaction) is sealed the same way; only the plaintext differs.
"""

from __future__ import annotations

from kit.content import Content, read_content
from kit.errors import DecryptionError, WireFormatError
from kit.thrift import encode_text, read_text

__all__ = ["MIN_SEALED", "open_content", "open_sealed", "open_text", "seal", "seal_text"]

#: The shortest blob that can open: a 24-byte nonce and a 16-byte tag.
MIN_SEALED = 40


def _check_key(conversation_key: bytes) -> None:
    if not isinstance(conversation_key, (bytes, bytearray)) or len(conversation_key) != 32:
        got = len(conversation_key) if isinstance(conversation_key, (bytes, bytearray)) else type(conversation_key).__name__
        raise WireFormatError(f"conversation key must be exactly 32 bytes long, got {got}")


def seal(plaintext: bytes, conversation_key: bytes, *, nonce: bytes | None = None) -> bytes:
    """Seal plaintext bytes: ``nonce ‖ tag ‖ ciphertext`` (a fresh random nonce unless one is given)."""
    from nacl.secret import SecretBox

    _check_key(conversation_key)
    box = SecretBox(bytes(conversation_key))
    return bytes(box.encrypt(plaintext, nonce) if nonce is not None else box.encrypt(plaintext))


def open_sealed(sealed: bytes, conversation_key: bytes) -> bytes:
    """Open a sealed blob to its plaintext bytes; `DecryptionError` if the key or a byte is wrong."""
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    if len(sealed) < MIN_SEALED:
        raise WireFormatError(f"sealed message must be at least {MIN_SEALED} bytes (nonce + tag), got {len(sealed)}")
    _check_key(conversation_key)
    try:
        return bytes(SecretBox(bytes(conversation_key)).decrypt(bytes(sealed)))
    except CryptoError:
        raise DecryptionError("message does not open: wrong conversation key, or a byte changed") from None


def seal_text(text: str, conversation_key: bytes, *, nonce: bytes | None = None) -> bytes:
    """Seal a text message: ``nonce ‖ tag ‖ ciphertext`` of its Thrift plaintext."""
    if not isinstance(text, str):
        raise WireFormatError(f"message text must be a str, got {type(text).__name__}")
    return seal(encode_text(text), conversation_key, nonce=nonce)


def open_text(sealed: bytes, conversation_key: bytes) -> str:
    """Open a sealed text message and read its text (other kinds raise `WireFormatError`)."""
    return read_text(open_sealed(sealed, conversation_key))


def open_content(sealed: bytes, conversation_key: bytes) -> Content:
    """Open a sealed blob and decode whatever kind it holds (`kit.content.Content`)."""
    return read_content(open_sealed(sealed, conversation_key))
