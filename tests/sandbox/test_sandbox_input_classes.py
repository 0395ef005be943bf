"""Issue 12's input classes, through both doors: bodies over their bounds, non-ASCII digits and
lone surrogates, unbounded reads, far-future and zero-padded versions, odd user ids, and the
group-create oracle. Each refusal is a conforming problem naming what is wrong, and nothing is stored.
(A stalled worker, measured on the served sandbox, is `test_sandbox_stall.py`.)
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures)
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
from kit.ids import MAX_VERSION_SKEW_MS
from kit.sandbox import Sandbox
from kit.sandbox.limits import BODY_LIMITS, MAX_MESSAGE_BYTES, MAX_PARTICIPANTS
from tests.reliability_helpers import assert_problem

#: Digits that str.isdigit() takes and the X API does not: superscript, Arabic-Indic, full-width.
ODD_DIGITS = ["²", "١٢٣", "１２３", "1²", "٣"]
SURROGATE = "\ud800"


def problem(r: httpx.Response, status: int, *names: str) -> dict[str, Any]:
    data = assert_problem(r.status_code, r.headers, r.content, expected=status)
    for name in names:
        assert name in data["detail"] or name == data.get("parameter"), (name, data)
    return data


def post_bytes(http: httpx.Client, path: str, raw: bytes) -> httpx.Response:
    return http.post(path, content=raw, headers={"content-type": "application/json"})


def with_surrogate(body: dict[str, Any], *where: str | int) -> bytes:
    """`body` as JSON with a lone surrogate escaped into the string at `where` ("\\ud800" in JSON)."""
    marker = "@@SURROGATE@@"
    copy = json.loads(json.dumps(body))
    node = copy
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = marker + str(node[where[-1]])
    return json.dumps(copy).replace(marker, "\\ud800").encode()


def events_of(client: kit.Client, conversation: str) -> tuple[int, int]:
    page = client.get_events(conversation, max_results=100)
    return len(page.messages), len(page.key_changes)


@pytest.fixture
def pair(connect: Connect) -> tuple[kit.Client, Party, Party, kit.KeyInit]:
    root = connect()
    alice, bob = party(root), party(root)
    init = kit.prepare_key_init(alice.identity, [bob.keys])
    alice.client.add_conversation_keys(init)
    return root, alice, bob, init


# ----------------------------------------------------------------------------- 3: numbers and text


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_non_ascii_digits_are_400_in_every_number(pair: Any, odd: str) -> None:
    root, alice, bob, init = pair
    http = alice.client.http
    path = f"/2/chat/conversations/{init.path_id}"
    problem(http.get(f"{path}/events", params={"pagination_token": odd}), 400, "pagination_token")
    problem(http.get("/2/chat/conversations", params={"pagination_token": odd}), 400, "pagination_token")
    problem(http.get(f"{path}/events", params={"max_results": odd}), 400, "max_results")
    problem(http.get(f"/2/users/{odd}/public_keys"), 400, "id")
    problem(http.get("/2/users/public_keys", params={"ids": f"{bob.id},{odd}"}), 400, "ids")
    problem(http.get(f"/2/chat/conversations/{odd}/events"), 400, "id")
    problem(http.get(f"/2/chat/conversations/{alice.id}-{odd}"), 400, "id")
    problem(root.http.post("/sandbox/users", json={"username": username(), "id": odd}), 400, "$.id")
    rotation = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=init.conversation_id)
    problem(http.post(f"{path}/keys", json={**rotation.body, "conversation_key_version": odd}), 400, "$.conversation_key_version")
    problem(http.post(f"/2/users/{alice.id}/public_keys", json={**alice.identity.registration_body(), "version": odd}), 400, "$.version")
    gid = alice.client.initialize_group()
    ginit = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=gid)
    group = {**ginit.body, "conversation_id": gid, "group_members": [bob.id]}
    problem(http.post("/2/chat/conversations/group", json={**group, "conversation_id": "g" + odd}), 400, "$.conversation_id")
    problem(http.post("/2/chat/conversations/group", json={**group, "group_members": [odd]}), 400, "$.group_members[0]")
    keys = [dict(e) for e in rotation.body["conversation_participant_keys"]]
    keys[0]["user_id"] = odd
    problem(http.post(f"{path}/keys", json={**rotation.body, "conversation_participant_keys": keys}), 400, "user_id")
    # nothing was stored: the same events, the same one key version, no group
    assert events_of(alice.client, init.conversation_id) == (0, 1)
    assert [k.version for k in alice.client.get_public_keys(alice.id)] == [alice.identity.version]
    assert all(c["type"] == "OneToOne" for c in alice.client.get_conversations())


def test_lone_surrogates_are_400_naming_the_field(pair: Any) -> None:
    root, alice, bob, init = pair
    http = alice.client.http
    msg = kit.prepare_message(alice.identity, init.conversation_id, "hi", conversation_key=init.conversation_key,
                              conversation_key_version=init.conversation_key_version)  # fmt: skip
    path = f"/2/chat/conversations/{init.path_id}"
    gid = alice.client.initialize_group()
    ginit = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=gid)
    group = {**ginit.body, "conversation_id": gid, "group_members": [bob.id], "group_name": "g"}
    rotation = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=init.conversation_id)
    reg = alice.identity.registration_body()
    cases = [
        (f"{path}/messages", msg.body, ("message_id",), "$.message_id"),
        (f"{path}/messages", msg.body, ("encoded_message_create_event",), "$.encoded_message_create_event"),
        ("/2/chat/conversations/group", group, ("conversation_id",), "$.conversation_id"),
        ("/2/chat/conversations/group", group, ("group_name",), "$.group_name"),
        ("/2/chat/conversations/group", group, ("group_members", 0), "$.group_members[0]"),
        (f"{path}/keys", rotation.body, ("conversation_key_version",), "$.conversation_key_version"),
        (f"{path}/keys", rotation.body, ("conversation_participant_keys", 0, "user_id"), "$.conversation_participant_keys[0].user_id"),
        (f"{path}/keys", rotation.body, ("action_signatures", 0, "message_id"), "$.action_signatures[0].message_id"),
        (f"/2/users/{alice.id}/public_keys", reg, ("version",), "$.version"),
        (f"/2/users/{alice.id}/public_keys", reg, ("public_key", "public_key"), "$.public_key.public_key"),
    ]  # fmt: skip
    for url, body, where, name in cases:
        data = problem(post_bytes(http, url, with_surrogate(body, *where)), 400, name)
        assert "surrogate" in data["detail"], data
    data = problem(post_bytes(root.http, "/sandbox/users", b'{"username": "x\\ud800"}'), 400, "$.username")
    problem(post_bytes(http, f"{path}/messages", json.dumps(msg.body).replace('"message_id"', '"\\udfff"', 1).encode()), 400, "member name")
    assert events_of(alice.client, init.conversation_id) == (0, 1)
    assert [k.version for k in alice.client.get_public_keys(alice.id)] == [alice.identity.version]


def test_surrogates_in_paths_and_queries_of_every_operation() -> None:
    """Neither door can carry a lone surrogate in a URL (they are percent-decoded with
    replacement), so `Sandbox.handle` itself is asked, for every operation's path and query."""
    sandbox = Sandbox()
    account = kit.connect(sandbox=sandbox, quiet=True).create_sandbox_user("surrogates")
    auth = {"authorization": f"Bearer {account.access_token}", "content-type": "application/json"}
    for op_id in Sandbox.ROUTES:
        from kit.sandbox.schema import spec

        op = spec().by_id[op_id]
        path = op.template.replace("{id}", SURROGATE)
        method = op.method.upper()
        if "{id}" in op.template:
            reply = sandbox.handle(method, path, [], auth, b"{}" if method == "POST" else b"")
            data = assert_problem(reply.status, reply.headers, reply.body, expected=400)
            assert data["parameter"] == "id" and "surrogate" in data["detail"], (op_id, data)
        for name in op.query_params:
            where = op.template.replace("{id}", account.id)
            reply = sandbox.handle(method, where, [(name, "1" + SURROGATE)], auth, b"")
            data = assert_problem(reply.status, reply.headers, reply.body, expected=400)
            assert name in data["detail"] and "surrogate" in data["detail"], (op_id, name, data)
    assert sandbox.store.read("SELECT COUNT(*) FROM events")[0][0] == 0


