"""Checks for 07 · Workshop: the pair's conversation id, who the key is wrapped to, the comparison code
decision, the key version a new message is sealed with, and reading older messages through a keyring.

The right answers come from the learner's own room through the kit: `kit.ConversationId.pair` for the
id, the neighbour's newest keys as `room.find` gave them, the digits of both codes, `room.keyring`'s
newest adopted version, and `kit.read_message` run on every message with the learner's keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from kit.errors import KitError, KeyNotFoundError
from kit.ids import ConversationId
from kit.keyring import Keyring
from kit.keys import Identity, PublicKeys
from kit.lesson import BLANK, Check, fail, is_blank, passed
from kit.message import read_message
from kit.room import Room

__all__ = [
    "CODE_CHOICES",
    "check_code_decision",
    "check_conversation_id",
    "check_reading_keys",
    "check_seal_version",
    "check_wrap_to",
]


def _early(answer: Any) -> Check | None:
    if is_blank(answer):
        return Check(False, BLANK)
    if answer is None:
        return fail("your answer is None: did a function forget to `return` its result?")
    return None


# ----------------------------------------------------------------------------- exercise 1


def check_conversation_id(answer: Any, *, room: Room, neighbour: PublicKeys) -> Check:
    """The canonical id of the pair, as key-change events and signatures carry it: smaller:larger user id."""
    early = _early(answer)
    if early is not None:
        return early
    if isinstance(answer, ConversationId):
        answer = answer.canonical
    if isinstance(answer, (tuple, list)):
        return fail("the answer is one piece of text, 'smaller:larger' (join the two ids with ':')")
    if not isinstance(answer, str):
        return fail(f"the answer should be text (str), got a {type(answer).__name__}")
    me, them = room.user_id, neighbour.user_id
    right = ConversationId.pair(me, them).canonical
    lo, hi = right.split(":")
    if answer == right:
        return passed("the canonical id of your pair: the smaller user id, ':', the larger (the same on both screens)")
    text = answer.strip()
    if text == right:
        return fail("the right ids, with spaces around them: the id has no spaces")
    if text == f"{lo}-{hi}":
        return fail("that is the URL spelling (with '-'): events and signatures carry the ids joined by ':'")
    if text in (f"{hi}:{lo}", f"{hi}-{lo}"):
        return fail("the larger id comes first there: the smaller user id comes first, whoever starts the conversation")
    names = {room.name.casefold(), room.name_of(them).casefold()}
    if {part.strip().casefold() for part in re.split(r"[:\-]", text)} & names:
        return fail("names are for the room only: a conversation id is made of user ids (room.user_id, their_keys.user_id)")
    if text == them:
        return fail("that is your neighbour's user id alone (a URL may take it): the conversation id names both users")
    if text == me:
        return fail("that is your own user id: the conversation id names both of you")
    if text.startswith("g"):
        return fail("a 'g…' id is a group's: a pair's id is made of the two user ids")
    return fail("not yet: join the smaller and the larger of your two user ids with ':'")


# ----------------------------------------------------------------------------- exercise 2


def check_wrap_to(answer: Any, *, room: Room, neighbour: PublicKeys) -> Check:
    """The participants to pass to `kit.prepare_key_init`: your neighbour's newest public keys (you are added)."""
    early = _early(answer)
    if early is not None:
        return early
    if isinstance(answer, (PublicKeys, Identity)):
        return fail("prepare_key_init takes a list of participants: put the keys in a list, [their_keys]")
    if not isinstance(answer, (list, tuple)):
        return fail(f"the answer should be a list of kit.PublicKeys, got a {type(answer).__name__}")
    if not answer:
        return fail("an empty list wraps the key to you alone: your neighbour could not read anything")
    for item in answer:
        if isinstance(item, Identity):
            return fail(
                "that is an Identity (it holds private keys): wrap to public keys, as room.find gives them; "
                "prepare_key_init adds you itself"
            )
        if isinstance(item, str):
            return fail("prepare_key_init takes kit.PublicKeys (from room.find), not names or user ids")
        if not isinstance(item, PublicKeys):
            return fail(f"each participant is a kit.PublicKeys, got a {type(item).__name__}")
    others = [k for k in answer if k.user_id != room.user_id]
    if not others:
        return fail("those are your own keys only: the key would be wrapped to you alone, and your neighbour could not read it")
    strangers = sorted({k.user_id for k in others} - {neighbour.user_id})
    if strangers:
        return fail(f"{strangers} {'is' if len(strangers) == 1 else 'are'} not your neighbour: a 1:1 key goes to the two of you only")
    newest = max((k for k in others), key=lambda k: int(k.version))
    if newest.version != neighbour.version:
        return fail(
            f"key version {newest.version} is older than your neighbour's newest ({neighbour.version}): wrap to the "
            "keys room.find gives now, or they cannot unwrap with the identity key they hold"
        )
    if newest.public_key != neighbour.public_key:
        return fail("those keys carry your neighbour's id but another identity key: wrap to the keys room.find gave you")
    return passed("your neighbour's newest keys; prepare_key_init adds yours, so both of you get a wrapped copy")


# ----------------------------------------------------------------------------- exercise 3


