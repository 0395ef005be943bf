"""The X Chat event structs on the wire: Apache Thrift TBinaryProtocol, read and written.

Why a small codec of our own rather than a Thrift library: every byte this module reads
comes from outside (the sandbox reads requests, a recipient reads events). Measured on
hostile input (see README), thriftpy2 hangs and leaks memory, and Apache ``thrift`` raises
five different exception types, replaces bad UTF-8 silently and accepts trailing bytes.
This reader checks every length against the bytes that remain before it allocates,
bounds nesting depth, rejects trailing bytes and invalid UTF-8, and raises one error type,
`WireFormatError`, naming the struct, field and offset. Writing is a few lines per struct
and matches the official SDK byte for byte (field order 1, 2, 5; see tests/test_thrift.py).

Structs (from the SDK's ``event.thrift``; every field optional):

- ``MessageEventDetail`` union: 1 messageCreateEvent, 3 conversationKeyChangeEvent, ...
- ``ConversationKeyChangeEvent``: 1 conversation_key_version, 2 list<ConversationParticipantKey>,
  5 for_key_rotation
- ``ConversationParticipantKey``: 1 user_id, 2 encrypted_conversation_key (base64 text),
  3 public_key_version
- ``MessageEvent`` envelope: 1 sequence_id, 2 message_id, 3 sender_id, 4 conversation_id,
  5 conversation_token, 6 created_at_msec, 7 detail, 9 message_event_signature,
  10 previous_sequence_id
- ``MessageEventSignature``: 1 signature, 2 public_key_version, 3 signature_version
- ``MessageCreateEvent``: 100 contents (sealed bytes), 101 conversation_key_version,
  102 should_notify, 103 ttl_msec
- ``MessageDeleteEvent``: 1 list<string> sequence_ids, 2 delete_message_action (i32: 1 for self, 2 for all)
- ``MessageEntryHolder{1: MessageEntryContents{1: MessageContents{1: message_text}}}``: the plaintext
  of a text message (every other kind, and the rest of `MessageContents`, is in `kit.content`)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, ClassVar

from kit.errors import WireFormatError

__all__ = [
    "DETAIL_FIELDS",
    "STRUCT_FIELDS",
    "TYPE_NAMES",
    "DeleteDetail",
    "EventSignature",
    "FieldRun",
    "Fields",
    "KeyChangeDetail",
    "MessageCreateEvent",
    "MessageEvent",
    "OtherDetail",
    "ParticipantKey",
    "encode_text",
    "field_bool",
    "field_i32",
    "field_i64",
    "field_list",
    "field_string",
    "field_struct",
    "read_detail",
    "read_event_signature",
    "read_fields",
    "read_message_create_event",
    "read_message_event",
    "read_text",
    "string_item",
    "walk",
]

# TBinaryProtocol type codes
STOP, BOOL, BYTE, DOUBLE, I16, I32, I64, STRING, STRUCT, MAP, SET, LIST = 0, 2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15
TYPE_NAMES = {
    BOOL: "bool", BYTE: "byte", DOUBLE: "double", I16: "i16", I32: "i32", I64: "i64",
    STRING: "string", STRUCT: "struct", MAP: "map", SET: "set", LIST: "list",
}  # fmt: skip
# The fewest bytes one element of each type can take: counts are checked against this
# before anything is allocated, so a declared length of 2^31 fails at once.
_MIN_SIZE = {BOOL: 1, BYTE: 1, DOUBLE: 8, I16: 2, I32: 4, I64: 8, STRING: 4, STRUCT: 1, MAP: 6, SET: 5, LIST: 5}
_MAX_DEPTH = 32

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

_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")
_I64 = struct.Struct(">q")
_HEAD = struct.Struct(">bh")


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Struct:
    """A decoded struct: its fields by id as ``(type, value)``, and where it lay in the input."""

    fields: dict[int, tuple[int, Any]]
    start: int
    end: int


class _Reader:
    __slots__ = ("budget", "data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what
        # A decoded value costs far more memory than its bytes (an empty struct is one byte on
        # the wire, ~200 bytes in Python). Real events carry one value per ~50 bytes; this budget
        # stops a list of a million empty structs from turning 1 MB into 200 MB.
        self.budget = 1024 + len(data) // 32

    def fail(self, message: str) -> WireFormatError:
        return WireFormatError(f"{self.what}: {message} (at byte {self.pos} of {len(self.data)})")

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise self.fail(f"needs {n} more bytes but only {len(self.data) - self.pos} remain (truncated?)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def count(self, n: int, elem_type: int, what: str) -> int:
        if n < 0:
            raise self.fail(f"{what} has negative length {n}")
        room = len(self.data) - self.pos
        if n * _MIN_SIZE.get(elem_type, 1) > room:
            raise self.fail(f"{what} declares {n} elements, more than the {room} remaining bytes can hold")
        return n

    def value(self, ttype: int, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail("holds more values than its size allows for an X Chat event (too many tiny elements)")
        if ttype == STRING:
            data, pos = self.data, self.pos
            if len(data) - pos >= 4:  # the common case in one step; anything odd takes the checked path
                (n,) = _I32.unpack_from(data, pos)
                if 0 <= n <= len(data) - pos - 4:
                    self.pos = pos + 4 + n
                    return data[pos + 4 : pos + 4 + n]
            (n,) = _I32.unpack(self.take(4))
            return self.take(self.count(n, BYTE, "string"))
        if ttype == STRUCT:
            return self.struct(depth + 1)
        if ttype == BOOL:
            b = self.take(1)[0]
            if b > 1:
                raise self.fail(f"bool must be 0 or 1, got {b}")
            return b == 1
        if ttype == BYTE:
            return self.take(1)[0]
        if ttype == I16:
            return _I16.unpack(self.take(2))[0]
        if ttype == I32:
            return _I32.unpack(self.take(4))[0]
        if ttype == I64:
            return _I64.unpack(self.take(8))[0]
        if ttype == DOUBLE:
            return struct.unpack(">d", self.take(8))[0]
        if ttype in (LIST, SET):
            self._depth(depth + 1)
            elem = self.take(1)[0]
            self._type(elem)
            (n,) = _I32.unpack(self.take(4))
            return [self.value(elem, depth + 1) for _ in range(self.count(n, elem, TYPE_NAMES[ttype]))]
        if ttype == MAP:
            self._depth(depth + 1)
            kt, vt = self.take(1)[0], self.take(1)[0]
            self._type(kt)
            self._type(vt)
            (n,) = _I32.unpack(self.take(4))
            if n < 0 or n * (_MIN_SIZE[kt] + _MIN_SIZE[vt]) > len(self.data) - self.pos:
                raise self.fail(f"map declares {n} entries, more than the remaining bytes can hold")
            return [(self.value(kt, depth + 1), self.value(vt, depth + 1)) for _ in range(n)]
        raise self.fail(f"unknown Thrift type {ttype}")  # pragma: no cover - _type() rejects first

    def _type(self, ttype: int) -> None:
        if ttype not in _MIN_SIZE:
            raise self.fail(f"unknown Thrift type code {ttype}")

    def _depth(self, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise self.fail(f"structs nested more than {_MAX_DEPTH} deep")

    def struct(self, depth: int = 0) -> Struct:
        self._depth(depth)
        data = self.data
        end = len(data)
        start = self.pos
        fields: dict[int, tuple[int, Any]] = {}
        while True:
            pos = self.pos
            if pos < end and data[pos] == STOP:
                self.pos = pos + 1
                return Struct(fields, start, pos + 1)
            if end - pos >= 3 and data[pos] in _MIN_SIZE:  # a whole field header: read it in one step
                ttype, fid = _HEAD.unpack_from(data, pos)
                self.pos = pos + 3
            else:  # truncated or unknown: the checked path names what is wrong
                ttype = self.take(1)[0]
                self._type(ttype)
                (fid,) = _I16.unpack(self.take(2))
            if fid in fields:
                raise self.fail(f"field {fid} appears twice in one struct")
            fields[fid] = (ttype, self.value(ttype, depth))


def read_fields(data: bytes, *, what: str = "Thrift struct") -> Struct:
    """Decode one whole struct (no trailing bytes allowed) into raw fields, for inspection."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WireFormatError(f"{what} must be bytes, got {type(data).__name__}")
    reader = _Reader(bytes(data), what)
    out = reader.struct()
    if reader.pos != len(reader.data):
        raise reader.fail(f"{len(reader.data) - reader.pos} trailing bytes after the struct's STOP")
    return out


