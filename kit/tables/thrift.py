"""Thrift structs walked field by field: `thrift_table` (a row per run of bytes) and `thrift_map`; notebooks 03, 05."""

from __future__ import annotations

from typing import Any

from kit import thrift as _thrift
from kit.tables.bytemap import ByteMap, Segment
from kit.tables.format import Table, hex_pairs, preview, raw_bytes, utc_time

__all__ = ["thrift_map", "thrift_table"]


_S = _thrift.STRING
#: Field names per struct, from the SDK's event.thrift and product.thrift: (name, struct type or None).
_FIELDS: dict[str, dict[int, tuple[str, str | None]]] = {
    "MessageEventDetail": {
        fid: (name, {1: "MessageCreateEvent", 3: "ConversationKeyChangeEvent", 7: "MessageDeleteEvent"}.get(fid))
        for fid, name in _thrift.DETAIL_FIELDS.items()
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
_FIXED = {_thrift.BOOL: 1, _thrift.BYTE: 1, _thrift.I16: 2, _thrift.I32: 4, _thrift.I64: 8, _thrift.DOUBLE: 8}


def _size(data: bytes, at: int, ttype: int, value: Any) -> int:
    """Bytes a decoded value starting at `at` took on the wire (the reader has checked them)."""
    if ttype == _S:
        return 4 + len(value)
    if ttype == _thrift.STRUCT:
        return int(value.end - value.start)
    if ttype in (_thrift.LIST, _thrift.SET):
        elem, pos = data[at], at + 5
        for v in value:
            pos += _size(data, pos, elem, v)
        return pos - at
    if ttype == _thrift.MAP:
        kt, vt, pos = data[at], data[at + 1], at + 6
        for k, v in value:
            pos += _size(data, pos, kt, k)
            pos += _size(data, pos, vt, v)
        return pos - at
    return _FIXED[ttype]


def _show(name: str, ttype: int, value: Any) -> str:
    if ttype == _S:
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or not text.isprintable():
            return f"{len(value)} bytes: {hex_pairs(value, 8)}"
        if name.endswith("_msec") and text.isdigit():
            return f"{utc_time(text)} ({len(text)} digits)"
        return preview(text)
    if ttype == _thrift.BOOL:
        return "true" if value else "false"
    return repr(value)


def _walk(data: bytes, s: _thrift.Struct, struct_name: str, depth: int, rows: list[tuple[Any, ...]], tag: str = "") -> None:
    names = _FIELDS.get(struct_name, {})
    indent = "· " * depth
    pos = s.start
    for fid, (ttype, value) in s.fields.items():
        name, sub = names.get(fid, (f"field {fid}", None))
        where = f"{indent}{tag}{name}"
        tname = _thrift.TYPE_NAMES.get(ttype, str(ttype))
        if ttype == _thrift.STRUCT:
            rows.append((pos, 3, where, "struct", hex_pairs(data[pos : pos + 3]), f"→ {sub or 'struct'}"))
            _walk(data, value, sub or "", depth + 1, rows)
        elif ttype in (_thrift.LIST, _thrift.SET) and value and isinstance(value[0], _thrift.Struct):
            rows.append((pos, 8, where, f"{tname}<struct>", hex_pairs(data[pos : pos + 8]), f"{len(value)} × {sub or 'struct'}"))
            for i, elem in enumerate(value):
                _walk(data, elem, sub or "", depth + 1, rows, tag=f"[{i}] ")
        else:
            length = 3 + _size(data, pos + 3, ttype, value)
            head = 7 if ttype == _S else (8 if ttype in (_thrift.LIST, _thrift.SET) else length)
            if ttype in (_thrift.LIST, _thrift.SET):
                shown = f"{len(value)} elements"
            elif ttype == _thrift.MAP:
                shown = f"{len(value)} entries"
            else:
                shown = _show(name, ttype, value)
            rows.append((pos, length, where, tname, hex_pairs(data[pos : pos + head]), shown))
        pos += 3 + _size(data, pos + 3, ttype, value)
    rows.append((pos, 1, f"{indent}{tag}STOP", "stop", "00", f"end of {struct_name or 'struct'}"))


def thrift_table(data: bytes | str, *, struct: str = "MessageEventDetail") -> Table:
    """A TBinaryProtocol struct decoded field by field, one row per run of bytes.

    `data` is raw bytes or base64 text (an `encoded_message_event_detail`, an `encoded_event`, ...);
    `struct` names the root: MessageEventDetail, MessageEvent, MessageEventSignature,
    MessageCreateEvent or MessageEntryHolder. The rows cover every byte once, in order; a `·`
    per level shows nesting and ``[i]`` the list element. `wire` is the field's own bytes
    (type, field id, length or count), `value` what follows them, decoded.
    """
    raw = raw_bytes(data, struct)
    s = _thrift.read_fields(raw, what=struct)
    rows: list[tuple[Any, ...]] = []
    _walk(raw, s, struct, 0, rows)
    return Table(rows, columns=["offset", "length", "field", "type", "wire", "value"])


def thrift_map(data: bytes | str, *, struct: str = "MessageEventDetail") -> ByteMap:
    """The same struct as a `ByteMap`, coloured by field name (see `thrift_table` for the rows)."""
    raw = raw_bytes(data, struct)
    rows = thrift_table(raw, struct=struct)
    segments = []
    for offset, length, field, ttype, _wire, _value in rows.itertuples(index=False):
        leaf = field.replace("·", "").strip().split("] ", 1)[-1]
        group = "structure (headers, STOP)" if ttype in ("struct", "stop") or ttype.startswith("list<") else leaf
        segments.append(Segment(int(offset), int(length), field, group))
    return ByteMap(raw, segments, title=struct, width=32)
