"""Isolation: a token acts only as its user, tokens are unguessable, stored as digests, revocable,
and never show in the server's logs (nor do private keys).
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

import kit
from kit.client import Client, TokenAuth
from kit.sandbox import Sandbox, SandboxTransport
from kit.sandbox.store import token_digest
from sandbox_fixtures import served_sandbox
from tests.reliability_helpers import assert_problem, find_secrets, identity_secrets


class Room:
    """alice, bob, carol and mallory in one in-process sandbox: alice–bob and bob–carol pairs, and a
    group of bob and carol that mallory is not in."""

    def __init__(self, db: str = ":memory:") -> None:
        self.sandbox = Sandbox(db=db)
        root = kit.connect(sandbox=self.sandbox, quiet=True)
        self.accounts = {n: root.create_sandbox_user(f"iso_{n}") for n in ("alice", "bob", "carol", "mallory")}
        self.clients = {n: root.as_user(a) for n, a in self.accounts.items()}
        self.ids = {n: kit.Identity.generate(a.id, version="1") for n, a in self.accounts.items()}
        for n, c in self.clients.items():
            c.register_keys(self.ids[n])
        self.ab = kit.prepare_key_init(self.ids["alice"], [self.ids["bob"].public_keys])
        self.clients["alice"].add_conversation_keys(self.ab)
        self.bc = kit.prepare_key_init(self.ids["bob"], [self.ids["carol"].public_keys])
        self.clients["bob"].add_conversation_keys(self.bc)
        self.gid = self.clients["bob"].initialize_group()
        ginit = kit.prepare_key_init(self.ids["bob"], [self.ids["carol"].public_keys], conversation_id=self.gid)
        self.clients["bob"].create_group(ginit, members=[self.accounts["carol"].id])

    def handle(self, who: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"authorization": f"Bearer {self.accounts[who].access_token}", "content-type": "application/json"}
        return self.sandbox.handle(method, path, [], headers, json.dumps(body).encode() if body is not None else b"")


@pytest.fixture(scope="module")
def room() -> Room:
    return Room()


def _forbidden(reply: Any) -> dict[str, Any]:
    return assert_problem(reply.status, reply.headers, reply.body, expected=403)


def test_a_user_cannot_register_keys_for_someone_else(room: Room) -> None:
    bob_id = room.accounts["bob"].id
    forged = kit.Identity.generate(bob_id, version="2")  # mallory makes keys in bob's name
    problem = _forbidden(room.handle("mallory", "POST", f"/2/users/{bob_id}/public_keys", forged.registration_body()))
    assert problem["type"].endswith("not-authorized-for-resource") and problem["resource_id"] == bob_id
    assert [k.version for k in room.clients["alice"].get_public_keys(bob_id)] == ["1"]  # nothing was added


@pytest.mark.parametrize(
    "path_of", [lambda r: r.bc.path_id, lambda r: r.bc.conversation_id.replace(":", "-")], ids=["path", "hyphen"]
)
def test_a_user_cannot_read_another_pairs_conversation(room: Room, path_of: Any) -> None:
    path = path_of(room)
    for op in ("events", ""):
        url = f"/2/chat/conversations/{path}" + (f"/{op}" if op else "")
        problem = _forbidden(room.handle("mallory", "GET", url))
        assert "not a participant" in problem["detail"]
    # nor write into it, as a message or as a key change
    key, version = room.bc.conversation_key, room.bc.conversation_key_version
    msg = kit.prepare_message(
        room.ids["mallory"], room.ab.conversation_id, "x", conversation_key=key, conversation_key_version=version
    )
    _forbidden(room.handle("mallory", "POST", f"/2/chat/conversations/{path}/messages", msg.body))
    rotation = kit.prepare_key_init(
        room.ids["bob"], [room.ids["carol"].public_keys], conversation_id=room.bc.conversation_id
    )
    _forbidden(room.handle("mallory", "POST", f"/2/chat/conversations/{path}/keys", rotation.body))


def test_a_user_cannot_add_keys_to_a_group_they_are_not_in(room: Room) -> None:
    init = kit.prepare_key_init(
        room.ids["mallory"], [room.ids["bob"].public_keys, room.ids["carol"].public_keys], conversation_id=room.gid
    )
    problem = _forbidden(room.handle("mallory", "POST", f"/2/chat/conversations/{room.gid}/keys", init.body))
    assert "not a member" in problem["detail"]
    _forbidden(room.handle("mallory", "GET", f"/2/chat/conversations/{room.gid}/events"))
    # and cannot take over a group someone else initialized: the same 404 as for a group nobody
    # initialized, so the answer does not tell that alice has a pending group
    gid = room.clients["alice"].initialize_group()
    init = kit.prepare_key_init(room.ids["mallory"], [room.ids["bob"].public_keys], conversation_id=gid)
    body = {**init.body, "conversation_id": gid, "group_members": [room.accounts["bob"].id]}
    taken = room.handle("mallory", "POST", "/2/chat/conversations/group", body)
    problem = assert_problem(taken.status, taken.headers, taken.body, expected=404)
    nobody = room.handle("mallory", "POST", "/2/chat/conversations/group", {**body, "conversation_id": "g7"})
    assert assert_problem(nobody.status, nobody.headers, nobody.body, expected=404)["detail"] == problem["detail"].replace(gid, "g7")


def test_a_token_acts_only_as_its_user(room: Room) -> None:
    """What alice sends is stored as alice's, whatever the body says; her list holds only her conversations."""
    ab = room.ab
    msg = kit.prepare_message(
        room.ids["alice"],
        ab.conversation_id,
        "mine",
        conversation_key=ab.conversation_key,
        conversation_key_version=ab.conversation_key_version,
    )
    encoded = room.clients["alice"].send_message(msg)
    event = kit.thrift.read_message_event(base64.b64decode(encoded))
    assert event.sender_id == room.accounts["alice"].id
    # bob reads it as alice's, and alice's token cannot make it look like bob's
    assert (
        kit.read_message(
            encoded, conversation_key=ab.conversation_key, signing_keys=[room.ids["alice"].public_keys]
        ).text
        == "mine"
    )
    mine = {c["id"] for c in room.clients["mallory"].get_conversations()}
    assert mine == set()
    assert {c["id"] for c in room.clients["alice"].get_conversations()} == {ab.path_id}