# ----------------------------------------------------------------------------- 1: bounds before the schema walk


def test_bodies_over_their_operation_limit_are_413(pair: Any) -> None:
    root, alice, bob, init = pair
    http = alice.client.http
    reg = alice.identity.registration_body()
    big = {**reg, "public_key": {**reg["public_key"], "registration_method": "x" * BODY_LIMITS["addUserPublicKey"]}}
    problem(http.post(f"/2/users/{alice.id}/public_keys", json=big), 413, "addUserPublicKey accepts at most 16384")
    problem(http.post("/2/chat/conversations/group/initialize", content=b"{" + b" " * 4096 + b"}",
                      headers={"content-type": "application/json"}), 413, "at most 1024")  # fmt: skip
    four_million = b'{"conversation_id":"g1","group_members":[' + b'"1",' * 2_000_000 + b'"1"]}'
    problem(post_bytes(http, "/2/chat/conversations/group", four_million), 413, "createChatConversation accepts at most")
    assert [k.version for k in alice.client.get_public_keys(alice.id)] == [alice.identity.version]
    assert all(c["type"] == "OneToOne" for c in alice.client.get_conversations())


def test_arrays_strings_and_objects_over_their_bounds_are_400(pair: Any) -> None:
    root, alice, bob, init = pair
    http = alice.client.http
    gid = alice.client.initialize_group()
    ginit = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=gid)
    group = {**ginit.body, "conversation_id": gid, "group_members": [bob.id]}
    many = [str(10**18 + i) for i in range(MAX_PARTICIPANTS + 1)]
    problem(http.post("/2/chat/conversations/group", json={**group, "group_members": many}), 400,
            f"$.group_members has {MAX_PARTICIPANTS + 1} items", f"at most {MAX_PARTICIPANTS}")  # fmt: skip
    problem(http.post("/2/chat/conversations/group", json={**group, "group_name": "n" * 5000}), 400, "$.group_name is 5000 characters")
    problem(http.post("/2/chat/conversations/group", json={**group, "action_signatures": group["action_signatures"] * 17}),
            400, "$.action_signatures has 17 items")  # fmt: skip
    problem(http.post("/2/chat/conversations/group", json={**group, **{f"x{i}": 1 for i in range(70)}}), 400, "members")
    problem(http.get("/2/users/public_keys", params={"ids": ",".join(["1"] * 101)}), 400, "at most 100")
    msg = kit.prepare_message(alice.identity, init.conversation_id, "hi", conversation_key=init.conversation_key,
                              conversation_key_version=init.conversation_key_version)  # fmt: skip
    problem(http.post(f"/2/chat/conversations/{init.path_id}/messages", json={**msg.body, "message_id": "m" * 300}),
            400, "$.message_id is 300 characters")  # fmt: skip
    assert events_of(alice.client, init.conversation_id) == (0, 1)
    assert alice.client.get_conversations() and all(c["type"] == "OneToOne" for c in alice.client.get_conversations())


