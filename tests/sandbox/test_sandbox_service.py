"""Every sandbox endpoint through both doors with the same test code.

`connect` is parametrized over "inprocess" (`kit.connect()` on the in-process transport) and
"served" (`kit.connect(base_url=...)` over HTTP to `python -m kit sandbox` in a subprocess).
Every answer, success or problem, is checked against the OpenAPI document's response schema
for its operation and status by a response hook (`sandbox_fixtures.AnswerLog`).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import struct
from typing import Any

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    AnswerLog,
    Connect,
    Party,
    answers,
    connect,
    door,
    pair_path,
    party,
    raw_client,
    served,
    username,
)

import kit
from kit import thrift
from kit.encoding import b64

# ----------------------------------------------------------------------------- helpers


def init_pair(a: Party, b: Party, **kw: Any) -> kit.KeyInit:
    return kit.prepare_key_init(a.identity, [b.keys], **kw)


def problem_of(exc: pytest.ExceptionInfo[kit.APIError]) -> dict[str, Any]:
    return exc.value.problem.to_dict()


def expect(status: int, call: Any, *names: str) -> dict[str, Any]:
    """Run `call`, expect an APIError with `status` whose detail names every one of `names`."""
    with pytest.raises(kit.APIError) as exc:
        call()
    assert exc.value.status == status, exc.value.problem
    problem = problem_of(exc)
    for name in names:
        assert name in problem["detail"], (name, problem["detail"])
    return problem


def post_raw(client: kit.Client, path: str, body: Any) -> httpx.Response:
    """POST a JSON body as is (no kit objects) with the client's own auth."""
    return client.http.post(path, json=body)


# ----------------------------------------------------------------------------- users and keys


def test_sandbox_users_have_ids_and_tokens(connect: Connect) -> None:
    root = connect()
    name = username()
    user = root.create_sandbox_user(name)
    assert user.username == name and user.id.isdigit() and len(user.access_token) >= 32
    assert user.access_token not in repr(user)
    fixed = root.create_sandbox_user(username(), user_id="4242424242" + str(len(name)))
    assert fixed.id == "4242424242" + str(len(name))
    expect(409, lambda: root.create_sandbox_user(name), "taken")
    expect(400, lambda: root.create_sandbox_user("no spaces!"), "username")
    expect(400, lambda: root.create_sandbox_user(username(), user_id="12ab"), "$.id")


def test_register_keys_rules(connect: Connect) -> None:
    root = connect()
    alice = party(root)
    bob = party(root, register=False)
    # Idempotent: the same keys under the same version again is fine, and stored once.
    assert alice.client.register_keys(alice.identity) == alice.identity.version
    keys = alice.client.get_public_keys(alice.id)
    assert [k.version for k in keys] == [alice.identity.version]
    assert keys[0].public_key == alice.keys.public_key
    # Someone else's id: 403.
    expect(403, lambda: alice.client.register_keys(kit.Identity.generate(bob.id)), bob.id)
    # Different keys under the same version: 409.
    other = kit.Identity.generate(alice.id, version=alice.identity.version)
    expect(409, lambda: alice.client.register_keys(other), "version")
    # A second, newer version is added; latest_public_keys picks it numerically.
    newer = kit.Identity.generate(alice.id, version=str(int(alice.identity.version) + 5))
    alice.client.register_keys(newer)
    assert [k.version for k in alice.client.get_public_keys(alice.id)] == [newer.version, alice.identity.version]
    assert alice.client.latest_public_keys(alice.id).public_key == newer.public_keys.public_key
    # Nothing registered yet: an empty list, and latest_public_keys says so.
    assert bob.client.get_public_keys(bob.id) == []
    expect(404, lambda: alice.client.latest_public_keys(bob.id), "no public keys")


def test_register_rejects_bad_keys(connect: Connect) -> None:
    root = connect()
    alice = party(root, register=False)
    body = alice.identity.registration_body()
    broken = copy.deepcopy(body)
    broken["public_key"]["identity_public_key_signature"] = alice.identity.registration_body()["public_key"][
        "signing_public_key_signature"
    ]
    r = post_raw(alice.client, f"/2/users/{alice.id}/public_keys", broken)
    assert r.status_code == 400 and "$.public_key" in r.json()["detail"]
    bad_key = copy.deepcopy(body)
    bad_key["public_key"]["public_key"] = b64(b"\x04" + b"\x01" * 64)
    r = post_raw(alice.client, f"/2/users/{alice.id}/public_keys", bad_key)
    assert r.status_code == 400 and "public_key" in r.json()["detail"]
    bad_version = copy.deepcopy(body)
    bad_version["version"] = "v1"
    r = post_raw(alice.client, f"/2/users/{alice.id}/public_keys", bad_version)
    assert r.status_code == 400 and "$.version" in r.json()["detail"]
    assert alice.client.get_public_keys(alice.id) == []


