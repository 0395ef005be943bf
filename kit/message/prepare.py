"""Writing a message of any kind: a text (with entities, a quick reply, or as a reply), an edit, a reaction.

Every kind is the same on the wire: a plaintext (`kit.content`) sealed under the conversation
key, in a `MessageCreateEvent`, signed as
``MessageCreateEvent,{message_id},{sender_id},{min:max},{version},{b64-nopad blob}``.
The server sees the same shape for all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kit import signature as _sig
from kit.content import Entity, Preview, QuickReply, encode_edit, encode_message, encode_reaction, read_content
from kit.encoding import b64
from kit.errors import WireFormatError
from kit.ids import ConversationId, check_version
from kit.keys import Identity
from kit.message.cipher import open_sealed, seal
from kit.message.read import Message
from kit.message.verify import event_bytes, parse_event
from kit.thrift import EventSignature, MessageCreateEvent, MessageEvent

__all__ = ["PreparedMessage", "prepare_edit", "prepare_message", "prepare_reaction"]


@dataclass(frozen=True)
class PreparedMessage:
    """A message ready to send; `body` is the `SendChatMessageRequest` JSON. `kind` says what it is."""

    message_id: str
    conversation_id: str
    path_id: str
    conversation_key_version: str
    create_event: MessageCreateEvent
    signature: bytes
    body: dict[str, Any]
    kind: str = "text"
    plaintext: bytes = b""


def _seal_and_sign(
    sender: Identity,
    conversation_id: str,
    plaintext: bytes,
    kind: str,
    *,
    conversation_key: bytes,
    conversation_key_version: str,
    message_id: str | None,
    ttl_msec: int | None = None,
    nonce: bytes | None = None,
) -> PreparedMessage:
    cid = ConversationId.parse(conversation_id, caller=sender.user_id)
    check_version(conversation_key_version, what="conversation key version")
    mid = message_id if message_id is not None else str(uuid.uuid4())
    sealed = seal(plaintext, conversation_key, nonce=nonce)
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
        kind=kind,
        plaintext=plaintext,
    )


def _target(target: object, what: str) -> MessageEvent:
    _, event = parse_event(target, what=what)
    return event


def _preview(
    reply_to: object,
    conversation_id: str,
    conversation_key: bytes,
    conversation_key_version: str,
    quote: str | None,
    key_changes: Iterable[object] | None,
) -> Preview:
    raw, event = parse_event(reply_to, what="message replied to")
    if event.conversation_id != conversation_id:
        raise WireFormatError(
            f"the message replied to is in conversation {event.conversation_id}, not {conversation_id}"
        )
    mce = event.read_detail()
    if not isinstance(mce, MessageCreateEvent):
        raise WireFormatError(f"event {event.message_id} is not a message: only a message can be replied to")
    if isinstance(reply_to, Message):  # already read and verified: its text is known
        text, entities, attachments = reply_to.text, tuple(reply_to.entities) or None, None
    elif mce.conversation_key_version == conversation_key_version:
        original = read_content(open_sealed(mce.contents, conversation_key), what="message replied to")
        text, entities, attachments = original.text, original.entities, original.attachments
    else:
        raise WireFormatError(
            f"the message replied to was sealed under key version {mce.conversation_key_version}, not "
            f"{conversation_key_version}: read it with kit.read_message and pass that kit.Message as reply_to"
        )
    changes = None if key_changes is None else tuple(event_bytes(k, what="key-change event") for k in key_changes)
    return Preview(
        sender_id=int(event.sender_id) if event.sender_id.isascii() and event.sender_id.isdigit() else None,
        text=text if quote is None else quote,
        entities=entities,
        attachments=attachments,
        sequence_id=event.sequence_id,
        message_id=event.message_id,
        raw_event=raw,
        raw_key_changes=changes or None,
    )


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
    entities: Iterable[Entity | tuple[str, int, int]] | None = None,
    reply_to: object | None = None,
    quote: str | None = None,
    reply_to_key_changes: Iterable[object] | None = None,
    quick_reply: QuickReply | Mapping[str, Any] | None = None,
) -> PreparedMessage:
    """Seal and sign a text message for `POST /2/chat/conversations/{id}/messages`.

    `entities` mark spans of the text (`kit.Entity("mention", 3, 7)`); `quick_reply` is a
    `kit.QuickReply` (or the SDK's dict). `reply_to` (a `kit.Message`, or the raw event as
    base64 or bytes) makes it a reply: the preview quotes the original and embeds its raw
    signed event so recipients can check the quote. `quote` replaces the quoted text (to
    truncate it, or to show a forged quote being caught); `reply_to_key_changes` embeds the
    key-change events a recipient needs when the original used another key version.
    `message_id` and `nonce` are for repeatable lessons and tests only.
    """
    if not isinstance(text, str):
        raise WireFormatError(f"message text must be a str, got {type(text).__name__}")
    if quote is not None and reply_to is None:
        raise WireFormatError("quote= needs reply_to=: it replaces the text of the message replied to")
    cid = ConversationId.parse(conversation_id, caller=sender.user_id)
    preview = None
    if reply_to is not None:
        preview = _preview(reply_to, cid.canonical, conversation_key, conversation_key_version, quote, reply_to_key_changes)
    if isinstance(quick_reply, Mapping):
        quick_reply = QuickReply.from_dict(quick_reply)
    plaintext = encode_message(text, entities=entities, preview=preview, quick_reply=quick_reply)
    return _seal_and_sign(
        sender, conversation_id, plaintext, "text" if preview is None else "reply",
        conversation_key=conversation_key, conversation_key_version=conversation_key_version,
        message_id=message_id, ttl_msec=ttl_msec, nonce=nonce,
    )  # fmt: skip


def prepare_edit(
    sender: Identity,
    target: object,
    text: str,
    *,
    conversation_key: bytes,
    conversation_key_version: str,
    entities: Iterable[Entity | tuple[str, int, int]] | None = None,
    message_id: str | None = None,
    nonce: bytes | None = None,
) -> PreparedMessage:
    """Seal and sign an edit of `target` (a `kit.Message`, or its raw event as base64 or bytes).

    The edit names the target by its sequence id and carries the whole new `text` (and its
    `entities`; none given clears them). Only the author's edits mean anything: recipients
    (and `kit.tables`) ignore an edit signed by anyone else.
    """
    event = _target(target, "message to edit")
    plaintext = encode_edit(event.sequence_id, text, entities=entities)
    return _seal_and_sign(
        sender, event.conversation_id, plaintext, "edit",
        conversation_key=conversation_key, conversation_key_version=conversation_key_version,
        message_id=message_id, nonce=nonce,
    )  # fmt: skip


def prepare_reaction(
    sender: Identity,
    target: object,
    emoji: str,
    *,
    remove: bool = False,
    conversation_key: bytes,
    conversation_key_version: str,
    message_id: str | None = None,
    nonce: bytes | None = None,
) -> PreparedMessage:
    """Seal and sign a reaction to `target` (a `kit.Message` or its raw event); `remove=True` takes it back."""
    event = _target(target, "message reacted to")
    plaintext = encode_reaction(event.sequence_id, emoji, remove=remove)
    return _seal_and_sign(
        sender, event.conversation_id, plaintext, "reaction_remove" if remove else "reaction_add",
        conversation_key=conversation_key, conversation_key_version=conversation_key_version,
        message_id=message_id, nonce=nonce,
    )  # fmt: skip
