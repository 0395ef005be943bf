"""The sandbox's groups: the signed group create and member add, stored and served, refused when wrong.

In-process and served (the `connect` fixture's two doors; every answer is checked against the
vendored OpenAPI document), then chatxdk as a real client of the served sandbox in both
directions. Every refusal is the right problem and leaves the store as it was.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chat_xdk import Chat
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    AnswerLog,
    Connect,
    Party,
    ServedSandbox,
    answers,
    connect,
    door,
    party,
    served,
    username,
)

import kit
from kit.encoding import b64, from_b64
from kit.thrift_group import GroupCreateDetail


def expect(status: int, call: Any, *names: str) -> dict[str, Any]:
    with pytest.raises(kit.APIError) as exc:
        call()
    assert exc.value.status == status, exc.value.problem
    detail = exc.value.problem.detail or ""
    for name in names:
        assert name in detail, (name, detail)
    return exc.value.problem.to_dict()


class Room:
    """alice (admin), bob and carol in a group made with the signed create; dave and erin outside."""

    def __init__(self, root: kit.Client, *, title: str = "study group") -> None:
        self.alice, self.bob, self.carol, self.dave = (party(root) for _ in range(4))
        self.erin = party(root, register=False)  # has an account, no keys
        self.gid = self.alice.client.initialize_group()
        self.create = kit.prepare_group_create(self.alice.identity, self.gid, members=[self.bob.keys, self.carol.keys], title=title)
        self.created = self.alice.client.create_group(self.create)

    @property
    def keys(self) -> list[kit.PublicKeys]:
        return [p.keys for p in (self.alice, self.bob, self.carol, self.dave)]

    def add(self, who: Party | None = None, *, sender: Party | None = None, **kw: Any) -> kit.MembersChange:
        sender = sender or self.alice
        current = [p.keys for p in (self.alice, self.bob, self.carol) if p is not sender]
        options = {"admins": [self.alice.id], "title": "study group", **kw}
        return kit.prepare_members_change(sender.identity, self.gid, add=[(who or self.dave).keys], current=current, **options)

    def counts(self, client: kit.Client | None = None) -> tuple[int, int, list[str]]:
        page = (client or self.alice.client).get_events(self.gid, max_results=100)
        members = sorted((client or self.alice.client).get_conversation(self.gid)["member_ids"])
        return len(page.key_changes), len(page.group_changes) + len(page.messages), members


def test_a_signed_group_create_is_stored_and_served(connect: Connect) -> None:
    room = Room(connect())
    conv = room.carol.client.get_conversation(room.gid)
    assert conv["group_name"] == "study group" and conv["admin_ids"] == [room.alice.id]
    assert sorted(conv["member_ids"]) == sorted([room.alice.id, room.bob.id, room.carol.id])
    page = room.bob.client.get_events(room.gid)
    assert len(page.key_changes) == 1 and len(page.group_changes) == 1 and page.messages == []
    g = kit.read_group_event(page.group_changes[0], recipient=room.bob.identity, signing_keys=room.keys, key_changes=page.key_changes)
    assert (g.kind, g.members, g.admins, g.title, g.actor_id) == (
        "group_create", (room.alice.id, room.bob.id, room.carol.id), (room.alice.id,), "study group", room.alice.id,
    )  # fmt: skip
    assert g.key_change is not None and g.key_change.conversation_key == room.create.conversation_key
    assert int(g.sequence_id) == int(room.created.sequence_id) + 1  # stored right after its key change


def test_members_are_added_with_a_new_key_and_the_new_member_cannot_read_older_messages(connect: Connect) -> None:
    room = Room(connect())
    c = room.create
    room.alice.client.send_message(kit.prepare_message(room.alice.identity, room.gid, "before dave", conversation_key=c.conversation_key,
                                                       conversation_key_version=c.conversation_key_version))  # fmt: skip
    add = room.add()
    res = room.alice.client.add_group_members(add)
    assert res.conversation_id == room.gid and int(res.sequence_id) > int(room.created.sequence_id)
    assert room.alice.client.add_group_members(add) == res  # the same request again: the same answer, nothing new
    room.alice.client.send_message(kit.prepare_message(room.alice.identity, room.gid, "after dave", conversation_key=add.conversation_key,
                                                       conversation_key_version=add.conversation_key_version))  # fmt: skip
    assert room.counts() == (2, 4, sorted([room.alice.id, room.bob.id, room.carol.id, room.dave.id]))
    page = room.dave.client.get_events(room.gid)  # dave is a member now: he may read the whole history
    groups = [kit.read_group_event(g, recipient=room.dave.identity, signing_keys=room.keys, key_changes=page.key_changes)
              for g in page.group_changes]  # fmt: skip
    assert [g.kind for g in groups] == ["members_add", "group_create"]
    assert groups[0].added == (room.dave.id,) and groups[0].key_change is not None and groups[1].key_change is None
    dave_keys = {groups[0].conversation_key_version: groups[0].key_change.conversation_key}
    after, before = page.messages
    assert kit.read_message(after, conversation_key=dave_keys, signing_keys=room.keys).text == "after dave"
    with pytest.raises(kit.KeyNotFoundError):
        kit.read_message(before, conversation_key=dave_keys, signing_keys=room.keys)
    ring = kit.Keyring()
    for kc in room.bob.client.get_events(room.gid).key_changes:
        ring.read(kc, recipient=room.bob.identity, signing_keys=room.keys)
    assert [kit.read_message(m, conversation_key=ring.keys(room.gid), signing_keys=room.keys).text for m in page.messages] == [
        "after dave", "before dave",
    ]  # fmt: skip


def test_bad_member_adds_are_the_right_problem_and_store_nothing(connect: Connect) -> None:
    room = Room(connect())
    before = room.counts()
    alice = room.alice.client
    # a member add by a non-admin (who even signs himself in as an admin): 403
    lying = room.add(sender=room.bob, admins=[room.bob.id])
    expect(403, lambda: room.bob.client.add_group_members(lying), "not an admin", room.bob.id)
    # a roster in the body that differs from the signed one: 400
    add = room.add()
    other = copy.deepcopy(add.body)
    other["user_ids"] = [room.carol.id]
    expect(400, lambda: _post(alice, room.gid, other), "already a member")
    other["user_ids"] = [room.erin.id]
    expect(400, lambda: _post(alice, room.gid, other), "no registered public keys", room.erin.id)
    # a new member without keys, prepared with keys nobody registered: 400
    erin_keys = kit.Identity.generate(room.erin.id).public_keys
    no_keys = kit.prepare_members_change(room.alice.identity, room.gid, add=[erin_keys], current=[room.bob.keys, room.carol.keys], admins=[room.alice.id])
    expect(400, lambda: alice.add_group_members(no_keys), "no registered public keys", room.erin.id)
    # the signed current roster is not the group's
    stale = kit.prepare_members_change(room.alice.identity, room.gid, add=[room.dave.keys], current=[room.bob.keys], admins=[room.alice.id])
    expect(400, lambda: alice.add_group_members(stale), "the members of")
    # a body that sends the key change alone
    lone = copy.deepcopy(add.body)
    lone["action_signatures"] = lone["action_signatures"][:1]
    expect(400, lambda: _post(alice, room.gid, lone), "no signed member add")
    # the signed add does not verify with alice's key
    forged = copy.deepcopy(add.body)
    forged["action_signatures"][1]["message_event_signature"]["signature"] = add.body["action_signatures"][0]["message_event_signature"]["signature"]
    expect(400, lambda: _post(alice, room.gid, forged), "does not verify")
    # an older key version than the group's latest: 409
    old = room.add(version=str(int(room.create.conversation_key_version) - 1))
    expect(409, lambda: alice.add_group_members(old), "not newer")
    # a user outside the group does not learn it exists in any other way than 403
    outsider = kit.prepare_members_change(room.dave.identity, room.gid, add=[room.carol.keys], current=[room.alice.keys], admins=[room.dave.id])
    expect(403, lambda: room.dave.client.add_group_members(outsider), "not a member")
    assert room.counts() == before


def _post(client: kit.Client, gid: str, body: dict[str, Any]) -> Any:
    r = client.http.post(f"/2/chat/conversations/{gid}/members", json=body)
    if r.is_error:
        problem = kit.Problem.from_dict(r.json())
        raise kit.APIError.from_problem(problem, status=r.status_code)
    return r.json()


def test_a_non_member_cannot_read_the_group(connect: Connect) -> None:
    room = Room(connect())
    expect(403, lambda: room.dave.client.get_events(room.gid), room.dave.id, "not a member")
    expect(403, lambda: room.dave.client.get_conversation(room.gid), room.dave.id)
    room.alice.client.add_group_members(room.add())
    assert len(room.dave.client.get_events(room.gid).group_changes) == 2  # once added, he reads


def test_a_group_create_must_ask_for_what_it_signs(connect: Connect) -> None:
    root = connect()
    alice, bob, carol = party(root), party(root), party(root)

    def fresh(**kw: Any) -> kit.GroupCreate:
        return kit.prepare_group_create(alice.identity, alice.client.initialize_group(), members=[bob.keys, carol.keys], title="t", **kw)

    for field, value, words in (
        ("group_admins", [bob.id], "$.group_admins"),
        ("group_name", "other title", "$.group_name"),
        ("ttl_msec", "5", "$.ttl_msec"),
    ):
        create = fresh()
        body = {**create.body, field: value}
        problem = expect(400, lambda b=body: _post_create(alice.client, b), words)
        assert problem["parameter"] == words
        assert alice.client.get_conversations() == []  # nothing was created
    # the body's members are not the signed roster
    create = fresh()
    expect(400, lambda: _post_create(alice.client, {**create.body, "group_members": [bob.id]}), "$.group_members", "signs")
    # a signed create whose title was changed after signing (body to match): the signature no longer verifies
    create = fresh()
    detail = GroupCreateDetail((alice.id, bob.id, carol.id), (alice.id,), create.conversation_key_version, title="t2")
    body = copy.deepcopy(create.body)
    body["action_signatures"][1]["encoded_message_event_detail"] = b64(detail.encode())
    body["group_name"] = "t2"
    expect(400, lambda: _post_create(alice.client, body), "does not verify")
    assert alice.client.get_conversations() == []
    # the admins are not signed: the same change to them goes through, and nobody can tell
    detail = GroupCreateDetail((alice.id, bob.id, carol.id), (alice.id, bob.id), create.conversation_key_version, title="t")
    body = copy.deepcopy(create.body)
    body["action_signatures"][1]["encoded_message_event_detail"] = b64(detail.encode())
    body["group_admins"] = [alice.id, bob.id]
    _post_create(alice.client, body)
    page = bob.client.get_events(create.conversation_id)
    read = kit.read_group_event(page.group_changes[0], recipient=bob.identity, signing_keys=[alice.keys])
    assert read.admins == (alice.id, bob.id) and "admins" in read.unsigned


def _post_create(client: kit.Client, body: dict[str, Any]) -> Any:
    r = client.http.post("/2/chat/conversations/group", json=body)
    if r.is_error:
        raise kit.APIError.from_problem(kit.Problem.from_dict(r.json()), status=r.status_code)
    return r.json()


# ----------------------------------------------------------------------------- chatxdk as a real client, both ways


def _sdk_register(client: kit.Client) -> Chat:
    chat = Chat()
    reg = chat.generate_keypairs()
    chat.set_identity(client.user_id, reg.version)
    p = reg.public_key
    client.request("POST", f"/2/users/{client.user_id}/public_keys", json={
        "version": reg.version, "generate_version": reg.generate_version,
        "public_key": {"public_key": p.public_key, "signing_public_key": p.signing_public_key,
                       "identity_public_key_signature": p.identity_public_key_signature,
                       "signing_public_key_signature": p.signing_public_key_signature,
                       "public_key_fingerprint": p.public_key_fingerprint, "registration_method": p.registration_method},
    })  # fmt: skip
    return chat


def _api_body(res: dict[str, Any]) -> dict[str, Any]:
    """chatxdk's prepare_* output with the documented renames (SDK name -> API name)."""
    return {
        "conversation_key_version": res["conversation_key_version"],
        "conversation_participant_keys": [
            {"user_id": e["user_id"], "encrypted_conversation_key": e["encrypted_key"], "public_key_version": e["public_key_version"]}
            for e in res["participant_keys"]
        ],
        "action_signatures": [
            {
                "message_id": a["message_id"],
                "encoded_message_event_detail": a["encoded_message_event_detail"],
                "message_event_signature": {k: a[k] for k in ("signature", "public_key_version", "signature_version")},
                **({"signature_payload": a["signature_payload"]} if a.get("signature_payload") else {}),
            }
            for a in res["action_signatures"]
        ],
    }