def test_get_keys_single_and_multi(connect: Connect) -> None:
    root = connect()
    alice, bob = party(root), party(root)
    got = bob.client.get_public_keys(alice.id)
    assert len(got) == 1
    assert got[0].user_id == alice.id and got[0].version == alice.identity.version
    assert got[0].signing_public_key == alice.keys.signing_public_key
    got[0].verify_binding()
    unknown = "9" * 19
    result = alice.client.get_users_public_keys([alice.id, bob.id, unknown])
    assert set(result.keys) == {alice.id, bob.id}
    assert result.keys[bob.id][0].public_key == bob.keys.public_key
    assert len(result.errors) == 1  # a partial error is returned, not raised
    err = result.errors[0]
    assert err.kind == "resource-not-found" and unknown in err.detail
    assert err.extra["value"] == unknown
    expect(404, lambda: alice.client.get_public_keys(unknown), unknown)


# ----------------------------------------------------------------------------- 1:1 init


@pytest.mark.parametrize("spelling", ["bare", "min-max", "max-min"])
def test_init_pair_path_spellings(connect: Connect, spelling: str) -> None:
    root = connect()
    alice, bob = party(root), party(root)
    init = init_pair(alice, bob)
    lo, hi = sorted((alice.id, bob.id), key=int)
    path_id = {"bare": bob.id, "min-max": f"{lo}-{hi}", "max-min": f"{hi}-{lo}"}[spelling]
    res = alice.client.add_conversation_keys(init, path_id=path_id)
    assert res.conversation_id == f"{lo}-{hi}"
    assert res.sequence_id.isdigit() and int(res.sequence_id) >= 2070276095283454002
    # Bob, from his side (bare id of alice), reads the key change and gets the same key.
    page = bob.client.get_events(alice.id)
    assert page.messages == [] and len(page.key_changes) == 1
    kc = kit.read_key_change(page.key_changes[0], recipient=bob.identity, signing_keys=[alice.keys])
    assert kc.conversation_key == init.conversation_key
    assert kc.conversation_id == f"{lo}:{hi}" and kc.sender_id == alice.id
    assert kc.sequence_id == res.sequence_id
    assert page.raw["meta"]["result_count"] == 0


def test_replay_is_answered_as_before_and_stored_once(connect: Connect) -> None:
    root = connect()
    alice, bob = party(root), party(root)
    init = init_pair(alice, bob)
    first = alice.client.add_conversation_keys(init, path_id=bob.id)
    again = alice.client.add_conversation_keys(init)  # same body, other spelling of the id
    assert again == first
    assert len(bob.client.get_events(alice.id).key_changes) == 1
    # The same message_id with a different body is a conflict, not a replay.
    changed = copy.deepcopy(init.body)
    changed["conversation_participant_keys"].reverse()
    changed["action_signatures"][0]["message_event_signature"]["signature_version"] = "6"
    r = post_raw(alice.client, f"/2/chat/conversations/{init.path_id}/keys", changed)
    assert r.status_code == 409 and "message_id" in r.json()["detail"]


def test_rotation_needs_a_newer_version(connect: Connect) -> None:
    root = connect()
    alice, bob = party(root), party(root)
    first = init_pair(alice, bob)
    alice.client.add_conversation_keys(first)
    rotated = init_pair(alice, bob, version=str(int(first.conversation_key_version) + 1000))
    alice.client.add_conversation_keys(rotated)
    # Bob may rotate too (a participant, either side).
    bob_rot = kit.prepare_key_init(bob.identity, [alice.keys], version=str(int(rotated.conversation_key_version) + 1))
    bob.client.add_conversation_keys(bob_rot, path_id=alice.id)
    older = init_pair(alice, bob, version=str(int(first.conversation_key_version) - 1))
    expect(409, lambda: alice.client.add_conversation_keys(older), "not newer", "conversation_key_version")
    equal = init_pair(alice, bob, version=bob_rot.conversation_key_version)
    expect(409, lambda: alice.client.add_conversation_keys(equal), bob_rot.conversation_key_version)
    keys = bob.client.get_events(alice.id).key_changes
    assert len(keys) == 3
    versions = [
        kit.read_key_change(k, recipient=alice.identity, signing_keys=[alice.keys, bob.keys]).conversation_key_version
        for k in keys
    ]
    assert versions == [first.conversation_key_version, rotated.conversation_key_version, bob_rot.conversation_key_version]


# ----------------------------------------------------------------------------- messages and events


