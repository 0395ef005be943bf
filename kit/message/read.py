"""Reading one message event, any kind: verify, decrypt, decode, and check a reply's quote."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kit.content import Entity, QuickReply, read_content
from kit.keys import Identity, PublicKeys
from kit.message.reply import ReplyPreview, check_preview
from kit.message.verify import open_event, parse_event
from kit.thrift import MessageCreateEvent
from kit.trust import TrustStore

__all__ = ["KINDS", "Message", "read_message"]

#: The kinds of message the kit reads and writes.
KINDS = ("text", "reply", "edit", "reaction_add", "reaction_remove")


@dataclass(frozen=True)
class Message:
    """A message read, verified and decrypted by a recipient.

    `kind` is one of ``text, reply, edit, reaction_add, reaction_remove``. `text` is the text
    (the new text of an edit; ``""`` for a reaction); `target_sequence_id` is what an edit or
    a reaction points at; `reply_to` is a `ReplyPreview` for a reply. `event` keeps the raw
    signed event, so the message can be replied to, edited or reacted to.
    """

    text: str
    sender_id: str
    message_id: str
    conversation_id: str
    conversation_key_version: str
    sequence_id: str
    created_at_msec: str
    kind: str = "text"
    entities: tuple[Entity, ...] = ()
    reply_to: ReplyPreview | None = None
    target_sequence_id: str | None = None
    emoji: str | None = None
    quick_reply: QuickReply | None = None
    event: bytes = field(default=b"", repr=False, compare=False)


def _keys(conversation_key: bytes | Mapping[str, bytes], version: str) -> dict[str, bytes]:
    if isinstance(conversation_key, Mapping):
        return dict(conversation_key)
    return {version: conversation_key}


def read_message(
    event_b64: str | bytes,
    *,
    conversation_key: bytes | Mapping[str, bytes],
    signing_keys: Iterable[PublicKeys],
    trust: TrustStore | None = None,
    recipient: Identity | None = None,
) -> Message:
    """Verify and decrypt a message `MessageEvent` (as served in `data[].encoded_event`), any kind.

    `conversation_key` is the key, or a map from conversation key version to key.
    The signature is checked before anything is decrypted. With `trust` (a `kit.TrustStore`),
    a signer whose keys differ from the pinned or verified ones raises `TrustError`; a new one is pinned.
    A reply's quote is checked against the original it embeds (`Message.reply_to.validation`);
    a bad quote never raises. `recipient` lets that check unwrap a key change the reply embeds.
    """
    raw, event = parse_event(event_b64)
    detail = event.read_detail()
    version = detail.conversation_key_version if isinstance(detail, MessageCreateEvent) else ""
    keys = _keys(conversation_key, version)
    signers = list(signing_keys)
    opened = open_event(event, keys, signers)
    if trust is not None:
        trust.require(opened.signer, what=f"message {event.message_id} from user {event.sender_id}")
    content = read_content(opened.plaintext)
    reply_to = None
    if content.preview is not None:
        reply_to = check_preview(event, content.preview, keys=keys, signing_keys=signers, recipient=recipient)
    return Message(
        text=content.text,
        sender_id=event.sender_id,
        message_id=event.message_id,
        conversation_id=event.conversation_id,
        conversation_key_version=opened.create_event.conversation_key_version,
        sequence_id=event.sequence_id,
        created_at_msec=event.created_at_msec,
        kind=content.kind,
        entities=content.entities or (),
        reply_to=reply_to,
        target_sequence_id=content.target_sequence_id,
        emoji=content.emoji,
        quick_reply=content.quick_reply,
        event=raw,
    )
