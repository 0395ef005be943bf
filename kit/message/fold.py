"""Folding a conversation: edits, reactions and deletes applied to the messages they point at.

Edits, reactions and deletes are events of their own that name a target by sequence id. A
reader folds them onto their targets, in sequence order: an edit replaces the text only when
its signer is the target's author (anyone can send an edit; only the author's means anything);
a reaction adds, and its removal takes back, one emoji of one user; a delete for all (by the
target's author) hides a message for everyone, a delete for self hides it from its sender's view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kit.message.delete import Deletion
from kit.message.read import Message

__all__ = ["Entry", "fold"]


@dataclass
class Entry:
    """One text message or reply, with what later events did to it.

    `text` is the text after the author's edits; `edits` counts them; `reactions` maps an emoji
    to the users who reacted with it (in the order they did); `notes` are one line each for
    events that pointed here but were ignored; `deleted` says by whom, for whom, when it was.
    """

    message: Message
    text: str
    edits: int = 0
    reactions: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    deleted: str = ""

    def reactions_text(self) -> str:
        """The reactions in one short string, e.g. ``👍 2  🎉 1``."""
        return "  ".join(f"{emoji} {len(users)}" for emoji, users in self.reactions.items() if users)


def _seq(text: str) -> tuple[int, str]:
    return (len(text), text)  # numeric order for decimal strings of any length


def fold(messages: Iterable[Message], deletes: Iterable[Deletion] = (), *, reader: str | None = None) -> tuple[list[Entry], list[str]]:
    """The conversation as a reader sees it: entries oldest first, and a line for each event whose target is not there.

    `reader` is the user reading (a delete for self hides a message only from its sender).
    """
    ordered = sorted(messages, key=lambda m: _seq(m.sequence_id))
    entries = {m.sequence_id: Entry(m, m.text) for m in ordered if m.kind in ("text", "reply")}
    orphans: list[str] = []
    for m in ordered:
        if m.kind in ("text", "reply"):
            continue
        target = entries.get(m.target_sequence_id or "")
        if target is None:
            orphans.append(f"{m.kind} {m.sequence_id} by {m.sender_id} points at {m.target_sequence_id}, not in this batch")
            continue
        if m.kind == "edit":
            if m.sender_id != target.message.sender_id:
                target.notes.append(f"edit {m.sequence_id} by {m.sender_id} ignored: only the author can edit")
                continue
            target.text, target.edits = m.text, target.edits + 1
        elif m.kind == "reaction_add":
            users = target.reactions.setdefault(m.emoji or "", [])
            if m.sender_id not in users:
                users.append(m.sender_id)
        elif m.kind == "reaction_remove":
            users = target.reactions.get(m.emoji or "", [])
            if m.sender_id in users:
                users.remove(m.sender_id)
    for d in sorted(deletes, key=lambda d: _seq(d.sequence_id)):
        for seq in d.sequence_ids:
            target = entries.get(seq)
            if target is None:
                continue
            if not d.delete_for_all:
                if reader is None or reader == d.sender_id:
                    target.deleted = f"deleted by {d.sender_id} for self"
            elif d.sender_id == target.message.sender_id:
                target.deleted = f"deleted for all by {d.sender_id}"
            else:  # in a group an admin may; the kit does not know who administers a group
                target.notes.append(f"delete for all {d.sequence_id} by {d.sender_id}, who is not the author")
    return list(entries.values()), orphans