def test_messages_events_and_pagination(connect: Connect) -> None:
    root = connect()
    alice, bob = party(root), party(root)
    init = init_pair(alice, bob)
    alice.client.add_conversation_keys(init, path_id=bob.id)
    texts = [f"message {i}, ça va? 🔐" for i in range(7)]
    sent = []
    for i, text in enumerate(texts):
        who, other = (alice, bob) if i % 2 == 0 else (bob, alice)
        pm = kit.prepare_message(
            who.identity,
            other.id,  # bare peer id: the kit signs min:max
            text,
            conversation_key=init.conversation_key,
            conversation_key_version=init.conversation_key_version,
        )
        stored = who.client.send_message(pm)
        m = kit.read_message(stored, conversation_key=init.conversation_key, signing_keys=[who.keys])
        assert m.text == text and m.message_id == pm.message_id
        sent.append(pm.message_id)
    # Replaying a message is answered as before and stored once.
    again = kit.prepare_message(alice.identity, init.path_id, "replayed", conversation_key=init.conversation_key,
                                conversation_key_version=init.conversation_key_version)  # fmt: skip
    assert alice.client.send_message(again) == alice.client.send_message(again)
    sent.append(again.message_id)
    texts.append("replayed")

    pages = list(bob.client.iter_events(alice.id, max_results=3))
    assert [len(p.messages) for p in pages] == [3, 3, 2]
    assert all(p.next_token for p in pages[:-1]) and pages[-1].next_token is None
    for p in pages:  # key changes come with every page, apart from the messages
        assert len(p.key_changes) == 1
        assert p.raw["meta"]["result_count"] == len(p.messages)
        assert p.raw["meta"]["has_more"] is (p is not pages[-1])
    events = [e for p in pages for e in p.messages]
    read = [kit.read_message(e, conversation_key={init.conversation_key_version: init.conversation_key},
                             signing_keys=[alice.keys, bob.keys]) for e in events]  # fmt: skip
    assert [m.message_id for m in read] == list(reversed(sent))  # newest first, each once
    assert [m.text for m in read] == list(reversed(texts))
    seqs = [int(m.sequence_id) for m in read]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == len(seqs)
    assert {m.conversation_id for m in read} == {init.conversation_id}
    # data[] items carry the JSON view of each event too.
    first = pages[0].raw["data"][0]
    assert first["conversation_id"] == init.path_id and first["id"] == read[0].sequence_id
    assert first["sender_id"] == read[0].sender_id
    # One explicit page through get_events with the token the first page gave.
    second = bob.client.get_events(init.path_id, max_results=3, pagination_token=pages[0].next_token)
    assert second.messages == pages[1].messages
    expect(400, lambda: bob.client.get_events(alice.id, pagination_token="not-a-token"), "pagination_token")
    expect(400, lambda: bob.client.get_events(alice.id, max_results=0), "max_results")
    expect(400, lambda: bob.client.get_events(alice.id, max_results=101), "max_results")


def test_send_message_rules(connect: Connect) -> None:
    root = connect()
    alice, bob, carol = party(root), party(root), party(root)
    init = init_pair(alice, bob)
    alice.client.add_conversation_keys(init)

    def prepared(**kw: Any) -> kit.PreparedMessage:
        args = {"conversation_key": init.conversation_key, "conversation_key_version": init.conversation_key_version}
        return kit.prepare_message(alice.identity, init.path_id, "hi", **{**args, **kw})

    path = f"/2/chat/conversations/{init.path_id}/messages"
    # A key version no key change introduced.
    r = post_raw(alice.client, path, prepared(conversation_key_version="12345").body)
    assert r.status_code == 400 and "12345" in r.json()["detail"]
    # Unsigned, garbage MCE, garbage signature.
    body = prepared().body
    r = post_raw(alice.client, path, {k: v for k, v in body.items() if k != "encoded_message_event_signature"})
    assert r.status_code == 400 and "encoded_message_event_signature" in r.json()["detail"]
    r = post_raw(alice.client, path, {**body, "encoded_message_create_event": b64(b"\x0b\x00\x64garbage")})
    assert r.status_code == 400 and "encoded_message_create_event" in r.json()["detail"]
    r = post_raw(alice.client, path, {**body, "encoded_message_event_signature": b64(b"\x00\x01\x02")})
    assert r.status_code == 400 and "encoded_message_event_signature" in r.json()["detail"]
    r = post_raw(alice.client, path, {"message_id": "x"})
    assert r.status_code == 400 and "encoded_message_create_event" in r.json()["detail"]
    # An outsider cannot post into the pair; nobody can post before the keys exist.
    pm = kit.prepare_message(carol.identity, alice.id, "hi", conversation_key=init.conversation_key,
                             conversation_key_version=init.conversation_key_version)  # fmt: skip
    expect(404, lambda: carol.client.send_message(pm), "initialize")
    r = post_raw(carol.client, path, body)
    assert r.status_code == 403 and carol.id in r.json()["detail"]
    assert bob.client.get_events(alice.id).messages == []