class _Fields:
    """Typed access to a decoded struct's fields, with errors that name the field."""

    __slots__ = ("s", "what")

    def __init__(self, s: Struct, what: str) -> None:
        self.s = s
        self.what = what

    def get(self, fid: int, ttype: int, name: str, *, required: bool = False) -> Any:
        entry = self.s.fields.get(fid)
        if entry is None:
            if required:
                raise WireFormatError(f"{self.what}: field {fid} {name} is missing")
            return None
        got, value = entry
        if got != ttype:
            raise WireFormatError(
                f"{self.what}: field {fid} {name} must be a {TYPE_NAMES[ttype]}, got a {TYPE_NAMES.get(got, got)}"
            )
        return value

    def text(self, fid: int, name: str, *, required: bool = False) -> str | None:
        raw = self.get(fid, STRING, name, required=required)
        if raw is None:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WireFormatError(f"{self.what}: field {fid} {name} is not valid UTF-8") from None


# ----------------------------------------------------------------------------- writing


def _fs(fid: int, value: str | bytes) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return _HEAD.pack(STRING, fid) + _I32.pack(len(raw)) + raw


def _fbool(fid: int, value: bool) -> bytes:
    return _HEAD.pack(BOOL, fid) + (b"\x01" if value else b"\x00")


def _fi64(fid: int, value: int) -> bytes:
    return _HEAD.pack(I64, fid) + _I64.pack(value)