def test_an_invalid_huge_array_names_its_first_error_quickly() -> None:
    """Under the limits but wrong in every item: one error named, not one per item (jsonschema
    is asked for its first few errors only)."""
    sandbox = Sandbox()
    account = kit.connect(sandbox=sandbox, quiet=True).create_sandbox_user("firsterror")
    body = {"conversation_id": "g1", "conversation_key_version": "1", "conversation_participant_keys": [],
            "group_members": [7] * MAX_PARTICIPANTS}  # fmt: skip
    headers = {"authorization": f"Bearer {account.access_token}", "content-type": "application/json"}
    start = time.perf_counter()
    reply = sandbox.handle("POST", "/2/chat/conversations/group", [], headers, json.dumps(body).encode())
    took = time.perf_counter() - start
    data = assert_problem(reply.status, reply.headers, reply.body, expected=400)
    assert re.match(r"\$\.group_members\[\d\]: 7 is not of type 'string'\Z", data["detail"]), data
    assert took < 2.0, f"{took:.2f} s for one invalid body"  # generous: it is milliseconds


# ----------------------------------------------------------------------------- 4: reads, message size, quota


def test_a_page_reads_one_page_from_the_store() -> None:
    sandbox = Sandbox()
    root = kit.connect(sandbox=sandbox, quiet=True)
    alice, bob = party(root), party(root)
    init = kit.prepare_key_init(alice.identity, [bob.keys])
    alice.client.add_conversation_keys(init)
    for i in range(120):
        alice.client.send_message(kit.prepare_message(alice.identity, init.conversation_id, f"m{i}",
                                  conversation_key=init.conversation_key, conversation_key_version=init.conversation_key_version))  # fmt: skip
    before = sandbox.store.rows_read
    page = bob.client.get_events(init.conversation_id, max_results=1)
    read = sandbox.store.rows_read - before
    assert len(page.messages) == 1 and page.next_token and len(page.key_changes) == 1
    # the page and the one past it, the key change, and a few rows to resolve the caller and conversation
    assert read <= 8, f"max_results=1 read {read} rows of a 121-event conversation"
    seen = [m for p in bob.client.iter_events(init.conversation_id, max_results=7) for m in p.messages]
    texts = [kit.read_message(m, conversation_key={init.conversation_key_version: init.conversation_key},
                              signing_keys=[alice.keys]).text for m in seen]  # fmt: skip
    assert texts == [f"m{i}" for i in reversed(range(120))]


