"""The decrypted plaintext of a message, every kind: Thrift `MessageEntryHolder`, read and written.

After the conversation key opens a message, what is inside is one `MessageEntryHolder`
(SDK ``product.thrift``), a struct around one union, ``MessageEntryContents``:

- 1 ``MessageContents``: a text message: 1 message_text, 2 list<RichTextEntity> entities,
  3 attachments, 4 ``ReplyingToPreview`` (a reply), 8 ``QuickReply``, ...
- 2 ``MessageReactionAdd`` / 3 ``MessageReactionRemove``: 1 message_sequence_id, 2 emoji
- 4 ``MessageEdit``: 1 message_sequence_id, 2 updated_text, 3 entities

Every kind travels in the same `MessageCreateEvent` and is signed the same way, so only a
participant (who can decrypt) can tell a reaction from a reply; the server cannot.
Writers match the official SDK byte for byte (tests/test_interop_kinds.py); readers check
what they read the way `kit.thrift` does and raise `WireFormatError` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kit.errors import WireFormatError
from kit.thrift import (
    I32,
    I64,
    LIST,
    STRUCT,
    Fields,
    Struct,
    field_i32,
    field_i64,
    field_list,
    field_string,
    field_struct,
    read_fields,
)

__all__ = [
    "ENTITY_KINDS",
    "Content",
    "Entity",
    "Preview",
    "QuickReply",
    "QuickReplyOption",
    "encode_edit",
    "encode_message",
    "encode_reaction",
    "read_content",
]

#: `RichTextContent` union field ids and the kit's (and the SDK's) names for them.
ENTITY_KINDS = {1: "hashtag", 2: "cashtag", 3: "mention", 4: "url", 5: "email", 6: "address", 7: "phone_number"}
_ENTITY_IDS = {name: fid for fid, name in ENTITY_KINDS.items()}
#: `MessageEntryContents` union members the kit does not model, by field id.
OTHER_KINDS = {
    5: "mark_conversation_read", 6: "mark_conversation_unread", 7: "pin_conversation", 8: "unpin_conversation",
    9: "screen_capture_detected", 10: "av_call_ended", 11: "av_call_missed", 12: "draft_message",
    13: "accept_message_request", 14: "nickname_message", 15: "set_verified_status", 16: "av_call_started",
}  # fmt: skip
_STOP = b"\x00"
_I32_MAX = 2**31 - 1


# ----------------------------------------------------------------------------- entities


@dataclass(frozen=True)
class Entity:
    """A span of the text with a meaning: ``Entity("mention", 3, 7)`` marks characters 3 to 7.

    `kind` is one of ``hashtag, cashtag, mention, url, email, address, phone_number``; `start`
    and `end` are the offsets the sender chose (the SDK passes them through unchecked).
    """

    kind: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.kind not in _ENTITY_IDS:
            raise WireFormatError(f"entity kind must be one of {sorted(_ENTITY_IDS)}, got {self.kind!r}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value <= _I32_MAX:
                raise WireFormatError(f"entity {name} must be an int that fits in 32 bits, got {value!r}")

    def encode(self) -> bytes:
        """The `RichTextEntity` struct, STOP included: start, end, then the kind as an empty struct."""
        kind = field_struct(_ENTITY_IDS[self.kind], _STOP) + _STOP
        return field_i32(1, self.start) + field_i32(2, self.end) + field_struct(3, kind) + _STOP


def _entities(items: Iterable[Any] | None, what: str) -> tuple[Entity, ...] | None:
    if items is None:
        return None
    out = []
    for item in items:
        if isinstance(item, Entity):
            out.append(item)
        elif isinstance(item, (tuple, list)) and len(item) == 3:
            out.append(Entity(*item))
        else:
            raise WireFormatError(f"{what} must be kit.Entity(kind, start, end) values, got {item!r:.60}")
    return tuple(out)


def _encode_entities(fid: int, entities: tuple[Entity, ...] | None) -> bytes:
    # None writes nothing; an empty list is written as an empty list (the SDK does the same).
    return b"" if entities is None else field_list(fid, STRUCT, [e.encode() for e in entities])


def _read_entities(f: Fields, fid: int) -> tuple[Entity, ...] | None:
    items = f.get(fid, LIST, "entities")
    if items is None:
        return None
    out = []
    for i, s in enumerate(items):
        if not isinstance(s, Struct):
            raise WireFormatError(f"{f.what}: entities[{i}] must be a struct")
        ef = Fields(s, f"{f.what} entities[{i}]")
        start, end = ef.get(1, I32, "start_index"), ef.get(2, I32, "end_index")
        union = ef.get(3, STRUCT, "content")
        kinds = sorted(union.fields) if union is not None else []
        if start is None or end is None or len(kinds) != 1 or kinds[0] not in ENTITY_KINDS:
            raise WireFormatError(f"{ef.what}: needs start_index, end_index and one known content kind, got kinds {kinds}")
        out.append(Entity(ENTITY_KINDS[kinds[0]], start, end))
    return tuple(out)


# ----------------------------------------------------------------------------- quick replies


@dataclass(frozen=True)
class QuickReplyOption:
    """One option a quick-reply request offers."""

    id: str | None
    label: str | None = None
    metadata: str | None = None
    description: str | None = None

    def encode(self) -> bytes:
        return _optional_strings((self.id, self.label, self.metadata, self.description)) + _STOP


@dataclass(frozen=True)
class QuickReply:
    """A quick reply: a request offering options, or a response choosing one.

    Make one with `QuickReply.request("q1", [("yes", "Yes"), ("no", "No")])` or
    `QuickReply.response("q1", "yes")`; `to_dict()` / `from_dict()` use the SDK's shape.
    """

    kind: str  # "request" | "response"
    id: str | None = None
    options: tuple[QuickReplyOption, ...] = ()
    request_id: str | None = None
    selected_option_id: str | None = None
    metadata: str | None = None

    @classmethod
    def request(cls, id: str | None, options: Iterable[QuickReplyOption | tuple[str, str]]) -> QuickReply:
        """A request offering `options` (`QuickReplyOption`s or ``(id, label)`` pairs)."""
        opts = tuple(o if isinstance(o, QuickReplyOption) else QuickReplyOption(*o) for o in options)
        return cls("request", id=id, options=opts)

    @classmethod
    def response(cls, request_id: str | None, selected_option_id: str | None, metadata: str | None = None) -> QuickReply:
        """A response choosing `selected_option_id` of the request `request_id`."""
        return cls("response", request_id=request_id, selected_option_id=selected_option_id, metadata=metadata)

    def encode(self) -> bytes:
        """The `QuickReply` union, STOP included."""
        if self.kind == "request":
            opts = field_list(2, STRUCT, [o.encode() for o in self.options])
            inner = _optional_strings((self.id,)) + opts + _STOP
            return field_struct(1, field_struct(1, inner) + _STOP) + _STOP
        if self.kind == "response":
            inner = _optional_strings((self.request_id, self.metadata, self.selected_option_id)) + _STOP
            return field_struct(2, field_struct(1, inner) + _STOP) + _STOP
        raise WireFormatError(f"quick reply kind must be 'request' or 'response', got {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        """The SDK's `QuickReply` dict (what `encrypt_message(quick_reply=...)` takes)."""
        if self.kind == "request":
            opts = [{"id": o.id, "label": o.label, "metadata": o.metadata, "description": o.description} for o in self.options]
            return {"request": {"options": {"id": self.id, "options": opts}}}
        chosen = {"request_id": self.request_id, "metadata": self.metadata, "selected_option_id": self.selected_option_id}
        return {"response": {"options": chosen}}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> QuickReply:
        """A `QuickReply` from the SDK's dict shape (as `decrypt_events` reports it)."""
        if "request" in d:
            o = d["request"]["options"]
            return cls.request(
                o.get("id"),
                [QuickReplyOption(x.get("id"), x.get("label"), x.get("metadata"), x.get("description")) for x in o.get("options") or ()],
            )
        o = d["response"]["options"]
        return cls.response(o.get("request_id"), o.get("selected_option_id"), o.get("metadata"))


