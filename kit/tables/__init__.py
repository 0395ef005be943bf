"""Pandas views of the kit's bytes, keys, events and problems: what the notebooks show.

Every view is a `Table` (a pandas DataFrame that shows long text whole instead of cutting it
at 50 characters) or a `ByteMap` (bytes laid out by field: a coloured grid in a notebook, a
hex dump in a terminal, `.plot()` for a picture, `.table` for the rows).

Nothing here decides anything about the protocol: the views read with the kit's own
functions (`kit.thrift.read_fields`, `kit.read_key_change`, `kit.Keyring`, ...) and lay the result out.
Importing this package imports pandas; matplotlib loads only when something is plotted.

Output is stable on purpose, so that notebooks can be checked cell by cell: hex is shown as
spaced pairs (at most 16 bytes in a table cell), long text as a short preview with its length,
and times as ``YYYY-MM-DD HH:MM:SS.mmm UTC``.

One module per concept: `format` (Table, how values are written), `bytemap` (Segment, ByteMap),
`keys`, `wrap`, `signature`, `thrift`, `events`, `conversation`, `groups`, `requests`, `cost` and `inspection`; everything the notebooks
call is re-exported here, so ``kit.tables.X`` is the name to use.
"""

from __future__ import annotations

from kit.tables.bytemap import ByteMap, Segment
from kit.tables.conversation import conversation_table
from kit.tables.cost import demo_members, plot_wrap_cost, progress_bar, wrap_cost
from kit.tables.events import events_table, key_changes_table, messages_table, sealed_message_map
from kit.tables.format import Table, error_line
from kit.tables.groups import key_access_table, roster_table
from kit.tables.inspection import inspection_map, inspection_table, notes_table
from kit.tables.keys import public_keys_table, sealed_key_table, spki_map
from kit.tables.requests import conversation_ids_table, participants_table, problem_table, request_table
from kit.tables.signature import payload_table, signature_map
from kit.tables.thrift import thrift_map, thrift_table
from kit.tables.wrap import tamper_table, wrap_steps_table, wrapped_key_map

__all__ = [
    "ByteMap",
    "Segment",
    "Table",
    "conversation_ids_table",
    "conversation_table",
    "demo_members",
    "error_line",
    "events_table",
    "inspection_map",
    "inspection_table",
    "key_access_table",
    "key_changes_table",
    "messages_table",
    "notes_table",
    "participants_table",
    "payload_table",
    "plot_wrap_cost",
    "problem_table",
    "progress_bar",
    "public_keys_table",
    "request_table",
    "roster_table",
    "sealed_key_table",
    "sealed_message_map",
    "signature_map",
    "spki_map",
    "tamper_table",
    "thrift_map",
    "thrift_table",
    "wrap_cost",
    "wrap_steps_table",
    "wrapped_key_map",
]