def test_a_message_over_the_size_limit_is_413_and_not_stored(pair: Any) -> None:
    root, alice, bob, init = pair
    text = "x" * (MAX_MESSAGE_BYTES + 1000)
    big = kit.prepare_message(alice.identity, init.conversation_id, text, conversation_key=init.conversation_key,
                              conversation_key_version=init.conversation_key_version)  # fmt: skip
    r = alice.client.http.post(f"/2/chat/conversations/{init.path_id}/messages", json=big.body)
    problem(r, 413, "$.encoded_message_create_event", f"at most {MAX_MESSAGE_BYTES} bytes")
    ok = kit.prepare_message(alice.identity, init.conversation_id, "x" * 60_000, conversation_key=init.conversation_key,
                             conversation_key_version=init.conversation_key_version)  # fmt: skip
    alice.client.send_message(ok)  # 60 kB of text is fine
    assert events_of(alice.client, init.conversation_id) == (1, 1)


def test_the_conversation_quota_is_a_403_and_stores_nothing() -> None:
    sandbox = Sandbox(conversation_quota_bytes=20_000)
    root = kit.connect(sandbox=sandbox, quiet=True)
    alice, bob = party(root), party(root)
    init = kit.prepare_key_init(alice.identity, [bob.keys])
    alice.client.add_conversation_keys(init)

    def message(n: int) -> kit.PreparedMessage:
        return kit.prepare_message(alice.identity, init.conversation_id, "y" * n, conversation_key=init.conversation_key,
                                   conversation_key_version=init.conversation_key_version)  # fmt: skip

    sent = 0
    with pytest.raises(kit.APIError) as err:
        for _ in range(100):
            alice.client.send_message(message(3000))
            sent += 1
    assert err.value.status == 403 and 3 <= sent <= 6
    detail = err.value.problem.detail
    assert "at most 20000 bytes per conversation" in detail and "nothing was stored" in detail
    assert events_of(bob.client, init.conversation_id) == (sent, 1)
    (stored,) = sandbox.store.read("SELECT stored_bytes FROM conversations")[0]
    (actual,) = sandbox.store.read("SELECT SUM(length(encoded)) FROM events")[0]
    assert stored == actual <= 20_000
    # a larger message that does not fit is refused the same way, and stores nothing
    with pytest.raises(kit.APIError, match="per conversation"):
        alice.client.send_message(message(19_000))
    assert events_of(bob.client, init.conversation_id) == (sent, 1)


