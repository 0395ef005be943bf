"""The X Chat event structs on the wire (`MessageEvent`, its detail union, signatures, key changes, deletes) and the text plaintext (notebooks 03, 05)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from kit.errors import WireFormatError
from kit.thrift.codec import (
    BOOL,
    I64,
    I32,
    LIST,
    STRING,
    STRUCT,
    TYPE_NAMES,
    Fields,
    Struct,
    field_bool,
    field_i32,
    field_i64,
    field_list,
    field_string,
    field_struct,
    read_fields,
    string_item,
)

__all__ = [
    "DETAIL_FIELDS",
    "DeleteDetail",
    "EventSignature",
    "KeyChangeDetail",
    "MessageCreateEvent",
    "MessageEvent",
    "OtherDetail",
    "ParticipantKey",
    "encode_text",
    "read_detail",
    "read_event_signature",
    "read_message_create_event",
    "read_message_event",
    "read_text",
]

#: Field ids of the `MessageEventDetail` union, as named in the SDK's IDL.
DETAIL_FIELDS = {
    1: "messageCreateEvent",
    3: "conversationKeyChangeEvent",
    4: "groupChangeEvent",
    5: "messageFailureEvent",
    6: "messageTypingEvent",
    7: "messageDeleteEvent",
    8: "conversationDeleteEvent",
    9: "conversationMetadataChangeEvent",
    10: "grokSearchResponseEvent",
    12: "markConversationReadEvent",
    13: "markConversationUnreadEvent",
    14: "memberAccountDeleteEvent",
}

#: The byte that ends every struct.
_STOP = b"\x00"


# ----------------------------------------------------------------------------- structs


@dataclass(frozen=True)
class ParticipantKey:
    """One participant's entry in a key change: who, the wrapped key (base64), their key version."""

    user_id: str
    encrypted_conversation_key: str
    public_key_version: str

    def encode(self) -> bytes:
        """The `ConversationParticipantKey` struct, STOP included."""
        return (
            field_string(1, self.user_id)
            + field_string(2, self.encrypted_conversation_key)
            + field_string(3, self.public_key_version)
            + _STOP
        )


@dataclass(frozen=True)
class KeyChangeDetail:
    """`ConversationKeyChangeEvent`: a new conversation key version, wrapped for each participant."""

    conversation_key_version: str
    participant_keys: tuple[ParticipantKey, ...]
    for_key_rotation: bool = False

    def encode(self) -> bytes:
        """The whole `MessageEventDetail` union (field 3 set), as `encoded_message_event_detail` holds it."""
        entries = [p.encode() for p in self.participant_keys]
        kce = (
            field_string(1, self.conversation_key_version)
            + field_list(2, STRUCT, entries)
            + field_bool(5, self.for_key_rotation)
            + _STOP
        )
        return field_struct(3, kce) + _STOP


@dataclass(frozen=True)
class MessageCreateEvent:
    """`MessageCreateEvent`: the sealed message and the conversation key version it was sealed with."""

    contents: bytes
    conversation_key_version: str
    should_notify: bool = True
    ttl_msec: int | None = None

    def encode(self) -> bytes:
        """The struct alone, STOP included (the request's `encoded_message_create_event`)."""
        out = field_string(100, self.contents) + field_string(101, self.conversation_key_version) + field_bool(102, self.should_notify)
        if self.ttl_msec is not None:
            out += field_i64(103, self.ttl_msec)
        return out + _STOP

    def encode_detail(self) -> bytes:
        """The `MessageEventDetail` union with field 1 set to this event."""
        return field_struct(1, self.encode()) + _STOP


@dataclass(frozen=True)
class DeleteDetail:
    """`MessageDeleteEvent`: the sequence ids to delete, for everyone (`delete_for_all`) or the sender only.

    A signed plaintext action: nothing in it is encrypted, so a server can read all of it.
    """

    sequence_ids: tuple[str, ...]
    delete_for_all: bool
    field_id: ClassVar[int] = 7
    name: ClassVar[str] = DETAIL_FIELDS[7]

    @property
    def action(self) -> int:
        """The wire value of `delete_message_action`: 1 delete for self, 2 delete for all."""
        return 2 if self.delete_for_all else 1

    def encode(self) -> bytes:
        """The whole `MessageEventDetail` union (field 7 set), as `encoded_message_event_detail` holds it."""
        ids = field_list(1, STRING, [string_item(s) for s in self.sequence_ids])
        return field_struct(7, ids + field_i32(2, self.action) + _STOP) + _STOP