def _wrap(pk: kit.PublicKeys) -> dict[str, str]:
    return {"user_id": pk.user_id, "public_key": pk.public_key, "key_version": pk.version}


def _signing(pks: list[kit.PublicKeys]) -> list[dict[str, str]]:
    return [{"user_id": p.user_id, "public_key_version": p.version, "public_key": p.signing_public_key,
             "identity_public_key": p.public_key, "identity_public_key_signature": p.identity_public_key_signature} for p in pks]  # fmt: skip


def _batch(client: kit.Client, gid: str) -> list[str]:
    """What a chatxdk app passes to decrypt_events: the key changes, then every event oldest first."""
    page = client.get_events(gid, max_results=100)
    return page.key_changes + [e["encoded_event"] for e in reversed(page.raw["data"])]


@pytest.mark.parametrize("creator", ["chatxdk", "kit"])
def test_chatxdk_and_the_kit_groups_over_http(served: ServedSandbox, creator: str) -> None:
    root = kit.connect(base_url=served.url, quiet=True)
    alice, bob, carol, dave = (root.sandbox_user(username()) for _ in range(4))
    if creator == "chatxdk":
        sdk = {c.user_id: _sdk_register(c) for c in (alice, bob, carol, dave)}
        ids = {c.user_id: None for c in (alice, bob, carol, dave)}
    else:
        ids = {c.user_id: kit.Identity.generate(c.user_id) for c in (alice, bob, carol, dave)}
        for c in (alice, bob, carol, dave):
            c.register_keys(ids[c.user_id])
        sdk = {}
        for c in (bob, carol, dave):  # the readers are chatxdk instances holding the same keys
            chat = Chat()
            chat.import_keys(ids[c.user_id].export_keys(), version=ids[c.user_id].version)
            chat.set_identity(c.user_id, ids[c.user_id].version)
            sdk[c.user_id] = chat
    keys = {u: alice.latest_public_keys(u) for u in ids}
    A, B, C, D = (c.user_id for c in (alice, bob, carol, dave))
    gid = alice.initialize_group()
    if creator == "chatxdk":
        res = sdk[A].prepare_group_create([_wrap(keys[u]) for u in (A, B, C)], gid, [A, B, C], [A], title="study group")
        alice.request("POST", "/2/chat/conversations/group", json={**_api_body(res), "conversation_id": gid, "group_members": [A, B, C],
                                                                   "group_admins": [A], "group_name": "study group"})  # fmt: skip
        k1, v1 = res["conversation_key"], res["conversation_key_version"]
        sp = sdk[A].encrypt_message(gid, "before dave", conversation_key=k1, conversation_key_version=v1)
        alice.request("POST", f"/2/chat/conversations/{gid}/messages", json={"message_id": sp.message_id,
                      "encoded_message_create_event": sp.encrypted_content, "encoded_message_event_signature": sp.encoded_event_signature})  # fmt: skip
        add = sdk[A].prepare_group_members_change([_wrap(keys[u]) for u in (A, B, C, D)], gid, [D], [A, B, C], [A], [], current_title="study group")
        alice.request("POST", f"/2/chat/conversations/{gid}/members", json={**_api_body(add), "user_ids": [D]})
        k2 = add["conversation_key"]
        sp = sdk[A].encrypt_message(gid, "after dave", conversation_key=k2, conversation_key_version=add["conversation_key_version"])
        alice.request("POST", f"/2/chat/conversations/{gid}/messages", json={"message_id": sp.message_id,
                      "encoded_message_create_event": sp.encrypted_content, "encoded_message_event_signature": sp.encoded_event_signature})  # fmt: skip
        # kit members read it all, verified; dave reads only what came after him
        pubs = list(keys.values())
        for member in (bob, dave):
            me = kit.Identity.import_keys(bytes(sdk[member.user_id].export_keys()), user_id=member.user_id, version=keys[member.user_id].version)
            page = member.get_events(gid, max_results=100)
            groups = [kit.read_group_event(g, recipient=me, signing_keys=pubs, key_changes=page.key_changes) for g in page.group_changes]
            assert [g.kind for g in groups] == ["members_add", "group_create"]
            assert groups[1].members == (A, B, C) and groups[1].title == "study group" and groups[0].members == (A, B, C, D)
            ring = kit.Keyring()
            for kc in page.key_changes:
                try:
                    ring.read(kc, recipient=me, signing_keys=pubs)
                except kit.KeyNotFoundError:
                    assert member is dave
            texts = []
            for m in page.messages:
                try:
                    texts.append(kit.read_message(m, conversation_key=ring.keys(gid), signing_keys=pubs).text)
                except kit.KeyNotFoundError:
                    texts.append(None)
            assert texts == (["after dave", "before dave"] if member is bob else ["after dave", None])
            assert ring.keys(gid).get(v1) == (k1 if member is bob else None)
    else:
        me = ids[A]
        create = kit.prepare_group_create(me, gid, members=[keys[B], keys[C]], title="study group")
        alice.create_group(create)
        alice.send_message(kit.prepare_message(me, gid, "before dave", conversation_key=create.conversation_key,
                                               conversation_key_version=create.conversation_key_version))  # fmt: skip
        add = kit.prepare_members_change(me, gid, add=[keys[D]], current=[keys[B], keys[C]], admins=[A], title="study group")
        alice.add_group_members(add)
        alice.send_message(kit.prepare_message(me, gid, "after dave", conversation_key=add.conversation_key,
                                               conversation_key_version=add.conversation_key_version))  # fmt: skip
        signing = _signing(list(keys.values()))
        for member, client in ((B, bob), (D, dave)):
            out = sdk[member].decrypt_events(_batch(client, gid), signing)
            seen = [(m["event"]["type"], m["event"].get("verified"), m["event"].get("change") or m["event"].get("content", {}).get("text"))
                    for m in out["messages"]]  # fmt: skip
            texts = [x for t, _, x in seen if t == "Message"]
            changes = [x for t, _, x in seen if t == "GroupChange"]
            assert all(v is True for _, v, _ in seen)
            assert changes[0] == {"change_type": "Created", "member_ids": [A, B, C], "admin_ids": [A], "title": "study group", "avatar_url": None}
            assert changes[1]["change_type"] == "MembersAdded" and changes[1]["member_ids"] == [D]
            if member == B:
                assert texts == ["before dave", "after dave"] and out["errors"] == {}
            else:
                assert texts == ["after dave"] and any("no matching key found" in e for e in out["errors"].values())
    root.close()


