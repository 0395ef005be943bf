"""The workshop room's HTTP contract (docs/room-api.md) through both doors: join by name, the
members list, the health page, and the operator's free-name, reset and status; several members of
each class of bad input, and nothing stored when a request is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    PROBLEM_BASE,
    AnswerLog,
    ServedSandbox,
    answers,
    door,
    raw_client,
    served,
    served_sandbox,
    with_hooks,
)

import kit
from kit.client import SandboxUser
from kit.ids import INT64_MAX
from kit.sandbox import Sandbox

OP_TOKEN = "op_test-operator-token-0123456789"


@dataclass
class Door:
    """One door: an anonymous root client and the operator token."""

    root: kit.Client
    operator_token: str

    def http(self, token: str | None = None) -> httpx.Client:
        return raw_client(self.root, token)

    def operator(self) -> httpx.Client:
        return raw_client(self.root, self.operator_token)

    def join(self, name: Any) -> httpx.Response:
        with self.http() as http:
            return http.post("/sandbox/join", json={"name": name})

    def joined(self, name: str) -> dict[str, str]:
        r = self.join(name)
        assert r.status_code == 201, r.text
        return dict(r.json()["data"])

    def as_member(self, data: dict[str, str]) -> kit.Client:
        return self.root.as_user(SandboxUser(data["id"], "room-" + data["id"], data["access_token"]))

    def health(self) -> dict[str, Any]:
        with self.http() as http:
            r = http.get("/sandbox/health")
        assert r.status_code == 200, r.text
        return dict(r.json())


def _door(root: kit.Client, token: str, answers: AnswerLog) -> Door:
    return Door(with_hooks(root, answers), token)


@pytest.fixture
def room(door: str, request: pytest.FixtureRequest, answers: AnswerLog) -> Iterator[Door]:
    if door == "inprocess":
        d = _door(kit.connect(sandbox=Sandbox(operator_token=OP_TOKEN), quiet=True), OP_TOKEN, answers)
    else:
        server: ServedSandbox = request.getfixturevalue("served")
        d = _door(kit.connect(base_url=server.url, quiet=True), server.operator_token, answers)
    yield d
    d.root.close()


@pytest.fixture
def own_room(door: str, tmp_path: Path, answers: AnswerLog) -> Iterator[Door]:
    """A room of the test's own (a reset would empty the module's shared server)."""
    if door == "inprocess":
        d = _door(kit.connect(sandbox=Sandbox(operator_token=OP_TOKEN), quiet=True), OP_TOKEN, answers)
        yield d
        d.root.close()
        return
    with served_sandbox(tmp_path / "server.log", db=tmp_path / "room.sqlite") as server:
        d = _door(kit.connect(base_url=server.url, quiet=True), server.operator_token, answers)
        yield d
        d.root.close()


def problem(r: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    data = r.json()
    assert data["type"].startswith(PROBLEM_BASE) and data["status"] == status, data
    for word in words:
        assert word in data["detail"], (word, data["detail"])
    return dict(data)


def fresh(prefix: str) -> str:
    import secrets

    return f"{prefix}-{secrets.token_hex(4)}"


# ----------------------------------------------------------------------------- join


def test_join_assigns_an_id_that_fits_the_api_and_an_i64(room: Door) -> None:
    name = fresh("ada")
    data = room.joined(f"  {name}  ")
    assert set(data) == {"id", "name", "access_token"}
    assert re.fullmatch(r"[1-9][0-9]{0,18}", data["id"]) and int(data["id"]) <= INT64_MAX
    assert data["name"] == name  # surrounding spaces stripped
    assert len(data["access_token"]) >= 32
    ada = room.as_member(data)
    identity = kit.Identity.generate(data["id"])
    assert ada.register_keys(identity) == identity.version  # the token acts as the new user


def test_a_taken_name_is_a_409_with_a_free_suggestion_and_nothing_stored(room: Door) -> None:
    name = fresh("Grace")
    room.joined(name)
    before = room.health()["users"]
    for same in (name, name.upper(), name.lower(), f"  {name}\t", name.replace("G", "\uff27")):  # fullwidth G: NFKC
        data = problem(room.join(same), 409, "taken", "pick another")
        assert data["suggestion"] and data["suggestion"] in data["detail"]
    assert room.health()["users"] == before
    suggestion = problem(room.join(name), 409)["suggestion"]
    assert room.joined(suggestion)["name"] == suggestion  # the suggestion is free
    assert problem(room.join(name), 409)["suggestion"] != suggestion  # and the next one is another


def test_a_suggestion_for_a_long_name_still_fits() -> None:
    d = Door(kit.connect(sandbox=Sandbox(), quiet=True), OP_TOKEN)
    name = "x" * 32
    d.joined(name)
    suggestion = problem(d.join(name), 409)["suggestion"]
    assert len(suggestion) <= 32 and d.joined(suggestion)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", ["1 to 32 printable characters", "empty"]),
        ("   ", ["empty"]),
        ("x" * 33, ["33 characters"]),
        ("a\tb", ["not printable", "U+0009"]),
        ("line\nbreak", ["not printable"]),
        ("zero\u200bwidth", ["not printable", "U+200B"]),
        ("bell\x07", ["not printable"]),
        (42, ["must be a string", "int"]),
        (None, ["must be a string"]),
        (["ada"], ["must be a string", "list"]),
        ({"first": "ada"}, ["must be a string"]),
    ],
)
def test_invalid_names_are_400s_naming_the_rule(room: Door, name: Any, words: list[str]) -> None:
    before = room.health()["users"]
    data = problem(room.join(name), 400, *words)
    assert data["parameter"] == "$.name"
    assert room.health()["users"] == before


@pytest.mark.parametrize(
    ("raw", "ctype", "status", "words"),
    [
        (b"", "application/json", 400, ["required"]),
        (b'{"name": "ada"', "application/json", 400, ["not valid JSON"]),
        (b'["ada"]', "application/json", 400, ['{"name": ...}']),
        (b"{}", "application/json", 400, ["$.name is required"]),
        (b'{"name": "ok", "id": "1001"}', "application/json", 400, ["$.id", "only $.name"]),
        (b'{"name": "\\ud800"}', "application/json", 400, ["surrogate"]),
        (b'{"name": "ada"}', "text/plain", 415, ["application/json"]),
        (b'{"name": "' + b"a" * 5000 + b'"}', "application/json", 413, ["joinRoom"]),
    ],
)
def test_bad_join_bodies_are_refused_and_nothing_stored(room: Door, raw: bytes, ctype: str, status: int, words: list[str]) -> None:
    before = room.health()["users"]
    with room.http() as http:
        problem(http.post("/sandbox/join", content=raw, headers={"content-type": ctype}), status, *words)
    assert room.health()["users"] == before


def test_join_and_the_room_routes_refuse_other_methods(room: Door) -> None:
    with room.http() as http:
        for method, path, allowed in (
            ("GET", "/sandbox/join", "POST"),
            ("DELETE", "/sandbox/join", "POST"),
            ("POST", "/sandbox/health", "GET"),
            ("PUT", "/sandbox/room/members", "GET"),
        ):
            r = http.request(method, path)
            problem(r, 405, allowed)
            assert r.headers["allow"] == allowed


def test_joins_count_in_the_per_address_user_creation_limit() -> None:
    sandbox = Sandbox(user_creation_limit=3)
    d = Door(kit.connect(sandbox=sandbox, quiet=True), OP_TOKEN)
    d.root.create_sandbox_user("first")
    d.joined("one")
    d.joined("two")
    r = d.join("three")
    problem(r, 429, "rate limit")
    assert r.headers["x-rate-limit-remaining"] == "0"
    with pytest.raises(kit.RateLimited):
        d.root.create_sandbox_user("second")  # one budget for both ways of making a user
    assert sandbox.store.read("SELECT COUNT(*) FROM users")[0][0] == 3


# ----------------------------------------------------------------------------- members, health


def test_members_lists_names_fingerprints_and_key_versions(room: Door) -> None:
    ada_data, grace_data = room.joined(fresh("ada")), room.joined(fresh("grace"))
    ada = room.as_member(ada_data)
    first = kit.Identity.generate(ada_data["id"])
    ada.register_keys(first)
    second = kit.Identity.generate(ada_data["id"], version=str(int(first.version) + 1))
    ada.register_keys(second)
    with room.http(grace_data["access_token"]) as http:
        everyone = http.get("/sandbox/room/members").json()["data"]
        by_id = {m["id"]: m for m in everyone}
        assert by_id[ada_data["id"]] == {
            "id": ada_data["id"],
            "name": ada_data["name"],
            "fingerprint": second.fingerprint,
            "key_versions": [second.version, first.version],
        }
        assert by_id[grace_data["id"]]["fingerprint"] is None and by_id[grace_data["id"]]["key_versions"] == []
        for spelling in (ada_data["name"].upper(), f"  {ada_data['name']} "):
            r = http.get("/sandbox/room/members", params={"name": spelling})
            assert r.status_code == 200 and [m["id"] for m in r.json()["data"]] == [ada_data["id"]]
        problem(http.get("/sandbox/room/members", params={"name": fresh("nobody")}), 404, "nobody in this room")
        problem(http.get("/sandbox/room/members", params={"name": "x" * 33}), 400, "32 printable")
        problem(http.get("/sandbox/room/members", params={"name": "a\tb"}), 400, "not printable")
        problem(http.get("/sandbox/room/members", params=[("name", "a"), ("name", "b")]), 400, "more than once")
        problem(http.get("/sandbox/room/members", params={"nam": "ada"}), 400, "nam")


def test_members_needs_a_learners_token(room: Door) -> None:
    for token in (None, "not-a-token-" + "x" * 30, room.operator_token):
        with room.http(token) as http:
            problem(http.get("/sandbox/room/members"), 401)


def test_health_needs_no_token_and_counts_users_and_conversations(room: Door) -> None:
    before = room.health()
    assert before["status"] == "ok" and before["version"] == kit.__version__
    a, b = room.joined(fresh("a")), room.joined(fresh("b"))
    alice, bob = room.as_member(a), room.as_member(b)
    ia, ib = kit.Identity.generate(a["id"]), kit.Identity.generate(b["id"])
    alice.register_keys(ia)
    bob.register_keys(ib)
    alice.add_conversation_keys(kit.prepare_key_init(ia, [ib.public_keys]))
    after = room.health()
    assert after["users"] == before["users"] + 2
    assert after["conversations"] == before["conversations"] + 1
    assert set(after) == {"status", "users", "conversations", "version"}


# ----------------------------------------------------------------------------- the operator


def test_free_name_ends_the_old_account_and_the_name_can_be_joined_again(room: Door) -> None:
    name = fresh("lin")
    old = room.joined(name)
    with room.operator() as op:
        r = op.post(f"/sandbox/operator/users/{old['id']}/free-name")
        assert r.status_code == 200 and r.json() == {"data": {"id": old["id"], "name": name, "freed": True}}
        problem(op.post(f"/sandbox/operator/users/{old['id']}/free-name"), 404, "holds no name")
        problem(op.post("/sandbox/operator/users/1234567/free-name"), 404, "no such user")
    with room.http(old["access_token"]) as http:
        problem(http.get("/sandbox/room/members"), 401, "freed your name", "kit.join")
    new = room.joined(name.upper())
    assert new["id"] != old["id"]
    with room.http(new["access_token"]) as http:
        assert [m["id"] for m in http.get("/sandbox/room/members", params={"name": name}).json()["data"]] == [new["id"]]
        assert http.get(f"/2/users/{old['id']}/public_keys").status_code == 200  # the old account keeps its id


def test_revoke_answers_a_401_saying_to_join_again(room: Door) -> None:
    data = room.joined(fresh("rev"))
    with room.operator() as op:
        assert op.post(f"/sandbox/operator/users/{data['id']}/revoke").status_code == 200
    with room.http(data["access_token"]) as http:
        problem(http.get("/sandbox/room/members"), 401, "revoked", "kit.join")
        problem(http.get("/2/chat/conversations"), 401, "revoked", "kit.join")


def test_operator_actions_need_the_operator_token(room: Door) -> None:
    learner = room.joined(fresh("eve"))
    before = room.health()
    for token in (None, learner["access_token"], room.operator_token + "x", "x" * 40):
        with room.http(token) as http:
            problem(http.post(f"/sandbox/operator/users/{learner['id']}/free-name"), 403, "operator token")
            problem(http.post("/sandbox/operator/reset", json={"confirm": "reset"}), 403, "operator token")
            problem(http.get("/sandbox/operator/status"), 403, "operator token")
    assert room.health() == before
    with room.http(learner["access_token"]) as http:
        assert http.get("/sandbox/room/members").status_code == 200  # untouched


def test_reset_needs_its_confirmation(own_room: Door) -> None:
    data = own_room.joined("ada")
    with own_room.operator() as op:
        for body in (None, {}, {"confirm": "yes"}, {"confirm": "RESET"}, {"confirm": True}, ["reset"], "reset"):
            r = op.post("/sandbox/operator/reset", json=body) if body is not None else op.post("/sandbox/operator/reset")
            problem(r, 400, '{"confirm": "reset"}')
        problem(op.get("/sandbox/operator/reset"), 405)
    assert own_room.health()["users"] == 1
    with own_room.http(data["access_token"]) as http:
        assert http.get("/sandbox/room/members").status_code == 200


def test_reset_empties_the_room_and_old_tokens_say_so(own_room: Door) -> None:
    a, b = own_room.joined("ada"), own_room.joined("grace")
    alice, bob = own_room.as_member(a), own_room.as_member(b)
    ia, ib = kit.Identity.generate(a["id"]), kit.Identity.generate(b["id"])
    alice.register_keys(ia)
    bob.register_keys(ib)
    alice.add_conversation_keys(kit.prepare_key_init(ia, [ib.public_keys]))
    with own_room.operator() as op:
        status = op.get("/sandbox/operator/status").json()["data"]
        assert status["users"] == 2 and status["conversations"] == 1 and len(status["members"]) == 2
        r = op.post("/sandbox/operator/reset", json={"confirm": "reset"})
        assert r.status_code == 200 and r.json() == {"data": {"reset": True}}
        assert op.get("/sandbox/operator/status").json()["data"] == {"operator": True, "users": 0, "conversations": 0, "members": []}
    health = own_room.health()
    assert (health["users"], health["conversations"]) == (0, 0)
    for data in (a, b):
        with own_room.http(data["access_token"]) as http:
            problem(http.get("/sandbox/room/members"), 401, "reset the room", "kit.join")
    again = own_room.joined("ADA")  # every name is free again
    assert again["id"] != a["id"]


def test_operator_status_lists_revoked_members_too(room: Door) -> None:
    data = room.joined(fresh("gone"))
    with room.operator() as op:
        op.post(f"/sandbox/operator/users/{data['id']}/revoke")
        members = {m["id"]: m for m in op.get("/sandbox/operator/status").json()["data"]["members"]}
    assert members[data["id"]]["revoked"] is True
    with room.http(room.joined(fresh("here"))["access_token"]) as http:
        assert data["id"] not in {m["id"] for m in http.get("/sandbox/room/members").json()["data"]}


def test_a_lying_sandbox_lies_in_the_members_list_too() -> None:
    """`Sandbox.lie` (the lesson's lying server) swaps the keys everywhere it serves them, the room's list included."""
    sandbox = Sandbox()
    d = Door(kit.connect(sandbox=sandbox, quiet=True), OP_TOKEN)
    ada = d.joined("ada")
    identity = kit.Identity.generate(ada["id"])
    d.as_member(ada).register_keys(identity)
    mallory = kit.Identity.generate(ada["id"])
    sandbox.lie(swap_keys_of=ada["id"], with_keys=mallory.public_keys)
    with d.http(ada["access_token"]) as http:
        assert http.get("/sandbox/room/members").json()["data"][0]["fingerprint"] == mallory.fingerprint
        sandbox.lie(swap_keys_of=ada["id"], with_keys=None)
        assert http.get("/sandbox/room/members").json()["data"][0]["fingerprint"] == identity.fingerprint


def test_reset_knows_every_table() -> None:
    """A table added to the store is either emptied by a reset or kept on purpose: never forgotten."""
    from kit.sandbox.store import RESET_TABLES, Store

    store = Store(":memory:")
    tables = {row[0] for row in store.read("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    kept = {"ended_tokens"}  # hashes of ended tokens, so an old token can say why it ended
    assert tables == set(RESET_TABLES) | kept, f"tables a reset does not know: {tables - set(RESET_TABLES) - kept}"
    store.close()
