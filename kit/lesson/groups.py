"""Checks for 06 · Rotation and groups, the growing group: what a member who joined later can read.

The right answer comes from the notebook's events through the kit: the member's own `kit.Keyring` reads every
key-change event of the page (a key never wrapped to them is skipped, as their code would), and `kit.read_message`
opens each message with the keys they hold. The checker compares the texts they could read with the answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kit.errors import KeyNotFoundError, KitError
from kit.keyring import Keyring
from kit.keys import Identity, PublicKeys
from kit.lesson import BLANK, Check, fail, is_blank, passed
from kit.message import read_message

__all__ = ["check_readable", "readable_texts"]


def readable_texts(events: Any, *, recipient: Identity, signing_keys: Iterable[PublicKeys]) -> set[str]:
    """The texts of an events page's messages that `recipient` can read with the keys wrapped to them."""
    keys = list(signing_keys)
    ring = Keyring()
    held: dict[str, bytes] = {}
    for event in events.key_changes:
        try:
            change = ring.read(event, recipient=recipient, signing_keys=keys).change
        except KeyNotFoundError:
            continue  # wrapped to the roster before they joined: not theirs
        held = ring.keys(change.conversation_id)
    can = set()
    for event in events.messages:
        try:
            can.add(read_message(event, conversation_key=held, signing_keys=keys).text)
        except KeyNotFoundError:
            continue
    return can


def check_readable(
    answer: Any, *, events: Any, recipient: Identity, signing_keys: Iterable[PublicKeys], everyone: Iterable[str]
) -> Check:
    """The set of message texts `recipient` can read in `events` (a page of the group's events).

    `everyone` is every text of the group (what an older member reads), so the checker can name a text the
    recipient cannot read.
    """
    if is_blank(answer) or (isinstance(answer, (set, frozenset, list, tuple)) and any(a is Ellipsis for a in answer)):
        return Check(False, BLANK)
    if answer is None:
        return fail("your answer is None: did a function forget to `return` its result?")
    if isinstance(answer, str):
        return fail(f"the answer is a set of texts, like {{{answer!r}}}, not one string")
    if not isinstance(answer, (set, frozenset, list, tuple)):
        return fail(f"the answer should be a set of message texts, got a {type(answer).__name__}")
    if any(not isinstance(a, str) for a in answer):
        return fail("each entry is a message's text (a string)")
    try:
        can = readable_texts(events, recipient=recipient, signing_keys=signing_keys)
    except KitError as exc:  # pragma: no cover - the notebook's own events always read
        return fail(f"the events did not read: {exc}")
    got, all_texts = set(answer), set(everyone)
    unknown = sorted(got - all_texts)
    if unknown:
        return fail(f"{unknown[0]!r} is not a message of this group: the group's messages are {sorted(all_texts)}")
    if got == can:
        return passed(f"{recipient.user_id} reads {sorted(can)}: only messages sealed with a key wrapped to them")
    too_many = sorted(got - can)
    if too_many:
        return fail(
            f"{too_many[0]!r} was sealed with a key version wrapped before they joined: no entry for them, "
            "so no key (rotation on join protects what was said before)"
        )
    return fail(f"{sorted(can - got)[0]!r} is missing: it was sealed with a key version wrapped to them, so they read it")