def test_conversations_list_and_get(connect: Connect) -> None:
    root = connect()
    alice, bob, carol = party(root), party(root), party(root)
    ab = init_pair(alice, bob)
    alice.client.add_conversation_keys(ab)
    ac = init_pair(alice, carol)
    carol.client.add_conversation_keys(kit.prepare_key_init(carol.identity, [alice.keys]), path_id=alice.id)
    mine = alice.client.get_conversations()
    assert {c["id"] for c in mine} == {ab.path_id, ac.path_id}
    assert all(c["type"] == "OneToOne" for c in mine)
    assert {c["id"] for c in bob.client.get_conversations()} == {ab.path_id}
    conv = bob.client.get_conversation(alice.id)  # bare id, from bob's side
    assert conv["id"] == ab.path_id and sorted(conv["participant_ids"]) == sorted([alice.id, bob.id])
    assert bob.client.get_conversation(ab.conversation_id) == conv  # colon spelling, mapped to the path form
    assert alice.client.get_conversations(max_results=1)[0]["id"] in {ab.path_id, ac.path_id}
    # Paging through the list (the client method returns the first page; request() goes on).
    first = alice.client.request("GET", "/2/chat/conversations", params={"max_results": 1})
    assert first["meta"]["result_count"] == 1 and first["meta"]["has_more"] is True
    rest = alice.client.request("GET", "/2/chat/conversations",
                                params={"max_results": 1, "pagination_token": first["meta"]["next_token"]})  # fmt: skip
    assert rest["meta"]["has_more"] is False and "next_token" not in rest["meta"]
    assert {first["data"][0]["id"], rest["data"][0]["id"]} == {ab.path_id, ac.path_id}
    expect(400, lambda: alice.client.request("GET", "/2/chat/conversations", params={"pagination_token": "!!"}),
           "pagination_token")  # fmt: skip
    expect(403, lambda: carol.client.get_conversation(ab.path_id), carol.id)
    expect(404, lambda: bob.client.get_conversation(carol.id), "initialize")
    expect(400, lambda: alice.client.get_conversation("nope"), "id")


# ----------------------------------------------------------------------------- groups


def test_group_initialize_create_rotate(connect: Connect) -> None:
    root = connect()
    alice, bob, carol, dave = party(root), party(root), party(root), party(root)
    gid = alice.client.initialize_group()
    assert gid.startswith("g") and gid[1:].isdigit()
    init = kit.prepare_key_init(alice.identity, [bob.keys, carol.keys], conversation_id=gid)
    res = alice.client.create_group(init, members=[bob.id, carol.id], name="three")
    assert res.conversation_id == gid and res.sequence_id.isdigit()
    conv = carol.client.get_conversation(gid)
    assert conv["type"] == "Group" and sorted(conv["member_ids"]) == sorted([alice.id, bob.id, carol.id])
    assert conv["admin_ids"] == [alice.id] and conv["group_name"] == "three"
    assert gid in {c["id"] for c in bob.client.get_conversations()}
    # Every member reads the key; the group id is passed through unchanged.
    for member in (bob, carol):
        kc = kit.read_key_change(member.client.get_events(gid).key_changes[0], recipient=member.identity,
                                 signing_keys=[alice.keys])  # fmt: skip
        assert kc.conversation_key == init.conversation_key and kc.conversation_id == gid
    # Rotation through /keys on the g-id, by another member.
    rot = kit.prepare_key_init(bob.identity, [alice.keys, carol.keys], conversation_id=gid,
                               version=str(int(init.conversation_key_version) + 1))  # fmt: skip
    r2 = bob.client.add_conversation_keys(rot)
    assert r2.conversation_id == gid and int(r2.sequence_id) > int(res.sequence_id)
    kcs = carol.client.get_events(gid).key_changes
    assert len(kcs) == 2
    latest = kit.read_key_change(kcs[-1], recipient=carol.identity, signing_keys=[bob.keys])
    assert latest.conversation_key == rot.conversation_key
    # A group message, read by a member.
    pm = kit.prepare_message(carol.identity, gid, "hello group", conversation_key=rot.conversation_key,
                             conversation_key_version=rot.conversation_key_version)  # fmt: skip
    carol.client.send_message(pm)
    m = kit.read_message(alice.client.get_events(gid).messages[0], conversation_key=rot.conversation_key,
                         signing_keys=[carol.keys])  # fmt: skip
    assert m.text == "hello group" and m.conversation_id == gid
    # A non-member: 403 everywhere.
    expect(403, lambda: dave.client.get_events(gid), dave.id, gid)
    expect(403, lambda: dave.client.get_conversation(gid), dave.id)
    outsider = kit.prepare_key_init(dave.identity, [alice.keys], conversation_id=gid,
                                    version=str(int(rot.conversation_key_version) + 1))  # fmt: skip
    expect(403, lambda: dave.client.add_conversation_keys(outsider), dave.id)
    # Rotation that leaves a member out: 400.
    partial = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=gid,
                                   version=str(int(rot.conversation_key_version) + 2))  # fmt: skip
    expect(400, lambda: alice.client.add_conversation_keys(partial), "missing participants", carol.id)
    # A group nobody created.
    expect(404, lambda: alice.client.get_events("g1"), "g1")


