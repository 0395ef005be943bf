"""kit.tables.groups: the roster over time and which key versions each member can open."""

from __future__ import annotations

import pytest

import kit
import kit.tables as T

V1, V2 = "1795545957535", "1795632357535"


@pytest.fixture
def group():
    api = kit.connect(quiet=True)
    people = {}
    for name in ("alice", "bob", "carol", "dave"):
        client = api.sandbox_user(name)
        me = kit.Identity.from_seed(f"{name} (demo only)", client.user_id)
        client.register_keys(me)
        people[name] = (client, me)
    alice_api, alice = people["alice"]
    gid = alice_api.initialize_group()
    keys = {n: me.public_keys for n, (_, me) in people.items()}
    create = kit.prepare_group_create(alice, gid, members=[keys["bob"], keys["carol"]], title="study group", version=V1)
    alice_api.create_group(create)
    add = kit.prepare_members_change(alice, gid, add=[keys["dave"]], current=[keys["bob"], keys["carol"]],
                                     admins=[alice.user_id], title="study group", version=V2)  # fmt: skip
    alice_api.add_group_members(add)
    names = {me.user_id: n for n, (_, me) in people.items()}
    return gid, people, list(keys.values()), names


def test_roster_table_shows_who_joined_when_and_at_which_version(group):
    gid, people, keys, names = group
    dave_api, dave = people["dave"]
    table = T.roster_table(dave_api.get_events(gid), recipient=dave, signing_keys=keys, names=names)
    assert list(table["event"]) == ["created", "members added"]
    assert list(table["joined"]) == ["alice, bob, carol", "dave"]
    assert list(table["members after"]) == ["alice, bob, carol", "alice, bob, carol, dave"]
    assert list(table["key version"]) == [V1, V2]
    assert table["recipient holds the key"][0].startswith("no") and table["recipient holds the key"][1] == "yes"
    read = [kit.read_group_event(g, recipient=dave, signing_keys=keys) for g in dave_api.get_events(gid).group_changes]
    assert list(T.roster_table(read, names=names)["event"]) == ["created", "members added"]
    with pytest.raises(kit.KitError, match="needs recipient"):
        T.roster_table(dave_api.get_events(gid))


def test_key_access_table_shows_dave_cannot_open_the_first_key(group):
    gid, people, keys, names = group
    page = people["bob"][0].get_events(gid)
    table = T.key_access_table(page, members=[me for _, me in people.values()], signing_keys=keys, names=names)
    assert list(table["key version"]) == [V1, V2] and list(table["wrapped to"]) == [3, 4]
    for name in ("alice", "bob", "carol"):
        assert list(table[name]) == ["✓ opens", "✓ opens"]
    assert list(table["dave"]) == ["· not wrapped to them", "✓ opens"]
    stranger = kit.Identity.from_seed("mallory (demo only)", people["bob"][1].user_id)
    row = T.key_access_table(page.key_changes, members=[stranger], signing_keys=keys).iloc[0]
    assert row.iloc[2].startswith("DecryptionError")