def _fstruct(fid: int, body: bytes) -> bytes:
    """A struct field whose `body` already ends with its STOP byte."""
    return _HEAD.pack(STRUCT, fid) + body


def _flist(fid: int, elem_type: int, items: list[bytes]) -> bytes:
    """A list field; each item is already encoded (a struct's bytes end with its STOP)."""
    return _HEAD.pack(LIST, fid) + bytes([elem_type]) + _I32.pack(len(items)) + b"".join(items)


# The same writers and the typed field reader, public for the other struct modules (kit.content).
field_string, field_bool, field_i64, field_struct, field_list = _fs, _fbool, _fi64, _fstruct, _flist
Fields = _Fields


def field_i32(fid: int, value: int) -> bytes:
    """An i32 field (entity offsets, the delete action)."""
    return _HEAD.pack(I32, fid) + _I32.pack(value)


def string_item(value: str) -> bytes:
    """One string as a list element: ``i32 length ‖ UTF-8``."""
    raw = value.encode("utf-8")
    return _I32.pack(len(raw)) + raw


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
            _fs(1, self.user_id)
            + _fs(2, self.encrypted_conversation_key)
            + _fs(3, self.public_key_version)
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
        entries = b"".join(p.encode() for p in self.participant_keys)
        kce = (
            _fs(1, self.conversation_key_version)
            + _HEAD.pack(LIST, 2)
            + bytes([STRUCT])
            + _I32.pack(len(self.participant_keys))
            + entries
            + _fbool(5, self.for_key_rotation)
            + _STOP
        )
        return _fstruct(3, kce) + _STOP