# ----------------------------------------------------------------------------- 5 and 9: versions


def test_far_future_and_zero_padded_versions_are_400(pair: Any) -> None:
    root, alice, bob, init = pair
    http = alice.client.http
    now = int(time.time() * 1000)
    path = f"/2/chat/conversations/{init.path_id}/keys"
    for future in (str(now + 2 * MAX_VERSION_SKEW_MS), "9" * 18, str(2**63 - 1)):
        ident = kit.Identity.generate(alice.id, version="1")
        body = {**ident.registration_body(), "version": future}
        problem(http.post(f"/2/users/{alice.id}/public_keys", json=body), 400, "$.version", "more than one day in the future")
        rot = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=init.conversation_id)
        problem(http.post(path, json={**rot.body, "conversation_key_version": future}), 400, "$.conversation_key_version")
    for huge in ("9" * 30, "9223372036854775808"):
        rot = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=init.conversation_id)
        problem(http.post(path, json={**rot.body, "conversation_key_version": huge}), 400, "an i64")
    rot = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=init.conversation_id)
    padded = "0" + rot.conversation_key_version
    problem(http.post(path, json={**rot.body, "conversation_key_version": padded}), 400, "no leading zero")
    body = {**alice.identity.registration_body(), "version": "0" + alice.identity.version}
    problem(http.post(f"/2/users/{alice.id}/public_keys", json=body), 400, "no leading zero")
    # no lock-out: an honest rotation still lands, and nothing else was stored
    assert alice.client.add_conversation_keys(rot).sequence_id
    assert events_of(alice.client, init.conversation_id) == (0, 2)
    assert [k.version for k in alice.client.get_public_keys(alice.id)] == [alice.identity.version]


# ----------------------------------------------------------------------------- 6: group create oracle


def test_group_create_tells_nothing_about_other_conversations(connect: Connect) -> None:
    root = connect()
    a, b, mallory = party(root), party(root), party(root)
    a.client.add_conversation_keys(kit.prepare_key_init(a.identity, [b.keys]))
    pending = a.client.initialize_group()
    created = a.client.initialize_group()
    ginit = kit.prepare_key_init(a.identity, [b.keys], conversation_id=created)
    a.client.create_group(ginit, members=[b.id])
    body = {**kit.prepare_key_init(mallory.identity, [b.keys]).body, "group_members": [b.id]}
    http = mallory.client.http
    # not a group id: the same 400 whether the pair has a conversation or not
    with_pair = problem(http.post("/2/chat/conversations/group", json={**body, "conversation_id": f"{a.id}:{b.id}"}), 400, "$.conversation_id")
    no_pair = problem(http.post("/2/chat/conversations/group", json={**body, "conversation_id": f"{mallory.id}:{b.id}"}), 400, "$.conversation_id")
    assert with_pair["detail"].replace(f"{a.id}:{b.id}", "X") == no_pair["detail"].replace(f"{mallory.id}:{b.id}", "X")
    # a group id that is not the caller's own pending group: one 404, whatever it is
    details = set()
    for gid in (pending, created, "g1", "g" + "9" * 19):
        data = problem(http.post("/2/chat/conversations/group", json={**body, "conversation_id": gid}), 404, gid)
        details.add(data["detail"].replace(gid, "G"))
    assert len(details) == 1, details
    assert [c["id"] for c in mallory.client.get_conversations()] == []


