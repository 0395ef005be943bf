"""kit.lesson.groups: the "what can dave read" check passes the right answer and names each mistake."""

from __future__ import annotations

from typing import Any

import pytest

import kit
from kit.lesson import groups

BEFORE, AFTER = "before dave joins", "after dave joins"


@pytest.fixture(scope="module")
def room() -> dict[str, Any]:
    api = kit.connect(quiet=True)
    people = {}
    for name in ("alice", "bob", "carol", "dave"):
        client = api.sandbox_user(name)
        me = kit.Identity.from_seed(f"{name} (demo only)", client.user_id)
        client.register_keys(me)
        people[name] = (client, me)
    alice_api, alice = people["alice"]
    keys = {n: me.public_keys for n, (_, me) in people.items()}
    gid = alice_api.initialize_group()
    create = kit.prepare_group_create(alice, gid, members=[keys["bob"], keys["carol"]], title="study group")
    alice_api.create_group(create)
    alice_api.send_message(kit.prepare_message(alice, gid, BEFORE, conversation_key=create.conversation_key,
                                               conversation_key_version=create.conversation_key_version))  # fmt: skip
    add = kit.prepare_members_change(alice, gid, add=[keys["dave"]], current=[keys["bob"], keys["carol"]],
                                     admins=[alice.user_id], title="study group", version=str(int(create.conversation_key_version) + 1))  # fmt: skip
    alice_api.add_group_members(add)
    alice_api.send_message(kit.prepare_message(alice, gid, AFTER, conversation_key=add.conversation_key,
                                               conversation_key_version=add.conversation_key_version))  # fmt: skip
    page = people["dave"][0].get_events(gid)
    return {"page": page, "people": people, "keys": list(keys.values())}


def check(room: dict[str, Any], answer: Any, who: str = "dave") -> kit.lesson.Check:
    return groups.check_readable(answer, events=room["page"], recipient=room["people"][who][1], signing_keys=room["keys"],
                                 everyone=[BEFORE, AFTER])  # fmt: skip


def test_the_right_answers_pass(room: dict[str, Any]) -> None:
    c = check(room, {AFTER})
    assert c and c.message.startswith("✓") and AFTER in c.message
    assert check(room, [AFTER])  # a list is fine too
    assert check(room, {BEFORE, AFTER}, who="bob")  # an older member reads both


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({BEFORE, AFTER}, "wrapped before they joined"),
        ({BEFORE}, "wrapped before they joined"),
        (set(), "is missing: it was sealed with a key version wrapped to them"),
        (AFTER, "not one string"),
        ({"hello"}, "not a message of this group"),
        ({1}, "a message's text"),
        (3, "set of message texts"),
        (None, "return"),
        (..., "fill in the blank"),
        ({...}, "fill in the blank"),
    ],
)
def test_each_mistake_is_named(room: dict[str, Any], answer: Any, said: str) -> None:
    c = check(room, answer)
    assert not c and said in c.message, c.message


def test_an_older_member_missing_a_text_is_told(room: dict[str, Any]) -> None:
    c = check(room, {AFTER}, who="bob")
    assert not c and repr(BEFORE) in c.message and "is missing" in c.message


def test_readable_texts_is_what_each_member_reads(room: dict[str, Any]) -> None:
    people, page, keys = room["people"], room["page"], room["keys"]
    assert groups.readable_texts(page, recipient=people["dave"][1], signing_keys=keys) == {AFTER}
    assert groups.readable_texts(page, recipient=people["carol"][1], signing_keys=keys) == {BEFORE, AFTER}
