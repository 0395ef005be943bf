"""The message cipher: a text message sealed with the conversation key, signed by its sender.

Sender: the text goes in a Thrift `MessageEntryHolder`, which is sealed with
XSalsa20-Poly1305 (NaCl secretbox, via pynacl) under the 32-byte conversation key:
``nonce(24) ‖ tag(16) ‖ ciphertext``. That blob goes in a `MessageCreateEvent` with the
conversation key version, and the sender signs
``MessageCreateEvent,{message_id},{sender_id},{min:max},{version},{b64-nopad blob}``.

Recipient: the server wraps both in a `MessageEvent` envelope; the recipient rebuilds the
signed text from the envelope as stored, checks the signature, then opens the blob.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kit import signature as _sig
from kit.encoding import b64, from_b64
from kit.errors import DecryptionError, WireFormatError
from kit.ids import ConversationId, check_version
from kit.keys import Identity, PublicKeys
from kit.protocol import MAX_EVENT_CHARS, find_signing_key
from kit.trust import TrustStore
from kit.thrift import EventSignature, MessageCreateEvent, encode_text, read_message_event, read_text

__all__ = ["Message", "PreparedMessage", "open_text", "prepare_message", "read_message", "seal_text"]

_NONCE = 24
_MIN_SEALED = 40


def seal_text(text: str, conversation_key: bytes, *, nonce: bytes | None = None) -> bytes:
    """Seal a text message: ``nonce ‖ tag ‖ ciphertext`` of its Thrift plaintext."""
    from nacl.secret import SecretBox

    if not isinstance(text, str):
        raise WireFormatError(f"message text must be a str, got {type(text).__name__}")
    if len(conversation_key) != 32:
        raise WireFormatError(f"conversation key must be exactly 32 bytes long, got {len(conversation_key)}")
    box = SecretBox(bytes(conversation_key))
    return bytes(box.encrypt(encode_text(text), nonce) if nonce is not None else box.encrypt(encode_text(text)))


def open_text(sealed: bytes, conversation_key: bytes) -> str:
    """Open a sealed blob and read its text; `DecryptionError` if the key or a byte is wrong."""
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    if len(sealed) < _MIN_SEALED:
        raise WireFormatError(f"sealed message must be at least {_MIN_SEALED} bytes (nonce + tag), got {len(sealed)}")
    try:
        plain = SecretBox(bytes(conversation_key)).decrypt(bytes(sealed))
    except CryptoError:
        raise DecryptionError("message does not open: wrong conversation key, or a byte changed") from None
    return read_text(plain)


@dataclass(frozen=True)
class PreparedMessage:
    """A message ready to send; `body` is the `SendChatMessageRequest` JSON."""

    message_id: str
    conversation_id: str
    path_id: str
    conversation_key_version: str
    create_event: MessageCreateEvent
    signature: bytes
    body: dict[str, Any]


@dataclass(frozen=True)
class Message:
    """A message read, verified and decrypted by a recipient."""

    text: str
    sender_id: str
    message_id: str
    conversation_id: str
    conversation_key_version: str
    sequence_id: str
    created_at_msec: str


def prepare_message(
    sender: Identity,
    conversation_id: str,
    text: str,
    *,
    conversation_key: bytes,
    conversation_key_version: str,
    message_id: str | None = None,
    ttl_msec: int | None = None,
    nonce: bytes | None = None,
) -> PreparedMessage:
    """Seal and sign a text message for `POST /2/chat/conversations/{id}/messages`."""
    cid = ConversationId.parse(conversation_id, caller=sender.user_id)
    check_version(conversation_key_version, what="conversation key version")
    mid = message_id if message_id is not None else str(uuid.uuid4())
    sealed = seal_text(text, conversation_key, nonce=nonce)
    mce = MessageCreateEvent(sealed, conversation_key_version, True, ttl_msec)
    signature = sender.sign(
        _sig.message_payload(
            message_id=mid,
            sender_id=sender.user_id,
            conversation_id=cid.canonical,
            conversation_key_version=conversation_key_version,
            sealed=sealed,
        )
    )
    mes = EventSignature(_sig.encode_signature(signature), sender.version, _sig.SIGNATURE_VERSION)
    return PreparedMessage(
        message_id=mid,
        conversation_id=cid.canonical,
        path_id=cid.path,
        conversation_key_version=conversation_key_version,
        create_event=mce,
        signature=signature,
        body={
            "message_id": mid,
            "encoded_message_create_event": b64(mce.encode()),
            "encoded_message_event_signature": b64(mes.encode()),
        },
    )


def read_message(
    event_b64: str | bytes,
    *,
    conversation_key: bytes | dict[str, bytes],
    signing_keys: Iterable[PublicKeys],
    trust: TrustStore | None = None,
) -> Message:
    """Verify and decrypt a message `MessageEvent` (as served in `data[].encoded_event`).

    `conversation_key` is the key, or a map from conversation key version to key.
    The signature is checked before anything is decrypted. With `trust` (a `kit.TrustStore`),
    a signer whose keys differ from the pinned or verified ones raises `TrustError`; a new one is pinned.
    """
    raw = event_b64 if isinstance(event_b64, (bytes, bytearray)) else from_b64(event_b64, what="message event", max_len=MAX_EVENT_CHARS)
    event = read_message_event(bytes(raw), what="message event")
    mce = event.read_detail()
    if not isinstance(mce, MessageCreateEvent):
        raise WireFormatError(f"event {event.message_id} is not a message: its detail is {type(mce).__name__}")
    version = mce.conversation_key_version
    if isinstance(conversation_key, dict):
        key = conversation_key.get(version)
        if key is None:
            from kit.errors import KeyNotFoundError

            raise KeyNotFoundError(
                f"message {event.message_id} was sealed with conversation key version {version}; "
                f"known versions: {sorted(conversation_key)}"
            )
    else:
        key = conversation_key
    if event.signature is None:
        from kit.errors import SignatureError

        raise SignatureError(f"message {event.message_id} carries no message_event_signature")
    _sig.check_signature_version(event.signature.signature_version, f"message {event.message_id}")
    signer = find_signing_key(signing_keys, event.sender_id, event.signature.public_key_version)
    _sig.verify(
        signer.signing_key,
        _sig.decode_signature(event.signature.signature, what="message signature"),
        _sig.message_payload(
            message_id=event.message_id,
            sender_id=event.sender_id,
            conversation_id=event.conversation_id,
            conversation_key_version=version,
            sealed=mce.contents,
        ),
        what=f"signature of message {event.message_id} by user {event.sender_id}",
    )
    if trust is not None:
        trust.require(signer, what=f"message {event.message_id} from user {event.sender_id}")
    return Message(
        text=open_text(mce.contents, key),
        sender_id=event.sender_id,
        message_id=event.message_id,
        conversation_id=event.conversation_id,
        conversation_key_version=version,
        sequence_id=event.sequence_id,
        created_at_msec=event.created_at_msec,
    )