def test_tokens_come_from_secrets_and_are_unguessable(monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox = Sandbox()
    root = kit.connect(sandbox=sandbox, quiet=True)
    tokens = [root.create_sandbox_user(f"tok{i}").access_token for i in range(40)]
    assert len(set(tokens)) == len(tokens)
    assert all(len(t) >= 43 for t in tokens)  # 32 random bytes, base64url
    assert len(set("".join(tokens))) > 50  # spread over the alphabet, not a counter
    calls = []
    real = secrets.token_urlsafe

    def spy(n: int | None = None) -> str:
        calls.append(n)
        return real(n)

    monkeypatch.setattr("kit.sandbox.users.secrets.token_urlsafe", spy)
    root.create_sandbox_user("spied")
    assert calls and all(n is not None and n >= 32 for n in calls)


def test_the_database_holds_only_token_digests(tmp_path: Path) -> None:
    db = tmp_path / "room.sqlite"
    room = Room(db=str(db))
    tokens = [a.access_token for a in room.accounts.values()]
    digests = {r[0] for r in room.sandbox.store.read("SELECT token_digest FROM users")}
    assert digests == {token_digest(t) for t in tokens}
    room.sandbox.store.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("room.sqlite"))
    for t in tokens:
        assert t.encode() not in blob
        assert token_digest(t).encode() in blob
    con = sqlite3.connect(db)
    try:
        dump = "\n".join(con.iterdump())
    finally:
        con.close()
    assert not find_secrets(dump, known=tokens)