@dataclass(frozen=True)
class OtherDetail:
    """A `MessageEventDetail` of a kind the kit does not model (group change, typing, ...)."""

    field_id: int
    name: str


@dataclass(frozen=True)
class EventSignature:
    """`MessageEventSignature`: an action or message signature and how to check it."""

    signature: str
    public_key_version: str
    signature_version: str

    def encode(self) -> bytes:
        """The struct, STOP included (the request's `encoded_message_event_signature`)."""
        return field_string(1, self.signature) + field_string(2, self.public_key_version) + field_string(3, self.signature_version) + _STOP


@dataclass(frozen=True)
class MessageEvent:
    """The `MessageEvent` envelope the server stores and delivers.

    `detail` keeps the `MessageEventDetail` bytes exactly as the sender encoded them.
    """

    sequence_id: str
    message_id: str
    sender_id: str
    conversation_id: str
    created_at_msec: str
    detail: bytes
    signature: EventSignature | None = None
    previous_sequence_id: str | None = None
    extra_fields: tuple[int, ...] = field(default=(), compare=False)
    #: `(detail, decoded)` when `read_message_event` made this event (it decodes the detail to
    #: check it); used only while `detail` is that very object (`dataclasses.replace` may swap it).
    decoded_detail: tuple[bytes, Any] | None = field(default=None, compare=False, repr=False)

    def encode(self) -> bytes:
        """The envelope as served in `encoded_event` and `conversation_key_events`."""
        out = (
            field_string(1, self.sequence_id)
            + field_string(2, self.message_id)
            + field_string(3, self.sender_id)
            + field_string(4, self.conversation_id)
            + field_string(6, self.created_at_msec)
            + field_struct(7, self.detail)
        )
        if self.signature is not None:
            out += field_struct(9, self.signature.encode())
        if self.previous_sequence_id is not None:
            out += field_string(10, self.previous_sequence_id)
        return out + _STOP

    def read_detail(self) -> KeyChangeDetail | MessageCreateEvent | DeleteDetail | OtherDetail:
        """Decode `detail` (once: an event read from bytes already holds it decoded)."""
        cached = self.decoded_detail
        if cached is not None and cached[0] is self.detail:
            return cached[1]  # type: ignore[no-any-return]
        return read_detail(self.detail)


def _detail_from(s: Struct, what: str) -> KeyChangeDetail | MessageCreateEvent | DeleteDetail | OtherDetail:
    if len(s.fields) != 1:
        ids = sorted(s.fields) or "none"
        raise WireFormatError(f"{what}: a MessageEventDetail union must set exactly one field, got fields {ids}")
    ((fid, (ttype, value)),) = s.fields.items()
    name = DETAIL_FIELDS.get(fid, f"field {fid}")
    if ttype != STRUCT:
        raise WireFormatError(f"{what}: union field {fid} ({name}) must be a struct, got a {TYPE_NAMES[ttype]}")
    if fid == 3:
        return _key_change_from(value, f"{what} conversationKeyChangeEvent")
    if fid == 1:
        return _mce_from(value, f"{what} messageCreateEvent")
    if fid == 7:
        return _delete_from(value, f"{what} messageDeleteEvent")
    return OtherDetail(fid, name)


def _delete_from(s: Struct, what: str) -> DeleteDetail:
    f = Fields(s, what)
    ids = f.text_list(1, "sequence_ids", required=True)
    action = f.get(2, I32, "delete_message_action", required=True)
    if action not in (1, 2):
        raise WireFormatError(f"{what}: field 2 delete_message_action must be 1 (for self) or 2 (for all), got {action}")
    return DeleteDetail(ids, action == 2)


