"""The conversation table: one row per message, with its kind, its quote and the quote's check, reactions folded on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kit.keyring import Keyring
from kit.keys import Identity, PublicKeys
from kit.message import EventBatch, fold, read_events
from kit.tables.format import Table, error_line, preview

__all__ = ["conversation_table"]

COLUMNS = ["sequence_id", "sender_id", "kind", "text", "replying to", "quote check", "reactions", "notes"]


def _quote_check(reply_to: Any) -> str:
    if reply_to is None:
        return ""
    if reply_to.validation == "valid":
        return "valid"
    if reply_to.validation == "invalid":
        return f"INVALID: {reply_to.problem}"
    return "not checkable (no original embedded)"


def conversation_table(
    events: Any,
    *,
    recipient: Identity | None = None,
    signing_keys: Iterable[PublicKeys] = (),
    keyring: Keyring | None = None,
) -> Table:
    """A conversation as its reader sees it, oldest first: texts and replies, with edits, reactions and deletes folded on.

    `events` is a `kit.EventBatch` (from `kit.read_events`), or events to read with one (an events
    page, or a list of base64 events) as `recipient`. A reply shows what it quotes and whether the
    quote matches the original it embeds; events that could not be read are rows of kind ``error``.
    """
    if isinstance(events, EventBatch):
        batch = events
        reader = recipient.user_id if recipient is not None else None
    else:
        if recipient is None:
            raise TypeError("conversation_table needs recipient= (and signing_keys=) to read events; or pass a kit.EventBatch")
        items = [*events.key_changes, *events.messages] if hasattr(events, "key_changes") else list(events)
        batch = read_events(items, recipient=recipient, signing_keys=signing_keys, keyring=keyring)
        reader = recipient.user_id
    entries, orphans = fold(batch.messages, batch.deletes, reader=reader)
    rows = []
    for e in entries:
        m = e.message
        notes = [*(["edited"] if e.edits else []), *([e.deleted] if e.deleted else []), *e.notes]
        quoted = "" if m.reply_to is None else f"{preview(m.reply_to.text or '')} ({m.reply_to.sequence_id})"
        rows.append((m.sequence_id, m.sender_id, m.kind, "" if e.deleted else e.text, quoted, _quote_check(m.reply_to),
                     e.reactions_text(), "; ".join(notes)))  # fmt: skip
    for line in orphans:
        rows.append(("", "", "orphan", "", "", "", "", line))
    for index, exc in batch.errors.items():
        rows.append(("", "", "error", "", "", "", "", f"event {index}: {error_line(exc)}"))
    return Table(rows, columns=COLUMNS)
