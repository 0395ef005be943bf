"""Replies: the preview a reply carries, and checking it the way the official SDK does.

A reply quotes the message it answers in a `ReplyingToPreview`: who sent it, its text, its
ids. Those are the replier's claims, sealed and signed by the replier, so they prove nothing
about the original. The SDK therefore embeds the original's whole raw signed event in the
preview, and a recipient checks every claim against it (`check_preview`):

1. the original belongs to the same conversation as the reply (as stored in both envelopes);
2. it is a message, and its signature verifies with its sender's signing key;
3. it opens with the conversation keys (or a key-change event embedded for an older version);
4. every claim the preview makes equals the original: sender, sequence id, message id, text
   (a prefix is accepted: previews may be truncated), entities, attachments; when an edit
   event is embedded, the text and entities are checked against the edit instead.

``"valid"`` proves the quoted words are a prefix of what that sender signed in this
conversation, under that message id. It does not prove the quote is whole (a prefix of
"I do not agree" is "I do"), and not where the original sits in the conversation: sequence
ids are unsigned server metadata, checked only against the embedded event's own envelope.
``"invalid"`` says the quote is untrusted, never that the reply itself is forged: the reply
is still authentic, signed by its sender. ``None``: no raw original was embedded (nothing to check).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from kit.content import Content, Entity, Preview, read_content
from kit.errors import KitError
from kit.keys import Identity, PublicKeys
from kit.message.cipher import open_sealed
from kit.message.verify import verify_event
from kit.thrift import KeyChangeDetail, MessageEvent, read_message_event

__all__ = ["ReplyPreview", "check_preview", "claims_of"]


@dataclass(frozen=True)
class ReplyPreview:
    """What a reply says it quotes, and whether the embedded original backs it up.

    `validation` is ``"valid"``, ``"invalid"`` (`problem` says which claim failed) or ``None``
    (the preview embeds no raw original). `original_text` is what the verified original (or its
    verified edit) actually says, when it verified and opened (also for an invalid quote). See `kit.message.reply` for what
    ``"valid"`` does and does not prove.
    """

    message_id: str | None
    sequence_id: str | None
    sender_id: str | None
    text: str | None
    entities: tuple[Entity, ...] = ()
    validation: str | None = None
    problem: str | None = None
    original_text: str | None = None


def claims_of(preview: Preview) -> ReplyPreview:
    """The preview's claims, not yet checked."""
    return ReplyPreview(
        message_id=preview.message_id,
        sequence_id=preview.sequence_id,
        sender_id=None if preview.sender_id is None else str(preview.sender_id),
        text=preview.text,
        entities=preview.entities or (),
    )


class _Invalid(Exception):
    """One claim failed: the message says which."""


def _embedded_key(raw_key_changes: tuple[bytes, ...], version: str, recipient: Identity | None) -> bytes | None:
    # As the SDK does, an embedded key change is only unwrapped, not verified: the original's own
    # Poly1305 tag then proves the key right (a wrong key cannot open it).
    if recipient is None:
        return None
    for raw in raw_key_changes:
        try:
            detail = read_message_event(raw, what="embedded key change").read_detail()
            if not isinstance(detail, KeyChangeDetail) or detail.conversation_key_version != version:
                continue
            for entry in detail.participant_keys:
                if entry.user_id == recipient.user_id and entry.public_key_version == recipient.version:
                    return recipient.unwrap(entry.encrypted_conversation_key)
        except KitError:
            continue
    return None