#: What to do with a comparison code your neighbour read out.
CODE_CHOICES = {
    "verify": "the codes are the same: you both see the same four keys, so record it (room.verify)",
    "stop": "the codes differ: someone in between (the room's server, say) gave one of you other keys; do not trust them",
    "pin anyway": "pinning keys whose code differs trusts whoever swapped them: that is what the code is there to catch",
}


def _digits(code: Any) -> str:
    return re.sub(r"[\s\-]", "", code) if isinstance(code, str) else ""


def check_code_decision(answer: Any, *, mine: str, heard: str) -> Check:
    """"verify" when the code heard has the same 60 digits as yours, "stop" when it differs."""
    if is_blank(answer):
        return Check(False, BLANK)
    if not _digits(heard):
        return fail("type the code your neighbour reads out first (heard = '12345 …'), then run this cell again")
    expected = "verify" if _digits(heard) == _digits(mine) else "stop"
    if isinstance(answer, bool):
        return fail('answer with a word, "verify" or "stop", not True/False')
    if not isinstance(answer, str) or answer not in CODE_CHOICES:
        return fail(f"answer with one of {sorted(CODE_CHOICES)}, got {answer!r}")
    if answer == expected:
        return passed(f"{'same code, verify' if expected == 'verify' else 'different code, stop'}: {CODE_CHOICES[answer]}")
    if expected == "verify":
        if answer == "pin anyway":
            return fail('the codes are the same: that is more than a first-contact pin, it is "verify"')
        return fail("the codes are the same, all 60 digits: nobody swapped a key, so verify")
    group = next(i for i, (a, b) in enumerate(zip(_digits(heard).ljust(60), _digits(mine).ljust(60))) if a != b) // 5 + 1
    if answer == "verify":
        return fail(f"the codes differ (from group {group} of 12): verifying would trust keys someone swapped; stop")
    return fail(CODE_CHOICES[answer])


# ----------------------------------------------------------------------------- exercise 4


def check_seal_version(answer: Any, *, room: Room, conversation: ConversationId | str) -> Check:
    """The conversation key version a new message is sealed with: the newest one `room.keyring` adopted."""
    early = _early(answer)
    if early is not None:
        return early
    cid = conversation if isinstance(conversation, ConversationId) else ConversationId.parse(conversation, caller=room.user_id)
    latest = room.keyring.latest(cid.canonical)
    if latest is None:
        return fail("your keyring has no key for this conversation yet: run room.catch_up(conversation) first")
    if isinstance(answer, int) and not isinstance(answer, bool):
        return fail(f"key versions are decimal strings on the wire: str({answer}), not the number")
    if not isinstance(answer, str):
        return fail(f"the answer should be a str of digits, got a {type(answer).__name__}")
    if answer == latest.conversation_key_version:
        return passed("the newest conversation key version your keyring adopted: new messages use the newest key")
    known = list(room.keyring.keys(cid.canonical))
    if answer in known:
        return fail(
            f"{answer} is an older conversation key version: after a rotation, new messages are sealed with the newest "
            "(room.keyring.latest(conversation))"
        )
    if answer == room.identity.version:
        return fail("that is your public key version (which of your keys sign); a message names the conversation key version")
    try:
        theirs = {k.version for uid in cid.members if uid != room.user_id for k in room.client.get_public_keys(uid)}
    except KitError:
        theirs = set()
    if answer in theirs:
        return fail("that is your neighbour's public key version: a message names the conversation key version")
    return fail("not yet: that is no conversation key version of this conversation (room.keyring.latest(conversation))")


# ----------------------------------------------------------------------------- exercise 5


def check_reading_keys(answer: Any, *, messages: Sequence[str], signing_keys: Iterable[PublicKeys]) -> Check:
    """A dict of conversation key version -> key that reads every message in `messages` (older ones too)."""
    early = _early(answer)
    if early is not None:
        return early
    if isinstance(answer, Keyring):
        return fail("that is the keyring itself: read_message takes its dict, ring.keys(conversation)")
    if isinstance(answer, (bytes, bytearray)):
        return fail(
            "one key reads only the messages of its own version: pass the dict of every version, ring.keys(conversation)"
        )
    if not isinstance(answer, dict):
        return fail(f"the answer should be a dict of key version -> key, got a {type(answer).__name__}")
    if any(not isinstance(v, str) for v in answer):
        return fail("the dict's keys are key versions as strings (\"1795…\"), as ring.keys(conversation) gives them")
    keys = list(signing_keys)
    if not messages:
        return fail("there are no messages to read yet: send one (and rotate) first, then run this cell again")
    missing: set[str] = set()
    for event in messages:
        try:
            read_message(event, conversation_key=answer, signing_keys=keys)
        except KeyNotFoundError as exc:
            found = re.search(r"conversation key version (\d+)", str(exc))
            missing.add(found.group(1) if found else "?")
        except KitError:
            return fail("a key in your dict does not open the message of its version: take the keys from the keyring")
    if missing:
        if len(answer) == 1:
            return fail(
                f"only the newest key: {len(missing)} older version(s) missing, so older messages do not read. "
                "A rotation keeps older keys: read every key change into a kit.Keyring and pass ring.keys(conversation)"
            )
        return fail(f"version(s) {sorted(missing)} are missing from your dict: ring.keys(conversation) has every one")
    versions = len(answer)
    return passed(
        f"every message reads ({len(messages)} messages, {versions} key version{'s' if versions != 1 else ''}): "
        "the keyring keeps the older keys a rotation replaced"
    )