def _optional_strings(values: tuple[str | None, ...]) -> bytes:
    return b"".join(field_string(i, v) for i, v in enumerate(values, 1) if v is not None)


def _read_quick_reply(s: Struct, what: str) -> QuickReply:
    f = Fields(s, what)
    if len(s.fields) != 1 or next(iter(s.fields)) not in (1, 2):
        raise WireFormatError(f"{what}: a QuickReply union must set field 1 (request) or 2 (response), got {sorted(s.fields)}")
    kind = "request" if 1 in s.fields else "response"
    wrapper = Fields(f.get(1 if kind == "request" else 2, STRUCT, kind, required=True), f"{what} {kind}")
    o = Fields(wrapper.get(1, STRUCT, "options", required=True), f"{what} {kind} options")
    if kind == "response":
        return QuickReply.response(o.text(1, "request_id"), o.text(3, "selected_option_id"), o.text(2, "metadata"))
    options = []
    for i, item in enumerate(o.get(2, LIST, "options") or ()):
        if not isinstance(item, Struct):
            raise WireFormatError(f"{o.what}: options[{i}] must be a struct")
        of = Fields(item, f"{o.what} options[{i}]")
        options.append(QuickReplyOption(of.text(1, "id"), of.text(2, "label"), of.text(3, "metadata"), of.text(4, "description")))
    return QuickReply.request(o.text(1, "id"), options)