@dataclass(frozen=True)
class MessageCreateEvent:
    """`MessageCreateEvent`: the sealed message and the conversation key version it was sealed with."""

    contents: bytes
    conversation_key_version: str
    should_notify: bool = True
    ttl_msec: int | None = None

    def encode(self) -> bytes:
        """The struct alone, STOP included (the request's `encoded_message_create_event`)."""
        out = _fs(100, self.contents) + _fs(101, self.conversation_key_version) + _fbool(102, self.should_notify)
        if self.ttl_msec is not None:
            out += _fi64(103, self.ttl_msec)
        return out + _STOP

    def encode_detail(self) -> bytes:
        """The `MessageEventDetail` union with field 1 set to this event."""
        return _fstruct(1, self.encode()) + _STOP


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
        ids = _flist(1, STRING, [string_item(s) for s in self.sequence_ids])
        return _fstruct(7, ids + field_i32(2, self.action) + _STOP) + _STOP


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
        return _fs(1, self.signature) + _fs(2, self.public_key_version) + _fs(3, self.signature_version) + _STOP


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
            _fs(1, self.sequence_id)
            + _fs(2, self.message_id)
            + _fs(3, self.sender_id)
            + _fs(4, self.conversation_id)
            + _fs(6, self.created_at_msec)
            + _fstruct(7, self.detail)
        )
        if self.signature is not None:
            out += _fstruct(9, self.signature.encode())
        if self.previous_sequence_id is not None:
            out += _fs(10, self.previous_sequence_id)
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
    f = _Fields(s, what)
    ids = f.get(1, LIST, "sequence_ids", required=True)
    action = f.get(2, I32, "delete_message_action", required=True)
    if action not in (1, 2):
        raise WireFormatError(f"{what}: field 2 delete_message_action must be 1 (for self) or 2 (for all), got {action}")
    out = []
    for i, raw in enumerate(ids):
        if not isinstance(raw, bytes):
            raise WireFormatError(f"{what}: sequence_ids[{i}] must be a string")
        try:
            out.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise WireFormatError(f"{what}: sequence_ids[{i}] is not valid UTF-8") from None
    return DeleteDetail(tuple(out), action == 2)


def _key_change_from(s: Struct, what: str) -> KeyChangeDetail:
    f = _Fields(s, what)
    version = f.text(1, "conversation_key_version", required=True)
    entries = f.get(2, LIST, "conversation_participant_keys", required=True)
    rotation = f.get(5, BOOL, "for_key_rotation")
    keys = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, Struct):
            raise WireFormatError(f"{what}: conversation_participant_keys[{i}] must be a struct")
        pf = _Fields(entry, f"{what} conversation_participant_keys[{i}]")
        keys.append(
            ParticipantKey(
                user_id=pf.text(1, "user_id", required=True) or "",
                encrypted_conversation_key=pf.text(2, "encrypted_conversation_key", required=True) or "",
                public_key_version=pf.text(3, "public_key_version", required=True) or "",
            )
        )
    return KeyChangeDetail(version or "", tuple(keys), bool(rotation))


def _mce_from(s: Struct, what: str) -> MessageCreateEvent:
    f = _Fields(s, what)
    contents = f.get(100, STRING, "contents", required=True)
    version = f.text(101, "conversation_key_version", required=True)
    notify = f.get(102, BOOL, "should_notify")
    ttl = f.get(103, I64, "ttl_msec")
    return MessageCreateEvent(contents, version or "", True if notify is None else notify, ttl)


def _signature_from(s: Struct, what: str) -> EventSignature:
    f = _Fields(s, what)
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
    f = _Fields(s, what)
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
    return _fstruct(1, _fstruct(1, _fs(1, text) + _STOP) + _STOP) + _STOP


def read_text(data: bytes, *, what: str = "message plaintext") -> str:
    """The text of a decrypted `MessageEntryHolder`; other content kinds raise `WireFormatError`."""
    holder = _Fields(read_fields(data, what=what), what)
    contents = holder.get(1, STRUCT, "contents", required=True)
    union = _Fields(contents, f"{what} contents")
    message = union.get(1, STRUCT, "message (only text messages are supported)", required=True)
    return _Fields(message, f"{what} message").text(1, "message_text") or ""


# ----------------------------------------------------------------------------- walking


