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

The package: `kit.thrift.codec` (the reader and writers), `kit.thrift.events` (the structs above),
`kit.thrift.layout` (field names per struct and the walker the inspector uses).
"""

from __future__ import annotations

from kit.thrift.codec import (
    BOOL,
    BYTE,
    DOUBLE,
    I16,
    I32,
    I64,
    LIST,
    MAP,
    SET,
    STOP,
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
from kit.thrift.events import (
    DETAIL_FIELDS,
    DeleteDetail,
    EventSignature,
    KeyChangeDetail,
    MessageCreateEvent,
    MessageEvent,
    OtherDetail,
    ParticipantKey,
    encode_text,
    read_detail,
    read_event_signature,
    read_message_create_event,
    read_message_event,
    read_text,
)
from kit.thrift.layout import STRUCT_FIELDS, FieldRun, walk

__all__ = [
    "BOOL",
    "BYTE",
    "DETAIL_FIELDS",
    "DOUBLE",
    "I16",
    "I32",
    "I64",
    "LIST",
    "MAP",
    "SET",
    "STOP",
    "STRING",
    "STRUCT",
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
    "Struct",
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