def _key_change_from(s: Struct, what: str) -> KeyChangeDetail:
    f = Fields(s, what)
    version = f.text(1, "conversation_key_version", required=True)
    entries = f.get(2, LIST, "conversation_participant_keys", required=True)
    rotation = f.get(5, BOOL, "for_key_rotation")
    keys = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Struct):
            raise WireFormatError(f"{what}: conversation_participant_keys[{i}] must be a struct")
        pf = Fields(entry, f"{what} conversation_participant_keys[{i}]")
        keys.append(
            ParticipantKey(
                user_id=pf.text(1, "user_id", required=True) or "",
                encrypted_conversation_key=pf.text(2, "encrypted_conversation_key", required=True) or "",
                public_key_version=pf.text(3, "public_key_version", required=True) or "",
            )
        )
    return KeyChangeDetail(version or "", tuple(keys), bool(rotation))


def _mce_from(s: Struct, what: str) -> MessageCreateEvent:
    f = Fields(s, what)
    contents = f.get(100, STRING, "contents", required=True)
    version = f.text(101, "conversation_key_version", required=True)
    notify = f.get(102, BOOL, "should_notify")
    ttl = f.get(103, I64, "ttl_msec")
    return MessageCreateEvent(contents, version or "", True if notify is None else notify, ttl)


def _signature_from(s: Struct, what: str) -> EventSignature:
    f = Fields(s, what)
    return EventSignature(
        signature=f.text(1, "signature", required=True) or "",
        public_key_version=f.text(2, "public_key_version", required=True) or "",
        signature_version=f.text(3, "signature_version") or "",
    )


def read_detail(data: bytes, *, what: str = "event detail") -> KeyChangeDetail | MessageCreateEvent | DeleteDetail | OtherDetail:
    """Decode a `MessageEventDetail` union (e.g. `encoded_message_event_detail` after base64)."""
    return _detail_from(read_fields(data, what=what), what)


def read_message_create_event(data: bytes, *, what: str = "message create event") -> MessageCreateEvent:
    """Decode a bare `MessageCreateEvent` (the request's `encoded_message_create_event`)."""
    return _mce_from(read_fields(data, what=what), what)


def read_event_signature(data: bytes, *, what: str = "message event signature") -> EventSignature:
    """Decode a bare `MessageEventSignature` (the request's `encoded_message_event_signature`)."""
    return _signature_from(read_fields(data, what=what), what)


def read_message_event(data: bytes, *, what: str = "message event") -> MessageEvent:
    """Decode a `MessageEvent` envelope; its detail bytes are kept as they were."""
    s = read_fields(data, what=what)
    f = Fields(s, what)
    detail = f.get(7, STRUCT, "detail", required=True)
    detail_bytes = bytes(data[detail.start : detail.end])
    decoded = _detail_from(detail, f"{what} detail")  # reject a malformed union now, not later
    sig = f.get(9, STRUCT, "message_event_signature")
    return MessageEvent(
        sequence_id=f.text(1, "sequence_id", required=True) or "",
        message_id=f.text(2, "message_id", required=True) or "",
        sender_id=f.text(3, "sender_id", required=True) or "",
        conversation_id=f.text(4, "conversation_id", required=True) or "",
        created_at_msec=f.text(6, "created_at_msec") or "",
        detail=detail_bytes,
        signature=_signature_from(sig, f"{what} message_event_signature") if sig is not None else None,
        previous_sequence_id=f.text(10, "previous_sequence_id"),
        extra_fields=tuple(sorted(set(s.fields) - {1, 2, 3, 4, 6, 7, 9, 10})),
        decoded_detail=(detail_bytes, decoded),
    )


def encode_text(text: str) -> bytes:
    """The plaintext of a text message: `MessageEntryHolder{1: {1: MessageContents{1: text}}}`."""
    return field_struct(1, field_struct(1, field_string(1, text) + _STOP) + _STOP) + _STOP


def read_text(data: bytes, *, what: str = "message plaintext") -> str:
    """The text of a decrypted `MessageEntryHolder`; other content kinds raise `WireFormatError`."""
    holder = Fields(read_fields(data, what=what), what)
    contents = holder.get(1, STRUCT, "contents", required=True)
    union = Fields(contents, f"{what} contents")
    message = union.get(1, STRUCT, "message (only text messages are supported)", required=True)
    return Fields(message, f"{what} message").text(1, "message_text") or ""