def test_the_sandbox_refuses_a_chatxdk_member_add_by_a_non_admin_and_a_mismatched_roster(served: ServedSandbox) -> None:
    root = kit.connect(base_url=served.url, quiet=True)
    alice, bob, carol, dave = (root.sandbox_user(username()) for _ in range(4))
    sdk = {c.user_id: _sdk_register(c) for c in (alice, bob, carol, dave)}
    keys = {u: alice.latest_public_keys(u) for u in sdk}
    A, B, C, D = sdk
    gid = alice.initialize_group()
    res = sdk[A].prepare_group_create([_wrap(keys[u]) for u in (A, B, C)], gid, [A, B, C], [A])
    alice.request("POST", "/2/chat/conversations/group", json={**_api_body(res), "conversation_id": gid, "group_members": [A, B, C]})
    by_bob = sdk[B].prepare_group_members_change([_wrap(keys[u]) for u in (A, B, C, D)], gid, [D], [A, B, C], [A], [])
    expect(403, lambda: bob.request("POST", f"/2/chat/conversations/{gid}/members", json={**_api_body(by_bob), "user_ids": [D]}), "not an admin")
    add = sdk[A].prepare_group_members_change([_wrap(keys[u]) for u in (A, B, C, D)], gid, [D], [A, B, C], [A], [])
    body = {**_api_body(add), "user_ids": [D]}
    wrong_title = sdk[A].prepare_group_members_change([_wrap(keys[u]) for u in (A, B, C, D)], gid, [D], [A, B], [A], [])
    expect(400, lambda: alice.request("POST", f"/2/chat/conversations/{gid}/members", json={**_api_body(wrong_title), "user_ids": [D]}))
    # the SDK wraps to the keys it is given: leaving dave's key out is refused (he could not read)
    short = sdk[A].prepare_group_members_change([_wrap(keys[u]) for u in (A, B, C)], gid, [D], [A, B, C], [A], [])
    expect(400, lambda: alice.request("POST", f"/2/chat/conversations/{gid}/members", json={**_api_body(short), "user_ids": [D]}), "missing participants")
    assert alice.request("POST", f"/2/chat/conversations/{gid}/members", json=body)["data"]["conversation_id"] == gid
    assert len(alice.get_events(gid).group_changes) == 2
    # the stored member add is the SDK's detail, unchanged
    stored = alice.get_events(gid).group_changes[0]
    from kit.thrift import read_message_event

    assert b64(read_message_event(from_b64(stored, what="e")).detail) == add["action_signatures"][1]["encoded_message_event_detail"]
    root.close()