# ----------------------------------------------------------------------------- reply previews


@dataclass(frozen=True)
class Preview:
    """`ReplyingToPreview` as on the wire: what a reply claims about the message it quotes.

    Every claim is the replier's to make; only `raw_event` (the original's whole signed
    `MessageEvent`) lets a recipient check them (`kit.message.reply`).
    """

    sender_id: int | None = None
    text: str | None = None
    entities: tuple[Entity, ...] | None = None
    attachments: tuple[bytes, ...] | None = None  # each a `MessageAttachment` struct's bytes
    sender_display_name: str | None = None
    sequence_id: str | None = None
    message_id: str | None = None
    raw_event: bytes | None = None
    raw_edit_event: bytes | None = None
    raw_key_changes: tuple[bytes, ...] | None = None

    def encode(self) -> bytes:
        """The struct, STOP included, fields in id order (1, 2, 3, 4, 5, 6, 7, 8, 9, 10) as the SDK writes them."""
        out = b"" if self.sender_id is None else field_i64(1, self.sender_id)
        out += b"" if self.text is None else field_string(2, self.text)
        out += _encode_entities(3, self.entities)
        out += b"" if self.attachments is None else field_list(4, STRUCT, list(self.attachments))
        for fid, value in ((5, self.sender_display_name), (6, self.sequence_id), (7, self.message_id)):
            out += b"" if value is None else field_string(fid, value)
        out += b"" if self.raw_event is None else field_struct(8, self.raw_event)
        out += b"" if self.raw_edit_event is None else field_struct(9, self.raw_edit_event)
        out += b"" if self.raw_key_changes is None else field_list(10, STRUCT, list(self.raw_key_changes))
        return out + _STOP


def _read_preview(s: Struct, data: bytes, what: str) -> Preview:
    f = Fields(s, what)

    def struct_bytes(fid: int, name: str) -> bytes | None:
        inner = f.get(fid, STRUCT, name)
        return None if inner is None else data[inner.start : inner.end]

    def struct_list(fid: int, name: str) -> tuple[bytes, ...] | None:
        items = f.get(fid, LIST, name)
        if items is None:
            return None
        if not all(isinstance(x, Struct) for x in items):
            raise WireFormatError(f"{what}: every {name} entry must be a struct")
        return tuple(data[x.start : x.end] for x in items)

    return Preview(
        sender_id=f.get(1, I64, "sender_id"),
        text=f.text(2, "message_text"),
        entities=_read_entities(f, 3),
        attachments=struct_list(4, "attachments"),
        sender_display_name=f.text(5, "sender_display_name"),
        sequence_id=f.text(6, "replying_to_message_sequence_id"),
        message_id=f.text(7, "replying_to_message_id"),
        raw_event=struct_bytes(8, "raw_event_message_create"),
        raw_edit_event=struct_bytes(9, "raw_event_edit_message"),
        raw_key_changes=struct_list(10, "raw_event_ckces"),
    )


# ----------------------------------------------------------------------------- the holder


@dataclass(frozen=True)
class Content:
    """One decrypted plaintext: its kind and the fields that kind carries.

    `kind` is ``text``, ``reply`` (text with a preview), ``edit``, ``reaction_add`` or
    ``reaction_remove``. `attachments` are kept as struct bytes (the kit does not model them).
    """

    kind: str
    text: str = ""
    entities: tuple[Entity, ...] | None = None
    preview: Preview | None = None
    quick_reply: QuickReply | None = None
    target_sequence_id: str | None = None
    emoji: str | None = None
    attachments: tuple[bytes, ...] | None = None