# ----------------------------------------------------------------------------- 8: user ids


@pytest.mark.parametrize("odd", [*ODD_DIGITS, "0", "0000000000000000001", "01", "1" * 20, " 1"])
def test_odd_user_ids_are_refused_everywhere(connect: Connect, odd: str) -> None:
    root = connect()
    r = root.http.post("/sandbox/users", json={"username": username(), "id": odd})
    problem(r, 400, "$.id")
    me = party(root)
    http = me.client.http
    problem(http.get(f"/2/users/{odd}/public_keys"), 400, "id")
    problem(http.get("/2/users/public_keys", params={"ids": odd}), 400, "ids")
    other = party(root)
    init = kit.prepare_key_init(me.identity, [other.keys])
    keys = [dict(e) for e in init.body["conversation_participant_keys"]]
    keys[1]["user_id"] = odd
    r = http.post(f"/2/chat/conversations/{init.path_id}/keys", json={**init.body, "conversation_participant_keys": keys})
    problem(r, 400, "$.conversation_participant_keys[1].user_id")
    assert me.client.get_conversations() == []


def test_user_ids_above_i64_are_never_created(connect: Connect) -> None:
    """The SDK stores sender ids as i64: the sandbox creates no user above 2**63 - 1. Such an id is
    still well formed (the API's pattern), so looking one up is the 404 of a user nobody is."""
    root = connect()
    for big in ("9223372036854775808", "9" * 19):
        problem(root.http.post("/sandbox/users", json={"username": username(), "id": big}), 400, "$.id", "an i64")
        me = party(root)
        problem(me.client.http.get(f"/2/users/{big}/public_keys"), 404, big)
    assert root.create_sandbox_user(username(), user_id=str(2**63 - 1 - int(time.time()) % 1000)).id


def test_a_zero_padded_id_is_not_another_user(connect: Connect) -> None:
    root = connect()
    canonical = str(10**17 + int(time.time() * 1000) % 10**12)
    padded = canonical.zfill(19)
    problem(root.http.post("/sandbox/users", json={"username": username(), "id": padded}), 400, "no leading zero")
    user = root.create_sandbox_user(username(), user_id=canonical)  # the refusal stored nothing
    assert user.id == canonical
    me = party(root)
    problem(me.client.http.get(f"/2/users/{padded}/public_keys"), 400, "no leading zero")
    problem(me.client.http.get(f"/2/chat/conversations/{me.id}-{padded}/events"), 400, "no leading zero")


def test_a_far_future_latest_version_stored_before_the_rule_does_not_block_rotations() -> None:
    """A room file from before versions were bounded may hold a latest version of 30 nines:
    it no longer makes every rotation a 409."""
    sandbox = Sandbox()
    root = kit.connect(sandbox=sandbox, quiet=True)
    alice, bob = party(root), party(root)
    init = kit.prepare_key_init(alice.identity, [bob.keys])
    alice.client.add_conversation_keys(init)
    with sandbox.store.transaction() as db:
        db.execute("UPDATE conversations SET latest_key_version = ?", ("9" * 30,))
    rotation = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=init.conversation_id)
    assert alice.client.add_conversation_keys(rotation).sequence_id
    (latest,) = sandbox.store.read("SELECT latest_key_version FROM conversations")[0]
    assert latest == rotation.conversation_key_version
    # and an older version than a real latest is still a 409
    stale = kit.prepare_key_init(alice.identity, [bob.keys], conversation_id=init.conversation_id, version="5")
    with pytest.raises(kit.APIError, match="not newer"):
        alice.client.add_conversation_keys(stale)
