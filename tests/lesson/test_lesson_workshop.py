"""kit.lesson.workshop: each check passes the right answer and names each mistake (07 · Workshop)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import kit
from kit.lesson import workshop


@dataclass
class Pair:
    ada: kit.Room
    grace: kit.Room
    theirs: kit.PublicKeys  # grace's keys as ada found them
    cid: kit.ConversationId


@pytest.fixture
def pair() -> Iterator[Pair]:
    ada = kit.join(None, name="ada", quiet=True)
    grace = kit.join(None, name="grace", sandbox=ada.client.sandbox, quiet=True)
    theirs = ada.find("grace")
    yield Pair(ada, grace, theirs, ada.conversation_with(theirs))
    ada.close()
    grace.close()


def _says(check: kit.lesson.Check, said: str) -> None:
    assert not check and check.message.startswith("✗") and said in check.message, check.message


# ----------------------------------------------------------------------------- 1 · the conversation id


def test_conversation_id_right(pair: Pair) -> None:
    lo, hi = sorted([pair.ada.user_id, pair.theirs.user_id], key=int)
    assert workshop.check_conversation_id(f"{lo}:{hi}", room=pair.ada, neighbour=pair.theirs)
    assert workshop.check_conversation_id(pair.cid, room=pair.ada, neighbour=pair.theirs)


def test_conversation_id_mistakes(pair: Pair) -> None:
    lo, hi = sorted([pair.ada.user_id, pair.theirs.user_id], key=int)
    for wrong, said in [
        (f"{lo}-{hi}", "URL spelling"),
        (f"{hi}:{lo}", "smaller user id comes first"),
        (f"{hi}-{lo}", "smaller user id comes first"),
        ("ada:grace", "names are for the room only"),
        ("Grace-ADA", "names are for the room only"),
        (pair.theirs.user_id, "neighbour's user id alone"),
        (pair.ada.user_id, "your own user id"),
        (f" {lo}:{hi} ", "spaces"),
        ("g123", "group's"),
        ((lo, hi), "one piece of text"),
        (int(lo), "should be text"),
        ("1:2", "not yet"),
        (None, "return"),
        (..., "fill in the blank"),
    ]:
        _says(workshop.check_conversation_id(wrong, room=pair.ada, neighbour=pair.theirs), said)


# ----------------------------------------------------------------------------- 2 · who to wrap to


def test_wrap_to_right(pair: Pair) -> None:
    assert workshop.check_wrap_to([pair.theirs], room=pair.ada, neighbour=pair.theirs)
    assert workshop.check_wrap_to([pair.theirs, pair.ada.identity.public_keys], room=pair.ada, neighbour=pair.theirs)


def test_wrap_to_mistakes(pair: Pair) -> None:
    stranger = kit.join(None, name="mallory", sandbox=pair.ada.client.sandbox, quiet=True)
    impostor = kit.Identity.generate(pair.theirs.user_id, version=pair.theirs.version).public_keys
    for wrong, said in [
        (pair.theirs, "put the keys in a list"),
        ([], "empty list"),
        ([pair.ada.identity], "it holds private keys"),
        ([pair.grace.identity], "it holds private keys"),
        (["grace"], "not names or user ids"),
        ([pair.theirs.user_id], "not names or user ids"),
        ([pair.ada.identity.public_keys], "your own keys only"),
        ([pair.theirs, stranger.identity.public_keys], "not your neighbour"),
        ([impostor], "another identity key"),
        ([1], "each participant is a kit.PublicKeys"),
        ("grace", "list of kit.PublicKeys"),
        (None, "return"),
        (..., "fill in the blank"),
        ([...], "fill in the blank"),
    ]:
        _says(workshop.check_wrap_to(wrong, room=pair.ada, neighbour=pair.theirs), said)
    stranger.close()


def test_wrap_to_an_older_key_version(pair: Pair) -> None:
    old = pair.theirs
    newer = kit.Identity.generate(pair.grace.user_id, version=str(int(old.version) + 1))
    pair.grace.client.register_keys(newer)
    newest = pair.ada.find("grace")
    assert newest.version == newer.version
    _says(workshop.check_wrap_to([old], room=pair.ada, neighbour=newest), "older than your neighbour's newest")


# ----------------------------------------------------------------------------- 3 · the comparison code


def test_code_decision(pair: Pair) -> None:
    mine = pair.ada.comparison_code(pair.theirs)
    heard = pair.grace.comparison_code(pair.grace.find("ada"))
    swapped = kit.comparison_code(pair.theirs, kit.Identity.generate(pair.ada.user_id))
    assert workshop.check_code_decision("verify", mine=mine, heard=heard)
    assert workshop.check_code_decision("verify", mine=mine, heard=heard.replace(" ", "-"))  # typed with dashes
    assert workshop.check_code_decision("stop", mine=mine, heard=swapped)
    for answer, code, said in [
        ("stop", heard, "the codes are the same"),
        ("verify", swapped, "the codes differ (from group"),
        ("pin anyway", swapped, "trusts whoever swapped them"),
        ("pin anyway", heard, "it is \"verify\""),
        ("trust", heard, "answer with one of"),
        (True, heard, "not True/False"),
        ("verify", "", "type the code your neighbour reads out first"),
        (..., heard, "fill in the blank"),
    ]:
        _says(workshop.check_code_decision(answer, mine=mine, heard=code), said)


# ----------------------------------------------------------------------------- 4 · the seal version, 5 · reading keys


@pytest.fixture
def rotated(pair: Pair) -> tuple[Pair, str, str]:
    first = pair.ada.start(pair.theirs)
    pair.ada.send(pair.cid, "before")
    second = pair.ada.start(pair.theirs, version=str(int(first.conversation_key_version) + 1))
    pair.ada.catch_up(pair.cid)
    pair.ada.send(pair.cid, "after")
    return pair, first.conversation_key_version, second.conversation_key_version


def test_seal_version(rotated: tuple[Pair, str, str]) -> None:
    pair, v1, v2 = rotated
    assert workshop.check_seal_version(v2, room=pair.ada, conversation=pair.cid)
    for wrong, said in [
        (v1, "older conversation key version"),
        (int(v2), "decimal strings"),
        (pair.ada.identity.version, "your public key version"),
        (9.5, "str of digits"),
        ("123", "not yet"),
        (None, "return"),
        (..., "fill in the blank"),
    ]:
        _says(workshop.check_seal_version(wrong, room=pair.ada, conversation=pair.cid), said)


def test_seal_version_names_the_neighbours_key_version(pair: Pair) -> None:
    pair.ada.start(pair.theirs)
    pair.ada.catch_up(pair.cid)
    newer = kit.Identity.generate(pair.grace.user_id, version="7")
    pair.grace.client.register_keys(newer)
    _says(workshop.check_seal_version("7", room=pair.ada, conversation=pair.cid), "neighbour's public key version")


def test_seal_version_before_any_key(pair: Pair) -> None:
    _says(workshop.check_seal_version("1", room=pair.ada, conversation=pair.cid), "no key for this conversation yet")


def _reading(pair: Pair) -> tuple[list[str], list[kit.PublicKeys]]:
    page = pair.grace.client.get_events(pair.cid.path)
    signing = [*pair.grace.client.get_public_keys(pair.ada.user_id), *pair.grace.client.get_public_keys(pair.grace.user_id)]
    return page.messages, signing


def test_reading_keys(rotated: tuple[Pair, str, str]) -> None:
    pair, v1, v2 = rotated
    messages, signing = _reading(pair)
    page = pair.grace.client.get_events(pair.cid.path)
    ring = kit.Keyring()
    for event in page.key_changes:
        ring.read(event, recipient=pair.grace.identity, signing_keys=signing)
    right = workshop.check_reading_keys(ring.keys(pair.cid.canonical), messages=messages, signing_keys=signing)
    assert right and "2 messages, 2 key versions" in right.message
    newest = ring.latest(pair.cid.canonical)
    assert newest is not None
    other = bytes(32)
    for wrong, said in [
        ({newest.conversation_key_version: newest.conversation_key}, "only the newest key"),
        ({**ring.keys(pair.cid.canonical), v1: other}, "does not open"),
        ({int(v): k for v, k in ring.keys(pair.cid.canonical).items()}, "as strings"),
        (ring, "the keyring itself"),
        (newest.conversation_key, "one key reads only"),
        ([newest.conversation_key], "should be a dict"),
        (None, "return"),
        (..., "fill in the blank"),
    ]:
        _says(workshop.check_reading_keys(wrong, messages=messages, signing_keys=signing), said)
    _says(workshop.check_reading_keys(ring.keys(pair.cid.canonical), messages=[], signing_keys=signing), "no messages")


def test_the_checks_never_raise_on_odd_answers(rotated: tuple[Pair, str, str]) -> None:
    pair, _, _ = rotated
    messages, signing = _reading(pair)
    odd: list[Any] = [object(), {}, {"x": 1}, b"", 0, -1, "", [None], {None: None}, float("nan")]
    for answer in odd:
        for check in (
            lambda a: workshop.check_conversation_id(a, room=pair.ada, neighbour=pair.theirs),
            lambda a: workshop.check_wrap_to(a, room=pair.ada, neighbour=pair.theirs),
            lambda a: workshop.check_code_decision(a, mine="1" * 60, heard="1" * 60),
            lambda a: workshop.check_seal_version(a, room=pair.ada, conversation=pair.cid),
            lambda a: workshop.check_reading_keys(a, messages=messages, signing_keys=signing),
        ):
            result = check(answer)
            assert not result and result.message.startswith("✗"), (answer, result.message)
