"""An inspection as a table and a byte map: `inspection_table`, `inspection_map` (notebook 08)."""

from __future__ import annotations

from kit.inspector import Inspection
from kit.tables.bytemap import ByteMap, Segment
from kit.tables.format import Table

__all__ = ["inspection_map", "inspection_table", "notes_table"]


def inspection_table(inspection: Inspection) -> Table:
    """The fields of a `kit.inspect` result, one row each: offset, length, name, value, note."""
    rows = [("" if o is None else o, "" if n is None else n, name, value, note) for o, n, name, value, note in inspection.rows()]
    return Table(rows, columns=["offset", "length", "name", "value", "note"])


def inspection_map(inspection: Inspection) -> ByteMap | None:
    """The bytes of an inspection coloured by field (None when it has no bytes: JSON, text, a secret)."""
    segments = inspection.segments()
    if not segments:
        return None
    parts = []
    for offset, length, name in segments:
        leaf = name.replace("·", "").strip().split("] ", 1)[-1]
        group = "structure (headers, STOP)" if leaf in ("STOP",) or name.endswith(("Event", "Detail")) else leaf
        parts.append(Segment(offset, length, name, group))
    return ByteMap(inspection.data, parts, title=inspection.kind, width=32 if len(inspection.data) > 128 else 16)


def notes_table(inspection: Inspection) -> Table:
    """Every note of an inspection and of the ones inside it: where, and what."""
    rows = []
    for i in inspection.walk():
        rows.extend((i.where or "(top)", note) for note in i.notes)
    return Table(rows, columns=["where", "note"])