def test_group_create_rules(connect: Connect) -> None:
    root = connect()
    alice, bob, carol = party(root), party(root), party(root)
    gid = alice.client.initialize_group()
    init = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=gid)
    # Only the user who initialized the id may create the group (anyone else: the 404 of a group nobody initialized).
    expect(404, lambda: bob.client.create_group(kit.prepare_key_init(bob.identity, [alice.keys], conversation_id=gid),
                                                members=[alice.id]), gid, "not one you initialized")  # fmt: skip
    # Members must exist; admins must be members; the key change must cover the members.
    expect(404, lambda: alice.client.create_group(init, members=[bob.id, "9" * 18]), "9" * 18)
    expect(400, lambda: alice.client.create_group(init, members=[bob.id], admins=[carol.id]), "group_admins")
    expect(400, lambda: alice.client.create_group(init, members=[bob.id, carol.id]), "missing participants")
    alice.client.create_group(init, members=[bob.id])
    expect(409, lambda: alice.client.create_group(init, members=[bob.id]), "already exists")
    other = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id="g7")
    expect(404, lambda: alice.client.create_group(other, members=[bob.id]), "initialize")


# ----------------------------------------------------------------------------- bad input


@pytest.fixture
def pair(connect: Connect) -> tuple[kit.Client, Party, Party, Party]:
    root = connect()
    return root, party(root), party(root), party(root)


def _post_keys(client: kit.Client, path_id: str, body: Any) -> dict[str, Any]:
    r = client.http.post(f"/2/chat/conversations/{path_id}/keys", json=body)
    out = r.json()
    out["_status"] = r.status_code
    return out


