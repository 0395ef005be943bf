"""Checks for 02 · Wrapping the conversation key: the ECIES wrap built by hand, and what tampering is."""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kit.errors import DecryptionError, WireFormatError
from kit.keys import Identity
from kit.lesson import Check, check_bytes, check_choice
from kit.points import PublicKeyLike, load_public_key, sec1
from kit.wrap import wrap_steps

__all__ = ["check_tamper_error", "check_wrap"]

WRAPPED_FIELDS = [("ephemeral point", 65), ("ciphertext", 32), ("tag", 16)]


def _variants(conversation_key: bytes, public: ec.EllipticCurvePublicKey, eph: ec.EllipticCurvePrivateKey) -> list[tuple[bytes, str]]:
    """Wrapped keys made with the mistakes people make, each with what went wrong."""
    e = sec1(eph.public_key())
    z = eph.exchange(ec.ECDH(), public)
    k = hashlib.sha256(z + b"\x00\x00\x00\x01" + e).digest()
    out = []

    def seal(key: bytes, iv: bytes) -> bytes:
        return AESGCM(key).encrypt(iv, conversation_key, None)

    out.append((e + seal(k[:16], k[16:28]), "you used a 12-byte IV (K[16:28]): X Chat's IV is all 16 bytes K[16:32]"))
    out.append((e + seal(k[16:], k[:16]), "the two halves are swapped: the AES key is K[0:16], the IV K[16:32]"))
    k0 = hashlib.sha256(z + b"\x00\x00\x00\x00" + e).digest()
    out.append((e + seal(k0[:16], k0[16:]), "the KDF counter starts at 1 (00000001), not 0"))
    kz = hashlib.sha256(z + b"\x00\x00\x00\x01").digest()
    out.append((e + seal(kz[:16], kz[16:]), "the KDF's shared info is E: hash Z ‖ 00000001 ‖ E, not Z ‖ 00000001"))
    kb = hashlib.sha256(z).digest()
    out.append((e + seal(kb[:16], kb[16:]), "K is SHA-256(Z ‖ 00000001 ‖ E), not SHA-256(Z) alone"))
    out.append((seal(k[:16], k[16:]), "the ephemeral point E (65 bytes) goes first: the wrapped key is E ‖ ciphertext ‖ tag"))
    out.append((e[1:] + seal(k[:16], k[16:]), "E is the uncompressed SEC1 point with its 04 prefix: 65 bytes, not 64"))
    return out


def check_wrap(
    answer: Any, *, conversation_key: bytes, recipient: PublicKeyLike, ephemeral: ec.EllipticCurvePrivateKey, others: dict[str, PublicKeyLike] | None = None
) -> Check:
    """Your 113-byte wrap of `conversation_key` to `recipient` with the fixed `ephemeral` key, against `kit.wrap`.

    `others` maps a name to another participant's key, so wrapping to the wrong identity is named.
    """
    public = load_public_key(recipient, what="recipient identity key")
    expected = wrap_steps(conversation_key, public, ephemeral=ephemeral).wrapped
    mistakes: list[tuple[Any, str]] = _variants(conversation_key, public, ephemeral)
    for name, key in (others or {}).items():
        wrong = wrap_steps(conversation_key, key, ephemeral=ephemeral).wrapped
        mistakes.append((wrong, f"that is wrapped to {name}'s identity key: use the recipient's"))
    return check_bytes(answer, expected, right="the same 113 bytes as kit.wrap", fields=WRAPPED_FIELDS, mistakes=mistakes)


#: What happens when one byte of a wrapped key changes, by where it is.
TAMPER_CHOICES = {
    "encoding error": "a WireFormatError: the bytes are not a valid wrapped key before any decryption is tried",
    "authentication failure": "a DecryptionError: AES-GCM's tag does not match, so nothing is decrypted",
    "opens to another key": "AES-GCM never returns different plaintext for changed bytes: the tag check fails first",
}


def check_tamper_error(answer: Any, *, wrapped: bytes, byte: int, recipient: Identity) -> Check:
    """Which error flipping the low bit of `byte` in `wrapped` gives when `recipient` unwraps it (tried for real)."""
    tampered = bytearray(wrapped)
    tampered[byte] ^= 0x01
    try:
        recipient.unwrap(bytes(tampered))
        expected = "opens to another key"  # never happens with AES-GCM; the check would say so
    except WireFormatError:
        expected = "encoding error"
    except DecryptionError:
        expected = "authentication failure"
    said = {
        choice: TAMPER_CHOICES[choice] if choice == expected else f"not {choice!r}: flipping byte {byte} gives {TAMPER_CHOICES[expected]}"
        for choice in TAMPER_CHOICES
    }
    return check_choice(answer, expected, choices=said, right=f"flipping byte {byte}")
