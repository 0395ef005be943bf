"""Thrift structs walked field by field: `thrift_table` (a row per run of bytes) and `thrift_map`; notebooks 03, 05."""

from __future__ import annotations

from typing import Any

from kit import thrift as _thrift
from kit.tables.bytemap import ByteMap, Segment
from kit.tables.format import Table, hex_pairs, preview, raw_bytes, utc_time

__all__ = ["thrift_map", "thrift_table"]


_S = _thrift.STRING


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


def _row(data: bytes, run: _thrift.FieldRun) -> tuple[Any, ...]:
    tag = f"[{run.element}] " if run.element is not None else ""
    where = f"{'· ' * run.depth}{tag}{run.name}"
    if run.ttype is None:
        return (run.offset, 1, where, "stop", "00", f"end of {run.struct or 'struct'}")
    tname = _thrift.TYPE_NAMES.get(run.ttype, str(run.ttype))
    wire = hex_pairs(data[run.offset : run.offset + run.head])
    if run.ttype == _thrift.STRUCT:
        return (run.offset, 3, where, "struct", wire, f"→ {run.sub or 'struct'}")
    if run.ttype in (_thrift.LIST, _thrift.SET) and run.value and isinstance(run.value[0], _thrift.Struct):
        return (run.offset, 8, where, f"{tname}<struct>", wire, f"{len(run.value)} × {run.sub or 'struct'}")
    if run.ttype in (_thrift.LIST, _thrift.SET):
        shown = f"{len(run.value)} elements"
    elif run.ttype == _thrift.MAP:
        shown = f"{len(run.value)} entries"
    else:
        shown = _show(run.name, run.ttype, run.value)
    return (run.offset, run.length, where, tname, wire, shown)


def thrift_table(data: bytes | str, *, struct: str = "MessageEventDetail") -> Table:
    """A TBinaryProtocol struct decoded field by field, one row per run of bytes.

    `data` is raw bytes or base64 text (an `encoded_message_event_detail`, an `encoded_event`, ...);
    `struct` names the root: MessageEventDetail, MessageEvent, MessageEventSignature,
    MessageCreateEvent or MessageEntryHolder. The rows cover every byte once, in order; a `·`
    per level shows nesting and ``[i]`` the list element. `wire` is the field's own bytes
    (type, field id, length or count), `value` what follows them, decoded.
    """
    raw = raw_bytes(data, struct)
    rows = [_row(raw, run) for run in _thrift.walk(raw, struct=struct)]
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