def test_auth_problems(pair: tuple[kit.Client, Party, Party, Party]) -> None:
    root, alice, bob, _ = pair
    for http, why in (
        (raw_client(root), "no Authorization"),
        (raw_client(root, "x" * 43), "not one this sandbox issued"),
    ):
        for method, path in (
            ("GET", f"/2/users/{alice.id}/public_keys"),
            ("POST", f"/2/chat/conversations/{bob.id}/keys"),
            ("GET", f"/2/chat/conversations/{bob.id}/events"),
            ("GET", "/2/chat/conversations"),
        ):
            r = http.request(method, path, json={} if method == "POST" else None)
            assert r.status_code == 401, (method, path, r.text)
            assert why in r.json()["detail"]
        http.close()
    basic = raw_client(root)
    r = basic.get(f"/2/users/{alice.id}/public_keys", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401 and "Bearer" in r.json()["detail"]
    basic.close()


@pytest.mark.parametrize(
    "path_id",
    # "%0A" is a newline: Python's `$` matches before it, the document's (ECMA-262) `$` does not.
    ["abc", "g", "g12x", "1-2-3", "12345678901234567890", "1:2", "-1", "1-", "123%0A", "g1%0A", "1-2%0A", "%D9%A3"],
)
def test_bad_path_ids(pair: tuple[kit.Client, Party, Party, Party], path_id: str) -> None:
    _, alice, bob, _ = pair
    body = init_pair(alice, bob).body
    out = _post_keys(alice.client, path_id.replace(":", "%3A"), body)
    assert out["_status"] == 400 and "path parameter id" in out["detail"], out
    r = alice.client.http.get(f"/2/chat/conversations/{path_id}/events")
    assert r.status_code == 400 and "path parameter id" in r.json()["detail"]


def _without(body: dict[str, Any], *path: str | int) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node: Any = out
    for p in path[:-1]:
        node = node[p]
    del node[path[-1]]
    return out


def _with(body: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    out = copy.deepcopy(body)
    node: Any = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


SIG = ("action_signatures", 0, "message_event_signature")


@pytest.mark.parametrize(
    ("mutate", "names"),
    [
        # missing fields
        (lambda b: _without(b, "conversation_key_version"), ["'conversation_key_version' is a required property"]),
        (lambda b: _without(b, "conversation_participant_keys"), ["conversation_participant_keys"]),
        (lambda b: _without(b, "action_signatures"), ["$.action_signatures"]),
        (lambda b: _with(b, [], "action_signatures"), ["$.action_signatures"]),
        (lambda b: _without(b, *SIG, "signature"), ["$.action_signatures[0].message_event_signature", "'signature'"]),
        (lambda b: _without(b, "action_signatures", 0, "message_id"), ["$.action_signatures[0]", "'message_id'"]),
        (lambda b: _without(b, "conversation_participant_keys", 0, "public_key_version"),
         ["$.conversation_participant_keys[0].public_key_version"]),
        # wrong types
        (lambda b: _with(b, 1795545957535, "conversation_key_version"), ["$.conversation_key_version", "string"]),
        (lambda b: _with(b, {"a": 1}, "conversation_participant_keys"), ["$.conversation_participant_keys"]),
        (lambda b: _with(b, 7, *SIG, "signature_version"),
         ["$.action_signatures[0].message_event_signature.signature_version"]),
        (lambda b: [b], ["$", "object"]),
        # bad patterns
        (lambda b: _with(b, "not base64!", "action_signatures", 0, "encoded_message_event_detail"),
         ["$.action_signatures[0].encoded_message_event_detail", "does not match"]),
        (lambda b: _with(b, "v1", *SIG, "public_key_version"),
         ["$.action_signatures[0].message_event_signature.public_key_version", "does not match"]),
        (lambda b: _with(b, "", "action_signatures", 0, "message_id"), ["$.action_signatures[0].message_id"]),
        (lambda b: _with(b, "17x", "conversation_key_version"), ["$.conversation_key_version"]),
        # garbage base64 and garbage Thrift in the detail
        (lambda b: _with(b, "A===", "action_signatures", 0, "encoded_message_event_detail"),
         ["$.action_signatures[0].encoded_message_event_detail"]),
        (lambda b: _with(b, "abcde", "action_signatures", 0, "encoded_message_event_detail"),
         ["$.action_signatures[0].encoded_message_event_detail"]),
        (lambda b: _with(b, b64(b"\xff\x00\x03garbage"), "action_signatures", 0, "encoded_message_event_detail"),
         ["$.action_signatures[0].encoded_message_event_detail"]),
        (lambda b: _with(b, b64(base64.b64decode(b["action_signatures"][0]["encoded_message_event_detail"])[:-7]),
                         "action_signatures", 0, "encoded_message_event_detail"),
         ["$.action_signatures[0].encoded_message_event_detail"]),
        (lambda b: _with(b, b64(base64.b64decode(b["action_signatures"][0]["encoded_message_event_detail"]) + b"\x00"),
                         "action_signatures", 0, "encoded_message_event_detail"),
         ["$.action_signatures[0].encoded_message_event_detail"]),
        # a key version in the body that the detail does not carry
        (lambda b: _with(b, str(int(b["conversation_key_version"]) + 1), "conversation_key_version"),
         ["conversation_key_version"]),
        # signature fields
        (lambda b: _with(b, "1", *SIG, "signature_version"), ["signature_version", "'1'"]),
        (lambda b: _with(b, "7\n", *SIG, "signature_version"), ["signature_version", "does not match"]),
        (lambda b: _with(b, "0" * 4000, *SIG, "signature_version"), ["signature_version", "not supported"]),
        (lambda b: _with(b, "0" * 5000, *SIG, "signature_version"), ["signature_version", "at most 4096"]),
        (lambda b: _with(b, "1\n", *SIG, "public_key_version"), ["public_key_version", "does not match"]),
        (lambda b: _with(b, "99", *SIG, "signature_version"), ["signature_version", "'99'"]),
        (lambda b: _with(b, "AAAA", *SIG, "signature"), ["$.action_signatures[0].message_event_signature.signature"]),
        (lambda b: _with(b, "424242", *SIG, "public_key_version"),
         ["$.action_signatures[0].message_event_signature.public_key_version", "'424242'", "not a registered"]),
        # participants that differ from the detail
        (lambda b: _with(b, list(reversed(b["conversation_participant_keys"]))[:1], "conversation_participant_keys"),
         ["$.conversation_participant_keys differ"]),
        (lambda b: _with(b, "7", "conversation_participant_keys", 0, "public_key_version"),
         ["$.conversation_participant_keys differ"]),
        (lambda b: _with(b, b["conversation_participant_keys"][1]["encrypted_conversation_key"],
                         "conversation_participant_keys", 0, "encrypted_conversation_key"),
         ["$.conversation_participant_keys differ"]),
        (lambda b: _with(b, b["conversation_participant_keys"] + b["conversation_participant_keys"][:1],
                         "conversation_participant_keys"), ["$.conversation_participant_keys"]),
    ],
)
def test_bad_key_change_bodies(pair: tuple[kit.Client, Party, Party, Party], mutate: Any, names: list[str]) -> None:
    _, alice, bob, _ = pair
    init = init_pair(alice, bob)
    out = _post_keys(alice.client, bob.id, mutate(init.body))
    assert out["_status"] == 400, out
    for name in names:
        assert name in out["detail"], (name, out["detail"])
    assert out["type"] == "https://api.x.com/2/problems/invalid-request"
    # Nothing was stored: the proper request still goes through, as the first key change.
    alice.client.add_conversation_keys(init, path_id=bob.id)
    assert len(bob.client.get_events(alice.id).key_changes) == 1


def test_non_json_and_wrong_content_type(pair: tuple[kit.Client, Party, Party, Party]) -> None:
    _, alice, bob, _ = pair
    path = f"/2/chat/conversations/{bob.id}/keys"
    for content, ctype, name in (
        (b"{not json", "application/json", "not valid JSON"),
        (b"\xff\xfe\x00", "application/json", "not valid JSON"),
        (b"", "application/json", "request body is required"),

        (b"null", "application/json", "$"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested"),
        (b'{"a":' * 900 + b"1" + b"}" * 900, "application/json", "nested"),
        (json.dumps({**init_pair(alice, bob).body, "x": json.loads("[" * 40 + "]" * 40)}).encode(), "application/json",
         "nested"),
    ):
        r = alice.client.http.post(path, content=content, headers={"content-type": ctype})
        assert r.status_code == 400, (content, r.text)
        assert name in r.json()["detail"], (content, r.json()["detail"])
    # a body that is not sent as application/json is refused before it is read: 415
    r = alice.client.http.post(path, content=b"conversation_key_version=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415 and "application/json" in r.json()["detail"], r.text


def test_detail_that_is_a_message(pair: tuple[kit.Client, Party, Party, Party]) -> None:
    _, alice, bob, _ = pair
    init = init_pair(alice, bob)
    pm = kit.prepare_message(alice.identity, bob.id, "not a key change", conversation_key=init.conversation_key,
                             conversation_key_version=init.conversation_key_version)  # fmt: skip
    message_detail = struct.pack(">bh", 12, 1) + base64.b64decode(pm.body["encoded_message_create_event"]) + b"\x00"
    assert isinstance(thrift.read_detail(message_detail), thrift.MessageCreateEvent)
    body = _with(init.body, b64(message_detail), "action_signatures", 0, "encoded_message_event_detail")
    out = _post_keys(alice.client, bob.id, body)
    assert out["_status"] == 400 and "conversationKeyChangeEvent" in out["detail"], out


def test_conversation_rules(pair: tuple[kit.Client, Party, Party, Party]) -> None:
    root, alice, bob, carol = pair
    # Participants missing a member of the conversation.
    alone = kit.prepare_key_init(alice.identity, [], conversation_id=pair_path(alice, bob))
    expect(400, lambda: alice.client.add_conversation_keys(alone), "missing participants", bob.id)
    # A pair without the caller.
    theirs = init_pair(bob, carol)
    expect(403, lambda: alice.client.add_conversation_keys(theirs), alice.id, "not a participant")
    # Keys wrapped to a third user in a 1:1.
    # (the kit refuses to prepare this, so the body is one made for a group, posted to the pair)
    three = kit.prepare_key_init(alice.identity, [bob.keys, carol.keys], conversation_id="g1")
    out = _post_keys(alice.client, pair_path(alice, bob), three.body)
    assert out["_status"] == 400 and "not participants" in out["detail"] and carol.id in out["detail"], out
    # An unregistered key version of a participant.
    stale = dataclasses.replace(bob.keys, version="31337")
    expect(400, lambda: alice.client.add_conversation_keys(kit.prepare_key_init(alice.identity, [stale])),
           "$.conversation_participant_keys", "public_key_version", "'31337'", "not a registered key version")  # fmt: skip
    # The caller's own unregistered key version (signer and participant entry alike).
    ghost = kit.Identity.generate(alice.id, version="5")
    expect(400, lambda: alice.client.add_conversation_keys(kit.prepare_key_init(ghost, [bob.keys])), "'5'",
           "not a registered key version")  # fmt: skip
    # Unknown user in a bare id; user without keys.
    expect(404, lambda: alice.client.add_conversation_keys(init_pair(alice, bob), path_id="1234567"), "1234567")
    nokeys = party(root, register=False)
    expect(400, lambda: alice.client.add_conversation_keys(
        kit.prepare_key_init(alice.identity, [kit.Identity.generate(nokeys.id).public_keys])), nokeys.id)  # fmt: skip
    # Events of a conversation that does not exist (both users exist; nobody initialized it).
    expect(404, lambda: alice.client.get_events(carol.id), pair_path(alice, carol))
    expect(404, lambda: alice.client.get_events(pair_path(alice, carol)), pair_path(alice, carol))
    expect(404, lambda: alice.client.get_events("1234567"), "1234567")
    expect(403, lambda: alice.client.get_events(pair_path(bob, carol)), alice.id)
    # A conversation with oneself, in either spelling.
    expect(400, lambda: alice.client.get_events(alice.id), "themself")
    expect(400, lambda: alice.client.add_conversation_keys(init_pair(alice, bob), path_id=f"{alice.id}-{alice.id}"), "themself")
    # Nothing above was stored.
    assert alice.client.get_conversations() == []


def test_replay_by_another_user_is_a_conflict(connect: Connect) -> None:
    """Same body, same message_id, different caller: not a replay (both users signed with key version "1")."""
    root = connect()
    a, b = root.sandbox_user(username()), root.sandbox_user(username())
    assert a.user_id and b.user_id
    ia, ib = kit.Identity.generate(a.user_id, version="1"), kit.Identity.generate(b.user_id, version="1")
    a.register_keys(ia)
    b.register_keys(ib)
    init = kit.prepare_key_init(ia, [ib.public_keys])
    first = a.add_conversation_keys(init)
    expect(409, lambda: b.add_conversation_keys(init), "message_id", init.message_id)
    assert a.add_conversation_keys(init) == first
    assert len(b.get_events(a.user_id).key_changes) == 1


def test_a_group_initialized_but_not_created(connect: Connect) -> None:
    root = connect()
    alice, bob = party(root), party(root)
    gid = alice.client.initialize_group()
    init = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=gid)
    expect(404, lambda: alice.client.add_conversation_keys(init), gid, "not created")
    expect(404, lambda: alice.client.get_events(gid), gid)
    expect(404, lambda: bob.client.get_conversation(gid), gid)
    assert alice.client.get_conversations() == []
    assert alice.client.initialize_group() != gid


def test_unknown_endpoints_and_methods(pair: tuple[kit.Client, Party, Party, Party]) -> None:
    _, alice, bob, _ = pair
    r = alice.client.http.get("/2/nope")
    assert r.status_code == 404 and "/2/nope" in r.json()["detail"]
    r = alice.client.http.delete(f"/2/users/{alice.id}/public_keys")
    assert r.status_code == 405
    r = alice.client.http.get("/sandbox/users")
    assert r.status_code == 405
    r = alice.client.http.get(f"/2/users/{alice.id}/public_keys", params={"bogus": "1"})
    assert r.status_code == 400 and "bogus" in r.json()["detail"]
    r = alice.client.http.get("/2/users/public_keys")
    assert r.status_code == 400 and "ids" in r.json()["detail"]
    r = alice.client.http.get("/2/users/public_keys", params={"ids": "12,abc"})
    assert r.status_code == 400 and "ids" in r.json()["detail"]
    # An endpoint the document has and the sandbox does not implement: a 404 problem, not a 500.
    r = alice.client.http.post(f"/2/chat/conversations/{bob.id}/typing")
    assert r.status_code in (400, 404) and r.headers["content-type"].startswith("application/problem+json")


def test_oversized_body_is_413(connect: Connect, door: str) -> None:
    root = connect()
    alice = party(root, register=False)
    big = {"version": "1", "public_key": {"public_key": "A" * (10 * 1024 * 1024)}}
    r = post_raw(alice.client, f"/2/users/{alice.id}/public_keys", big)
    assert r.status_code == 413, r.text[:200]
    assert "bytes" in r.json()["detail"]


def test_every_answer_was_checked(connect: Connect, answers: AnswerLog) -> None:
    """The hook really runs on both doors (a regression guard for the fixtures themselves)."""
    root = connect()
    alice = party(root)
    alice.client.get_public_keys(alice.id)
    with pytest.raises(kit.NotFound):
        alice.client.get_public_keys("8" * 19)
    statuses = [s for (_, p, s) in answers.seen if p.endswith("/public_keys")]
    assert statuses == [200, 200, 404]
    with pytest.raises(AssertionError, match="Problem schema"):
        from sandbox_fixtures import openapi

        openapi().check("GET", "/2/users/1/public_keys", 404, "application/problem+json",
                        json.dumps({"type": "about:blank", "title": "x", "detail": "y", "status": 404}))  # fmt: skip


def test_key_change_body_checks_need_no_store() -> None:
    """`read_key_change_request` is layer two without the database: the benchmark's reference
    for the sandbox's own validation, and what the sandbox runs before its store-backed checks."""
    from kit.sandbox.key_changes import read_key_change_request

    alice = kit.Identity.from_seed(b"store-free-alice", "1001")
    bob = kit.Identity.from_seed(b"store-free-bob", "1002")
    init = kit.prepare_key_init(alice, [bob.public_keys])
    request = read_key_change_request(init.body)
    assert request.where == "$.action_signatures[0]"
    assert sorted(t[0] for t in request.triples) == ["1001", "1002"]
    assert request.detail.conversation_key_version == init.conversation_key_version

    doubled = json.loads(json.dumps(init.body))
    doubled["conversation_participant_keys"].append(dict(doubled["conversation_participant_keys"][0]))
    with pytest.raises(kit.APIError) as caught:
        read_key_change_request(doubled)
    assert caught.value.status == 400  # the body no longer matches the signed detail
    assert "differ from the participants" in caught.value.problem.detail

    # body and detail agree, but list Bob twice: named as a duplicate
    detail = thrift.KeyChangeDetail(init.conversation_key_version, init.detail.participant_keys * 2)
    doubled["action_signatures"][0]["encoded_message_event_detail"] = b64(detail.encode())
    doubled["conversation_participant_keys"] = doubled["conversation_participant_keys"][:2] * 2
    with pytest.raises(kit.APIError) as caught:
        read_key_change_request(doubled)
    assert "lists user 1001 more than once" in caught.value.problem.detail
