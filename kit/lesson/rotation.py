"""Checks for 06 · Rotation and groups: a newer version, what a recipient does with an older one, who a group key is for.

The right answers come from the notebook's values through the kit: `kit.ids.version_key` compares versions as
numbers, a `kit.Keyring` reads the key-change events the notebook passes in (so the decision is the one the
recipient's code really makes), and the participants are read back from the prepared event detail.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kit.errors import KitError
from kit.ids import check_version, version_key
from kit.keyring import Keyring
from kit.keys import Identity, PublicKeys
from kit.lesson import BLANK, Check, check_choice, fail, is_blank, passed
from kit.protocol import KeyInit

__all__ = ["check_group_participants", "check_next_version", "check_replayed_change"]


def check_next_version(answer: Any, *, latest: str) -> Check:
    """A key version for a rotation after `latest`: a decimal string, newer as a number."""
    if is_blank(answer):
        return Check(False, BLANK)
    if answer is None:
        return fail("your answer is None: did a function forget to `return` its result?")
    if isinstance(answer, int) and not isinstance(answer, bool):
        return fail(f"key versions are decimal strings on the wire: str({answer}), not the number")
    if not isinstance(answer, str):
        return fail(f"the answer should be a str of digits, got a {type(answer).__name__}")
    try:
        check_version(answer)
    except KitError as exc:
        if "future" in str(exc):
            return fail(f"{answer} is more than a day in the future: a key version is the time in milliseconds now")
        return fail(f"a key version is decimal digits and nothing else (no leading zero), got {answer!r}")
    new, old = version_key(answer), version_key(latest)
    if new == old:
        return fail(f"{answer} is the latest version itself: a rotation needs a strictly newer one")
    if new < old:
        if answer > latest:
            return fail(f"{answer} sorts after {latest} as text, but as a number it is older: versions compare as numbers")
        return fail(f"{answer} is older than the latest version {latest}: a rotation needs a newer one (the time in milliseconds is)")
    return passed(f"{answer} is newer than {latest} as a number: a rotation can use it")


#: What a recipient who holds a newer key does with an older key-change event that verifies.
REPLAY_CHOICES = {
    "adopt it": "an older key change would take the conversation back to an older key (which may have leaked): the recipient adopts only a newer version",
    "keep the newest": "the event verifies (it is alice's genuine old key change), but it is not newer than the version already adopted, so the newest stays",
    "reject it as forged": "it is not forged: it verifies with alice's signing key. Genuine is not the same as newest",
}


def check_replayed_change(
    answer: Any, *, events: Sequence[Any], recipient: Identity, signing_keys: Iterable[PublicKeys]
) -> Check:
    """What `recipient` does with the last of `events` after reading the others, decided by a `kit.Keyring`."""
    if is_blank(answer):
        return Check(False, BLANK)
    keys = list(signing_keys)
    ring = Keyring()
    for event in events[:-1]:
        ring.read(event, recipient=recipient, signing_keys=keys)
    try:
        adoption = ring.read(events[-1], recipient=recipient, signing_keys=keys)
    except KitError:
        expected = "reject it as forged"
    else:
        expected = "adopt it" if adoption.adopted else "keep the newest"
    return check_choice(answer, expected, choices=REPLAY_CHOICES, right="the recipient keeps the newest")


def check_group_participants(answer: Any, *, init: KeyInit, creator: Identity) -> Check:
    """The user ids a group's first key is wrapped to, as a set: every member, the creator included."""
    if is_blank(answer) or (isinstance(answer, (set, frozenset)) and any(a is Ellipsis for a in answer)):
        return Check(False, BLANK)
    if answer is None:
        return fail("your answer is None: did a function forget to `return` its result?")
    if not isinstance(answer, (set, frozenset, list, tuple)):
        return fail(f"the answer should be a set of user ids, got a {type(answer).__name__}")
    if any(not isinstance(a, str) for a in answer):
        return fail("user ids are strings (\"1603…\"), not numbers")
    got = set(answer)
    expected = {p.user_id for p in init.detail.participant_keys}
    if got == expected:
        return passed(f"{len(expected)} participants: every member and the creator, each with their own wrapped copy")
    if got == expected - {creator.user_id}:
        return fail("the creator is missing: the sender wraps the key to herself too (her other devices read the group with it)")
    missing, extra = sorted(expected - got), sorted(got - expected)
    if extra:
        return fail(f"{extra} {'is' if len(extra) == 1 else 'are'} not in this group: the key goes to its members only")
    return fail(f"{missing} {'is' if len(missing) == 1 else 'are'} missing: every member gets a wrapped copy")