#: Field names per struct, from the SDK's event.thrift and product.thrift: id -> (name, the struct
#: its value is, or its list's elements are, or None).
STRUCT_FIELDS: dict[str, dict[int, tuple[str, str | None]]] = {
    "MessageEventDetail": {
        fid: (name, {1: "MessageCreateEvent", 3: "ConversationKeyChangeEvent", 4: "GroupChangeEvent", 7: "MessageDeleteEvent"}.get(fid))
        for fid, name in DETAIL_FIELDS.items()
    },
    # the group changes (kit.thrift_group reads and writes them)
    "GroupChangeEvent": {1: ("group_change", "GroupChange"), 2: ("for_key_rotation", None)},
    "GroupChange": {1: ("group_create", "GroupCreate"), 5: ("group_member_add", "GroupMemberAddChange")},
    "GroupCreate": {
        1: ("member_ids", None), 2: ("admin_ids", None), 3: ("title", None), 4: ("avatar_url", None),
        5: ("conversation_key_version", None), 6: ("is_legacy_group_upgrade", None), 7: ("ttl_msec", None),
    },
    "GroupMemberAddChange": {
        1: ("member_ids", None), 2: ("current_member_ids", None), 3: ("current_admin_ids", None), 4: ("current_title", None),
        5: ("current_avatar_url", None), 6: ("conversation_key_version", None), 7: ("current_ttl_msec", None),
        8: ("current_pending_member_ids", None), 9: ("screen_capture_blocking_enabled", None),
    },
    "ConversationKeyChangeEvent": {
        1: ("conversation_key_version", None),
        2: ("conversation_participant_keys", "ConversationParticipantKey"),
        4: ("ratchet_tree_change", None),
        5: ("for_key_rotation", None),
    },
    "ConversationParticipantKey": {1: ("user_id", None), 2: ("encrypted_conversation_key", None), 3: ("public_key_version", None)},
    "MessageEvent": {
        1: ("sequence_id", None), 2: ("message_id", None), 3: ("sender_id", None), 4: ("conversation_id", None),
        5: ("conversation_token", None), 6: ("created_at_msec", None), 7: ("detail", "MessageEventDetail"),
        8: ("relay_source", None), 9: ("message_event_signature", "MessageEventSignature"),
        10: ("previous_sequence_id", None), 11: ("is_trusted", None),
    },
    "MessageEventSignature": {
        1: ("signature", None), 2: ("public_key_version", None), 3: ("signature_version", None),
        4: ("signing_public_key", None), 5: ("message_signing_key_info_list", None),
    },
    "MessageCreateEvent": {
        100: ("contents", None), 101: ("conversation_key_version", None), 102: ("should_notify", None), 103: ("ttl_msec", None),
    },
    "MessageDeleteEvent": {1: ("sequence_ids", None), 2: ("delete_message_action", None)},
    # the plaintext of every message kind (kit.content)
    "MessageEntryHolder": {1: ("contents", "MessageEntryContents")},
    "MessageEntryContents": {
        1: ("message", "MessageContents"), 2: ("reaction_add", "MessageReaction"),
        3: ("reaction_remove", "MessageReaction"), 4: ("message_edit", "MessageEdit"),
    },
    "MessageContents": {
        1: ("message_text", None), 2: ("entities", "RichTextEntity"), 3: ("attachments", None),
        4: ("replying_to_preview", "ReplyingToPreview"), 8: ("quick_reply", "QuickReply"),
    },
    "RichTextEntity": {1: ("start_index", None), 2: ("end_index", None), 3: ("content", "RichTextContent")},
    "RichTextContent": {
        1: ("hashtag", None), 2: ("cashtag", None), 3: ("mention", None), 4: ("url", None),
        5: ("email", None), 6: ("address", None), 7: ("phoneNumber", None),
    },
    "MessageReaction": {1: ("message_sequence_id", None), 2: ("emoji", None), 3: ("message_attachment_id", None)},
    "MessageEdit": {1: ("message_sequence_id", None), 2: ("updated_text", None), 3: ("entities", "RichTextEntity")},
    "ReplyingToPreview": {
        1: ("sender_id", None), 2: ("message_text", None), 3: ("entities", "RichTextEntity"), 4: ("attachments", None),
        5: ("sender_display_name", None), 6: ("replying_to_message_sequence_id", None),
        7: ("replying_to_message_id", None), 8: ("raw_event_message_create", "MessageEvent"),
        9: ("raw_event_edit_message", "MessageEvent"), 10: ("raw_event_ckces", "MessageEvent"),
    },
    "QuickReply": {1: ("request", "QuickReplyRequest"), 2: ("response", "QuickReplyResponse")},
    "QuickReplyRequest": {1: ("options", "QuickReplyOptionsRequest")},
    "QuickReplyResponse": {1: ("options", "QuickReplyOptionsResponse")},
    "QuickReplyOptionsRequest": {1: ("id", None), 2: ("options", "QuickReplyOption")},
    "QuickReplyOptionsResponse": {1: ("request_id", None), 2: ("metadata", None), 3: ("selected_option_id", None)},
    "QuickReplyOption": {1: ("id", None), 2: ("label", None), 3: ("metadata", None), 4: ("description", None)},
}  # fmt: skip
_FIXED = {BOOL: 1, BYTE: 1, I16: 2, I32: 4, I64: 8, DOUBLE: 8}


