"""Action signatures: what is signed, and ECDSA P-256 sign / verify in raw ``r‖s`` form.

Signatures are deterministic (RFC 6979): the same key and the same bytes always give the
same 64 bytes, exactly as the official SDK signs. Verification accepts high-S signatures
(about half of the SDK's have one).
"""

from __future__ import annotations

import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from kit.encoding import b64, b64_nopad, from_b64
from kit.errors import SignatureError, WireFormatError

__all__ = [
    "check_signature_version",
    "signature_version_number",
    "KEY_CHANGE_MIN_SIGNATURE_VERSION",
    "MIN_SIGNATURE_VERSION",
    "SIGNATURE_VERSION",
    "decode_signature",
    "delete_payload",
    "encode_signature",
    "key_change_payload",
    "message_payload",
    "sign",
    "verify",
]

#: The signature version the kit writes (the SDK's current one).
SIGNATURE_VERSION = "7"
#: The lowest version a verifier accepts; v1 lacked the event type and key version.
MIN_SIGNATURE_VERSION = 2
#: The first version whose key-change payload signs the plaintext conversation key (v6 and v7 share it).
KEY_CHANGE_MIN_SIGNATURE_VERSION = 6

_ECDSA = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_ECDSA_VERIFY = ec.ECDSA(hashes.SHA256())


def _payload(kind: str, parts: dict[str, str]) -> bytes:
    for name, value in parts.items():
        if not isinstance(value, str):
            raise WireFormatError(f"{kind} payload: {name} must be a string, got {type(value).__name__}")
        if "," in value:
            raise WireFormatError(f"{kind} payload: {name} must not contain ',', got {value!r}")
    return ",".join((kind, *parts.values())).encode("utf-8")


def key_change_payload(
    *, message_id: str, sender_id: str, conversation_id: str, conversation_key_version: str, conversation_key: bytes
) -> bytes:
    """The bytes a v7 key-change action signature covers.

    ``ConversationKeyChangeEvent,{message_id},{sender_id},{conversation_id},{version},{key}``
    where `conversation_id` is canonical (``min:max`` or ``g…``) and `key` is the plaintext
    32-byte conversation key in base64 without padding. Because it holds the plaintext key,
    only participants can check it; never send it to the server.
    """
    if not isinstance(conversation_key, (bytes, bytearray)) or len(conversation_key) != 32:
        is_bytes = isinstance(conversation_key, (bytes, bytearray))
        got = len(conversation_key) if is_bytes else type(conversation_key).__name__
        raise WireFormatError(f"conversation key must be exactly 32 bytes long, got {got}")
    return _payload(
        "ConversationKeyChangeEvent",
        {
            "message_id": message_id,
            "sender_id": sender_id,
            "conversation_id": conversation_id,
            "conversation_key_version": conversation_key_version,
            "conversation_key": b64_nopad(conversation_key),
        },
    )


def message_payload(
    *, message_id: str, sender_id: str, conversation_id: str, conversation_key_version: str, sealed: bytes
) -> bytes:
    """The bytes a message signature covers: the sealed blob (nonce ‖ tag ‖ ciphertext), not the text.

    ``MessageCreateEvent,{message_id},{sender_id},{conversation_id},{version},{b64-nopad sealed}``
    """
    if not isinstance(sealed, (bytes, bytearray)):
        raise WireFormatError(f"MessageCreateEvent payload: sealed must be bytes, got {type(sealed).__name__}")
    return _payload(
        "MessageCreateEvent",
        {
            "message_id": message_id,
            "sender_id": sender_id,
            "conversation_id": conversation_id,
            "conversation_key_version": conversation_key_version,
            "sealed": b64_nopad(sealed),
        },
    )


def delete_payload(
    *, message_id: str, sender_id: str, conversation_id: str, delete_for_all: bool, sequence_ids: tuple[str, ...] | list[str]
) -> bytes:
    """The bytes a delete action signature covers; all of it is plaintext, so a server can check it too.

    ``MessageDeleteEvent,{message_id},{sender_id},{conversation_id},{1|2},{sequence_id},...``
    where 1 is delete for self and 2 delete for all (the `delete_message_action` wire value).
    """
    parts = {
        "message_id": message_id,
        "sender_id": sender_id,
        "conversation_id": conversation_id,
        "delete_message_action": "2" if delete_for_all else "1",
    }
    parts.update({f"sequence_ids[{i}]": seq for i, seq in enumerate(sequence_ids)})
    return _payload("MessageDeleteEvent", parts)


def sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 over `data`, RFC 6979 nonce; 64 bytes ``r‖s``."""
    r, s = decode_dss_signature(private_key.sign(data, _ECDSA))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, *, what: str = "signature") -> None:
    """Raise `SignatureError` unless `signature` (64 bytes ``r‖s``) signs `data` under `public_key`."""
    if not isinstance(signature, (bytes, bytearray)) or len(signature) != 64:
        got = len(signature) if isinstance(signature, (bytes, bytearray)) else type(signature).__name__
        raise SignatureError(f"{what} must be 64 bytes (r‖s), got {got}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), data, _ECDSA_VERIFY)
    except InvalidSignature:
        raise SignatureError(f"{what} does not verify: the bytes or the signing key differ from what was signed") from None


def encode_signature(signature: bytes, *, padded: bool = False) -> str:
    """Base64 text of a raw signature: unpadded (86 chars) for actions and messages, padded for key bindings."""
    return b64(signature) if padded else b64_nopad(signature)


def decode_signature(text: object, *, what: str = "signature") -> bytes:
    """Raw 64 bytes from a base64 signature, padded or not; `WireFormatError` otherwise."""
    raw = from_b64(text, what=what, max_len=100)
    if len(raw) != 64:
        raise WireFormatError(f"{what} must decode to 64 bytes (r‖s), got {len(raw)}")
    return raw


#: How the SDK writes a signature version: canonical decimal (no sign, space, leading zero or
#: non-ASCII digit), at most 9 digits so int() is always cheap and safe.
_CANONICAL_VERSION = re.compile(r"[1-9][0-9]{0,8}")


def signature_version_number(version: object) -> int | None:
    """The number a `signature_version` names when it is written exactly as the SDK writes one
    (``"7"``; not ``"07"``, ``"+7"``, ``" 7"``, ``"7\\n"`` or ``"٧"``), else None. The one rule the
    kit's readers and the sandbox both apply."""
    if isinstance(version, str) and _CANONICAL_VERSION.fullmatch(version):
        return int(version)
    return None


def check_signature_version(version: str, what: str, *, minimum: int = MIN_SIGNATURE_VERSION) -> None:
    """Refuse a `signature_version` that is not canonical decimal or is below `minimum`; `what` names the event."""
    number = signature_version_number(version)
    if number is None:
        raise SignatureError(f"{what} signature_version {version!r} is not accepted (not canonical decimal, as the SDK writes it)")
    if number < minimum:
        raise SignatureError(f"{what} signature_version {version!r} is not accepted (minimum {minimum})")