def _read_original(
    raw: bytes,
    what: str,
    outer: MessageEvent,
    keys: Mapping[str, bytes],
    signing_keys: list[PublicKeys],
    preview: Preview,
    recipient: Identity | None,
) -> tuple[MessageEvent, Content]:
    try:
        event = read_message_event(raw, what=what)
    except KitError as exc:
        raise _Invalid(f"the embedded {what} does not decode: {exc}") from None
    if event.conversation_id != outer.conversation_id:
        raise _Invalid(f"the {what} is from conversation {event.conversation_id}, not this one ({outer.conversation_id})")
    try:
        mce, _ = verify_event(event, signing_keys, what=what)
    except KitError as exc:
        raise _Invalid(f"the {what} does not verify: {exc}") from None
    version = mce.conversation_key_version
    key = keys.get(version) or _embedded_key(preview.raw_key_changes or (), version, recipient)
    if key is None:
        raise _Invalid(f"no conversation key for version {version} of the {what}")
    try:
        return event, read_content(open_sealed(mce.contents, key), what=f"{what} plaintext")
    except KitError as exc:
        raise _Invalid(f"the {what} does not open: {exc}") from None


def _check(
    outer: MessageEvent,
    preview: Preview,
    keys: Mapping[str, bytes],
    signing_keys: list[PublicKeys],
    recipient: Identity | None,
    seen: dict[str, str],
) -> str:
    assert preview.raw_event is not None
    raw, original = _read_original(preview.raw_event, "quoted original", outer, keys, signing_keys, preview, recipient)
    if original.kind not in ("text", "reply"):
        raise _Invalid(f"the quoted original is a {original.kind}, not a message")
    if preview.sender_id is not None and str(preview.sender_id) != raw.sender_id:
        raise _Invalid(f"the quote names sender {preview.sender_id}, but the original was signed by {raw.sender_id}")
    if preview.sequence_id is not None and preview.sequence_id != raw.sequence_id:
        raise _Invalid(f"the quote names sequence id {preview.sequence_id}, the original's envelope says {raw.sequence_id}")
    if preview.message_id is not None and preview.message_id != raw.message_id:
        raise _Invalid(f"the quote names message id {preview.message_id}, the original's is {raw.message_id}")
    quoted_text, quoted_entities = original.text, original.entities or ()
    seen["text"] = quoted_text
    if preview.raw_edit_event is not None:
        edit_event, edit = _read_original(preview.raw_edit_event, "quoted edit", outer, keys, signing_keys, preview, recipient)
        if edit_event.sender_id != raw.sender_id:
            raise _Invalid(f"the quoted edit was signed by {edit_event.sender_id}, not by the original's author {raw.sender_id}")
        if edit.kind != "edit":
            raise _Invalid(f"the quoted edit is a {edit.kind}, not an edit")
        quoted_text, quoted_entities = edit.text, edit.entities or ()
        seen["text"] = quoted_text
    if preview.text is not None and not quoted_text.startswith(preview.text):
        raise _Invalid(f"the quoted text {preview.text!r:.80} is not what the original says ({quoted_text!r:.80})")
    missing = [e for e in preview.entities or () if e not in quoted_entities]
    if missing:
        raise _Invalid(f"the quote claims entities the original does not have: {missing}")
    extra = [a for a in preview.attachments or () if a not in (original.attachments or ())]
    if extra:
        raise _Invalid(f"the quote claims {len(extra)} attachment(s) the original does not have")
    return quoted_text


def check_preview(
    outer: MessageEvent,
    preview: Preview,
    *,
    keys: Mapping[str, bytes],
    signing_keys: Iterable[PublicKeys],
    recipient: Identity | None = None,
) -> ReplyPreview:
    """Check a reply's preview against the raw original it embeds; never raises for a bad quote.

    `outer` is the reply's envelope; `keys` maps conversation key versions to keys; `recipient`
    (optional) unwraps a key-change event embedded for an original sealed under another version.
    """
    claims = claims_of(preview)
    if preview.raw_event is None:
        return claims
    seen: dict[str, str] = {}
    try:
        text = _check(outer, preview, keys, list(signing_keys), recipient, seen)
    except _Invalid as exc:
        return replace(claims, validation="invalid", problem=str(exc), original_text=seen.get("text"))
    return replace(claims, validation="valid", original_text=text)
