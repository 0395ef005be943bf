"""A group over time: who joined when, at which key version, and which key versions each member can open; notebook 06."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kit.errors import KeyNotFoundError, KitError
from kit.group import GroupEvent, read_group_event
from kit.keys import Identity, PublicKeys
from kit.protocol import read_key_change
from kit.tables.format import Table, error_line, raw_bytes
from kit.thrift import KeyChangeDetail, read_message_event

__all__ = ["key_access_table", "roster_table"]

#: What a cell of `key_access_table` says.
OPENS, NOT_WRAPPED = "✓ opens", "· not wrapped to them"


def _namer(names: Mapping[str, str] | None) -> Any:
    def name(user_id: str) -> str:
        return names.get(user_id, user_id) if names else user_id

    return name


def _group_events(events: Any, recipient: Identity | None, signing_keys: list[PublicKeys]) -> list[GroupEvent]:
    if hasattr(events, "group_changes"):  # an EventsPage: read each group change with the page's key changes
        if recipient is None:
            raise KitError("roster_table(page) needs recipient= (whose view of the group) and signing_keys=")
        read = [read_group_event(g, recipient=recipient, signing_keys=signing_keys, key_changes=events.key_changes)
                for g in events.group_changes]  # fmt: skip
    else:
        read = list(events)
        for g in read:
            if not isinstance(g, GroupEvent):
                raise KitError(f"roster_table takes an events page or kit.GroupEvent objects, got {type(g).__name__}")
    return sorted(read, key=lambda g: int(g.sequence_id or 0))


def roster_table(
    events: Any,
    *,
    recipient: Identity | None = None,
    signing_keys: Iterable[PublicKeys] = (),
    names: Mapping[str, str] | None = None,
) -> Table:
    """The group's roster over time, oldest first: one row per group create or member add.

    `events` is an events page (`api.get_events(gid)`, read as `recipient` with `signing_keys`) or
    `kit.GroupEvent`s already read. `names` (user id -> name) makes the ids readable. The last
    column says whether the recipient holds the key that came with the change.
    """
    read = _group_events(events, recipient, list(signing_keys))
    name = _namer(names)
    rows = []
    for g in read:
        what = "created" if g.kind == "group_create" else "members added"
        joined = ", ".join(name(u) for u in g.added)
        holds = "yes" if g.key_change is not None else "no: not in the roster it was wrapped to"
        rows.append((g.sequence_id, what, name(g.actor_id), joined, ", ".join(name(u) for u in g.members),
                     ", ".join(name(u) for u in g.admins), g.title or "", g.conversation_key_version, holds))  # fmt: skip
    columns = ["sequence_id", "event", "by", "joined", "members after", "admins", "title", "key version", "recipient holds the key"]
    return Table(rows, columns=columns)


def key_access_table(
    events: Any,
    *,
    members: Iterable[Identity],
    signing_keys: Iterable[PublicKeys],
    names: Mapping[str, str] | None = None,
) -> Table:
    """Which key versions each member can open: one row per key version (oldest first), one column per member.

    `events` is an events page or a list of key-change events (base64). Each cell is each member's own
    `kit.read_key_change` of that event: ✓ when their entry unwraps and the signature verifies, a dot
    when the key was never wrapped to them (they joined later), else the error.
    """
    people = list(members)
    keys = list(signing_keys)
    items = events.key_changes if hasattr(events, "key_changes") else list(events)
    parsed = []
    for item in items:
        raw = raw_bytes(item, "key-change event")
        detail = read_message_event(raw).read_detail()
        if isinstance(detail, KeyChangeDetail):
            parsed.append((int(detail.conversation_key_version), detail.conversation_key_version, raw, detail))
    name = _namer(names)
    rows = []
    for _, version, raw, detail in sorted(parsed, key=lambda p: p[0]):
        cells = []
        for person in people:
            try:
                read_key_change(raw, recipient=person, signing_keys=keys)
                cells.append(OPENS)
            except KeyNotFoundError:
                cells.append(NOT_WRAPPED)
            except KitError as exc:
                cells.append(error_line(exc))
        rows.append((version, len(detail.participant_keys), *cells))
    return Table(rows, columns=["key version", "wrapped to", *(name(p.user_id) for p in people)])