def test_a_revoked_token_gets_401(tmp_path: Path) -> None:
    db = tmp_path / "room.sqlite"
    room = Room(db=str(db))
    alice = room.clients["alice"]
    assert alice.get_conversations()
    room.sandbox.revoke(room.accounts["alice"].id)
    with pytest.raises(kit.Unauthorized, match="revoked"):
        alice.get_conversations()
    reply = room.handle("alice", "GET", "/2/chat/conversations")
    assert_problem(reply.status, reply.headers, reply.body, expected=401)
    assert room.clients["bob"].get_conversations()  # only alice's token
    room.sandbox.store.close()
    again = Sandbox(db=str(db))  # revocation survives a restart
    client = Client(
        httpx.Client(
            transport=SandboxTransport(again),
            base_url="http://sandbox.invalid",
            auth=TokenAuth(room.accounts["alice"].access_token),
        )
    )
    with pytest.raises(kit.Unauthorized):
        client.get_conversations()
    again.store.close()


def test_the_server_logs_never_hold_a_token_or_a_private_key(tmp_path: Path) -> None:
    """A served room where tokens travel in headers and (wrongly) in query strings and bodies,
    and a careless client posts a private key: none of it reaches the log."""
    log = tmp_path / "server.log"
    with served_sandbox(log, db=str(tmp_path / "room.sqlite"), rate_limit=1000) as served:
        root = kit.connect(base_url=served.url, quiet=True)
        alice_acc, bob_acc = root.create_sandbox_user("log_alice"), root.create_sandbox_user("log_bob")
        root.close()
        alice = kit.connect(base_url=served.url, token=alice_acc.access_token, user_id=alice_acc.id, quiet=True)
        bob = kit.connect(base_url=served.url, token=bob_acc.access_token, user_id=bob_acc.id, quiet=True)
        ia, ib = kit.Identity.generate(alice_acc.id, version="1"), kit.Identity.generate(bob_acc.id, version="1")
        alice.register_keys(ia)
        bob.register_keys(ib)
        init = kit.prepare_key_init(ia, [ib.public_keys])
        alice.add_conversation_keys(init)
        msg = kit.prepare_message(
            ia,
            init.conversation_id,
            "hi",
            conversation_key=init.conversation_key,
            conversation_key_version=init.conversation_key_version,
        )
        alice.send_message(msg)
        kit.read_key_change(bob.get_events(init.path_id).key_changes[0], recipient=ib, signing_keys=[ia.public_keys])
        tok = alice_acc.access_token
        blob_hex = ia.export_keys().hex()
        with httpx.Client(base_url=served.url, timeout=10) as raw:
            for params in ({"access_token": tok}, {"token": tok}, {"max_results": tok}, {"pagination_token": tok}):
                r = raw.get("/2/chat/conversations", params=params, headers={"authorization": f"Bearer {tok}"})
                assert r.status_code == 400
                if "token" in str(params.keys()) and "pagination_token" not in params:
                    assert tok not in r.text  # a credential in the wrong place is not echoed back
            r = raw.get("/2/chat/conversations", headers={"authorization": f"Bearer {tok}x"})  # a near miss
            assert r.status_code == 401 and tok not in r.text
            r = raw.post(
                f"/2/users/{alice_acc.id}/public_keys",
                headers={"authorization": f"Bearer {tok}"},
                json={"version": "9", "private_key": blob_hex, "access_token": tok},
            )
            assert r.status_code == 400
            r = raw.post("/sandbox/users", json={"username": "x" * 40, "access_token": tok, "private": blob_hex})
            assert r.status_code == 400
        for c in (alice, bob):
            c.close()
    text = log.read_text("utf-8", errors="replace")
    assert "POST /2/chat/conversations/" in text  # the access log was captured
    known = [
        alice_acc.access_token,
        bob_acc.access_token,
        *identity_secrets(ia),
        *identity_secrets(ib),
        init.conversation_key.hex(),
        base64.b64encode(init.conversation_key).decode(),
    ]
    assert not find_secrets(text, known=known), find_secrets(text, known=known)
    assert "?" not in "".join(line for line in text.splitlines() if '"GET /2/chat/conversations' in line)