@dataclass(frozen=True)
class FieldRun:
    """One run of bytes of a walked struct: a field (its header and value), a list header, or a STOP.

    `ttype` is the Thrift type (None for a STOP), `head` the bytes of the field's own header (type,
    id, and a string's length or a list's element type and count), `struct` the struct the run is in,
    `sub` the struct its value (or its list's elements) is, `element` the list index when the run is a
    field of a list element, `value` the decoded value (a `Struct` or a list of them for nested runs).
    """

    offset: int
    length: int
    depth: int
    name: str
    ttype: int | None
    head: int
    value: Any
    struct: str
    sub: str | None = None
    element: int | None = None
    field_id: int | None = None


def _size(data: bytes, at: int, ttype: int, value: Any) -> int:
    """Bytes a decoded value starting at `at` took on the wire (the reader has checked them)."""
    if ttype == STRING:
        return 4 + len(value)
    if ttype == STRUCT:
        return int(value.end - value.start)
    if ttype in (LIST, SET):
        elem, pos = data[at], at + 5
        for v in value:
            pos += _size(data, pos, elem, v)
        return pos - at
    if ttype == MAP:
        kt, vt, pos = data[at], data[at + 1], at + 6
        for k, v in value:
            pos += _size(data, pos, kt, k)
            pos += _size(data, pos, vt, v)
        return pos - at
    return _FIXED[ttype]


def _walk(data: bytes, s: Struct, struct: str, depth: int, out: list[FieldRun], element: int | None) -> None:
    names = STRUCT_FIELDS.get(struct, {})
    pos = s.start
    for fid, (ttype, value) in s.fields.items():
        name, sub = names.get(fid, (f"field {fid}", None))
        size = 3 + _size(data, pos + 3, ttype, value)
        if ttype == STRUCT:
            out.append(FieldRun(pos, 3, depth, name, ttype, 3, value, struct, sub, element, fid))
            _walk(data, value, sub or "", depth + 1, out, None)
        elif ttype in (LIST, SET) and value and isinstance(value[0], Struct):
            out.append(FieldRun(pos, 8, depth, name, ttype, 8, value, struct, sub, element, fid))
            for i, elem in enumerate(value):
                _walk(data, elem, sub or "", depth + 1, out, i)
        else:
            head = 7 if ttype == STRING else (8 if ttype in (LIST, SET) else size)
            out.append(FieldRun(pos, size, depth, name, ttype, head, value, struct, sub, element, fid))
        pos += size
    out.append(FieldRun(pos, 1, depth, "STOP", None, 1, None, struct, None, element))


def walk(data: bytes, *, struct: str = "MessageEventDetail") -> list[FieldRun]:
    """A whole struct (read with `read_fields`, so with its budgets) as runs of bytes, in order.

    The runs cover every byte exactly once; `struct` names the root (MessageEventDetail,
    MessageEvent, MessageEventSignature, MessageCreateEvent, MessageEntryHolder) for the field names.
    """
    raw = bytes(data)
    out: list[FieldRun] = []
    _walk(raw, read_fields(raw, what=struct), struct, 0, out, None)
    return out
