"""The field walker: field names per struct (`STRUCT_FIELDS`) and a struct as runs of bytes (`walk`), for the inspector and byte maps (notebooks 03, 08)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit.thrift.codec import BOOL, BYTE, DOUBLE, I16, I32, I64, LIST, MAP, SET, STRING, STRUCT, Struct, read_fields
from kit.thrift.events import DETAIL_FIELDS

__all__ = ["STRUCT_FIELDS", "FieldRun", "walk"]

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