def _holder(union_field: int, body: bytes) -> bytes:
    return field_struct(1, field_struct(union_field, body) + _STOP) + _STOP


def encode_message(
    text: str,
    *,
    entities: Iterable[Any] | None = None,
    preview: Preview | None = None,
    quick_reply: QuickReply | None = None,
) -> bytes:
    """The plaintext of a text message or a reply: `MessageContents` fields 1, 2, 4, 8 in that order."""
    if not isinstance(text, str):
        raise WireFormatError(f"message text must be a str, got {type(text).__name__}")
    body = field_string(1, text) + _encode_entities(2, _entities(entities, "entities"))
    body += b"" if preview is None else field_struct(4, preview.encode())
    body += b"" if quick_reply is None else field_struct(8, quick_reply.encode())
    return _holder(1, body + _STOP)


def encode_edit(target_sequence_id: str, text: str, *, entities: Iterable[Any] | None = None) -> bytes:
    """The plaintext of an edit: `MessageEdit{1 message_sequence_id, 2 updated_text, 3 entities}`."""
    if not isinstance(text, str):
        raise WireFormatError(f"edited text must be a str, got {type(text).__name__}")
    body = field_string(1, target_sequence_id) + field_string(2, text)
    return _holder(4, body + _encode_entities(3, _entities(entities, "entities")) + _STOP)


def encode_reaction(target_sequence_id: str, emoji: str, *, remove: bool = False) -> bytes:
    """The plaintext of a reaction: `MessageReactionAdd` (union field 2) or `...Remove` (3), {1 sequence id, 2 emoji}."""
    if not isinstance(emoji, str) or not emoji:
        raise WireFormatError(f"a reaction needs an emoji (a non-empty str), got {emoji!r}")
    return _holder(3 if remove else 2, field_string(1, target_sequence_id) + field_string(2, emoji) + _STOP)


def read_content(data: bytes, *, what: str = "message plaintext") -> Content:
    """Decode a decrypted `MessageEntryHolder` into a `Content`; `WireFormatError` for anything else."""
    holder = Fields(read_fields(data, what=what), what)
    union = holder.get(1, STRUCT, "contents", required=True)
    if len(union.fields) != 1:
        raise WireFormatError(f"{what}: MessageEntryContents must set exactly one field, got {sorted(union.fields) or 'none'}")
    fid = next(iter(union.fields))
    u = Fields(union, f"{what} contents")
    if fid == 1:
        m = Fields(u.get(1, STRUCT, "message", required=True), f"{what} message")
        preview_struct = m.get(4, STRUCT, "replying_to_preview")
        preview = None if preview_struct is None else _read_preview(preview_struct, data, f"{m.what} replying_to_preview")
        qr = m.get(8, STRUCT, "quick_reply")
        attachments = m.get(3, LIST, "attachments")
        if attachments is not None and not all(isinstance(x, Struct) for x in attachments):
            raise WireFormatError(f"{m.what}: every attachment must be a struct")
        return Content(
            kind="text" if preview is None else "reply",
            text=m.text(1, "message_text") or "",
            entities=_read_entities(m, 2),
            preview=preview,
            quick_reply=None if qr is None else _read_quick_reply(qr, f"{m.what} quick_reply"),
            attachments=None if attachments is None else tuple(data[x.start : x.end] for x in attachments),
        )
    if fid in (2, 3):
        name = "reaction_add" if fid == 2 else "reaction_remove"
        r = Fields(u.get(fid, STRUCT, name, required=True), f"{what} {name}")
        return Content(
            kind=name,
            target_sequence_id=r.text(1, "message_sequence_id", required=True),
            emoji=r.text(2, "emoji", required=True),
        )
    if fid == 4:
        e = Fields(u.get(4, STRUCT, "message_edit", required=True), f"{what} message_edit")
        return Content(
            kind="edit",
            text=e.text(2, "updated_text") or "",
            entities=_read_entities(e, 3),
            target_sequence_id=e.text(1, "message_sequence_id", required=True),
        )
    name = OTHER_KINDS.get(fid, f"field {fid}")
    raise WireFormatError(f"{what} holds {name}, a kind of content the kit does not read")
