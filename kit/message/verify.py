"""One step every message kind shares on the recipient side: check the signature, then open the blob.

The signed bytes are rebuilt from the envelope as stored (message id, sender, conversation id)
and the `MessageCreateEvent` (key version, sealed blob): the same for a text, a reply, an edit
or a reaction, so the signature proves who sealed the blob, never what kind it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kit import signature as _sig
from kit.encoding import from_b64
from kit.errors import KeyNotFoundError, SignatureError, WireFormatError
from kit.keys import PublicKeys
from kit.message.cipher import open_sealed
from kit.protocol import MAX_EVENT_CHARS, find_signing_key
from kit.thrift import MessageCreateEvent, MessageEvent, read_message_event

__all__ = ["OpenedEvent", "event_bytes", "key_for", "open_event", "parse_event", "verify_event"]


@dataclass(frozen=True)
class OpenedEvent:
    """A message event whose signature verified and whose blob opened."""

    event: MessageEvent
    create_event: MessageCreateEvent
    plaintext: bytes
    signer: PublicKeys


def event_bytes(event: object, *, what: str = "message event") -> bytes:
    """The raw bytes of an event given as base64 text, bytes, or anything with `.event` bytes (a `kit.Message`)."""
    raw = getattr(event, "event", event)
    if isinstance(raw, (bytes, bytearray, memoryview)):
        if not raw:
            raise WireFormatError(f"{what} is empty (a kit.Message made by hand has no raw event to point at)")
        return bytes(raw)
    return from_b64(raw, what=what, max_len=MAX_EVENT_CHARS)


def parse_event(event: object, *, what: str = "message event") -> tuple[bytes, MessageEvent]:
    """Decode an event (base64, bytes or a `kit.Message`) into its bytes and `MessageEvent`."""
    raw = event_bytes(event, what=what)
    return raw, read_message_event(raw, what=what)


def key_for(keys: Mapping[str, bytes], version: str, message_id: str) -> bytes:
    """The key for one conversation key version; `KeyNotFoundError` naming the versions known."""
    key = keys.get(version)
    if key is None:
        raise KeyNotFoundError(
            f"message {message_id} was sealed with conversation key version {version}; known versions: {sorted(keys)}"
        )
    return key


def verify_event(event: MessageEvent, signing_keys: Iterable[PublicKeys], *, what: str = "message") -> tuple[MessageCreateEvent, PublicKeys]:
    """Check a message event's signature with its sender's signing key; the `MessageCreateEvent` and the signer."""
    mce = event.read_detail()
    if not isinstance(mce, MessageCreateEvent):
        kind = getattr(mce, "name", type(mce).__name__)
        raise WireFormatError(f"event {event.message_id} is not a message: its detail is {kind}")
    if event.signature is None:
        raise SignatureError(f"{what} {event.message_id} carries no message_event_signature")
    _sig.check_signature_version(event.signature.signature_version, f"{what} {event.message_id}")
    signer = find_signing_key(signing_keys, event.sender_id, event.signature.public_key_version)
    _sig.verify(
        signer.signing_key,
        _sig.decode_signature(event.signature.signature, what="message signature"),
        _sig.message_payload(
            message_id=event.message_id,
            sender_id=event.sender_id,
            conversation_id=event.conversation_id,
            conversation_key_version=mce.conversation_key_version,
            sealed=mce.contents,
        ),
        what=f"signature of {what} {event.message_id} by user {event.sender_id}",
    )
    return mce, signer


def open_event(
    event: MessageEvent, keys: Mapping[str, bytes], signing_keys: Iterable[PublicKeys], *, what: str = "message"
) -> OpenedEvent:
    """Verify, then decrypt: the signature is checked before anything is opened."""
    mce = event.read_detail()
    if isinstance(mce, MessageCreateEvent):
        key_for(keys, mce.conversation_key_version, event.message_id)  # a missing key is named before the signature
    mce, signer = verify_event(event, signing_keys, what=what)
    plaintext = open_sealed(mce.contents, key_for(keys, mce.conversation_key_version, event.message_id))
    return OpenedEvent(event, mce, plaintext, signer)
