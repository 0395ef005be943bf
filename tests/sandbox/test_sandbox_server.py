"""The served sandbox (`python -m kit sandbox`) as a process: body limits, concurrency,
durability across `kill -9`, and what its logs show.

Every test here talks to a real uvicorn process on 127.0.0.1 through `kit.connect(base_url=...)`
or plain httpx; every answer through a kit client is checked against the OpenAPI document.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    AnswerLog,
    ServedSandbox,
    openapi,
    party,
    served,
    username,
    with_hooks,
)

import kit


@pytest.fixture
def root(served: ServedSandbox) -> Iterator[kit.Client]:
    client = with_hooks(kit.connect(base_url=served.url, quiet=True), AnswerLog())
    yield client
    client.close()


# ----------------------------------------------------------------------------- HTTP details


def test_ten_megabytes_is_413_and_the_server_lives_on(served: ServedSandbox, root: kit.Client) -> None:
    alice = party(root)
    blob = b'{"version": "1", "public_key": {"public_key": "' + b"A" * (10 * 1024 * 1024) + b'"}}'
    # With a Content-Length (rejected before reading), and chunked (rejected while reading).
    r = alice.client.http.post(f"/2/users/{alice.id}/public_keys", content=blob, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(blob), 1 << 20):
            yield blob[i : i + (1 << 20)]

    with httpx.Client(base_url=served.url, timeout=30) as raw:
        r2 = raw.post(
            f"/2/users/{alice.id}/public_keys",
            content=chunks(),
            headers={"content-type": "application/json", "authorization": "Bearer x"},
        )
    assert r2.status_code == 413, r2.text[:200]
    openapi().check("POST", f"/2/users/{alice.id}/public_keys", 413, r2.headers["content-type"], r2.text)
    # Still serving.
    assert alice.client.get_public_keys(alice.id)[0].version == alice.identity.version


def test_plain_http_client_sees_problem_json(served: ServedSandbox) -> None:
    """What curl sees: problem+json with the 2.167 type URIs, and no server internals."""
    with httpx.Client(base_url=served.url) as raw:
        r = raw.get("/2/chat/conversations")
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"] == "https://api.x.com/2/problems/not-authorized-for-resource"
        r = raw.post("/sandbox/users", content=b"{oops", headers={"content-type": "application/json"})
        assert r.status_code == 400 and "JSON" in r.json()["detail"]
        r = raw.post("/sandbox/users", json={"username": username()})
        assert r.status_code == 201
        token = r.json()["data"]["access_token"]
        r = raw.get("/2/chat/conversations", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["data"] == []
        openapi().check("GET", "/2/chat/conversations", 200, r.headers["content-type"], r.text)


def test_logs_show_no_tokens_or_queries(served: ServedSandbox, root: kit.Client) -> None:
    user = root.create_sandbox_user(username())
    client = root.as_user(user)
    client.request("GET", "/2/chat/conversations", params={"max_results": 7})
    with pytest.raises(kit.APIError):
        client.request("GET", "/2/users/public_keys", params={"ids": "1,abc"})
    log = served.log.read_text()
    assert "/2/chat/conversations" in log  # the access log is on
    assert user.access_token not in log
    assert "max_results" not in log and "abc" not in log
    assert "Traceback" not in log


# ----------------------------------------------------------------------------- concurrency


def test_concurrent_clients_lose_and_duplicate_nothing(served: ServedSandbox, root: kit.Client) -> None:
    alice_user = root.create_sandbox_user(username())
    bob_user = root.create_sandbox_user(username())
    alice_id = kit.Identity.generate(alice_user.id)
    bob_id = kit.Identity.generate(bob_user.id)
    root.as_user(alice_user).register_keys(alice_id)
    root.as_user(bob_user).register_keys(bob_id)
    init = kit.prepare_key_init(alice_id, [bob_id.public_keys])

    def client_for(user: kit.client.SandboxUser) -> kit.Client:
        c = kit.connect(base_url=served.url, token=user.access_token, user_id=user.id, quiet=True)
        return with_hooks(c, AnswerLog())

    # The same init from 6 clients at once: one event, one sequence id for all.
    answers: list[kit.client.KeysResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def init_once() -> None:
        try:
            with client_for(alice_user) as c:
                res = c.add_conversation_keys(init, path_id=bob_user.id)
            with lock:
                answers.append(res)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=init_once) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(answers) == 6 and len(set(answers)) == 1

    # 8 clients (alternating sides) sending 5 messages each, all at once.
    sent: list[str] = []

    def send_many(user: kit.client.SandboxUser, identity: kit.Identity, peer: str) -> None:
        try:
            with client_for(user) as c:
                for i in range(5):
                    pm = kit.prepare_message(identity, peer, f"{user.username} #{i}", conversation_key=init.conversation_key,
                                             conversation_key_version=init.conversation_key_version)  # fmt: skip
                    c.send_message(pm)
                    with lock:
                        sent.append(pm.message_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=send_many, args=(alice_user, alice_id, bob_user.id) if i % 2 else (bob_user, bob_id, alice_user.id))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len(sent) == 40
    with client_for(bob_user) as bob:
        pages = list(bob.iter_events(alice_user.id, max_results=7))
    events = [e for p in pages for e in p.messages]
    read = [kit.read_message(e, conversation_key=init.conversation_key, signing_keys=[alice_id.public_keys, bob_id.public_keys])
            for e in events]  # fmt: skip
    assert sorted(m.message_id for m in read) == sorted(sent)  # all there, each once
    seqs = [int(m.sequence_id) for m in read]
    assert len(set(seqs)) == 40 and seqs == sorted(seqs, reverse=True)
    assert all(len(p.key_changes) == 1 for p in pages)


# ----------------------------------------------------------------------------- durability


def test_acknowledged_requests_survive_kill9(tmp_path: Path) -> None:
    db = tmp_path / "workshop.sqlite"
    server = ServedSandbox(db=db, log=tmp_path / "server.log").start()
    try:
        root = with_hooks(kit.connect(base_url=server.url, quiet=True), AnswerLog())
        users = [root.create_sandbox_user(username()) for _ in range(3)]
        ids = [kit.Identity.generate(u.id) for u in users]
        for u, i in zip(users, ids):
            root.as_user(u).register_keys(i)
        alice = root.as_user(users[0])
        # Several conversations, each acknowledged; the last answer arrives right before the kill.
        inits = []
        for peer in (ids[1], ids[2]):
            init = kit.prepare_key_init(ids[0], [peer.public_keys])
            inits.append((init, alice.add_conversation_keys(init, path_id=peer.user_id)))
        rotation = kit.prepare_key_init(ids[0], [ids[1].public_keys], version=str(int(inits[0][0].conversation_key_version) + 1))
        rotated = alice.add_conversation_keys(rotation)
        pm = kit.prepare_message(ids[0], users[1].id, "sent before the crash", conversation_key=rotation.conversation_key,
                                 conversation_key_version=rotation.conversation_key_version)  # fmt: skip
        stored_message = alice.send_message(pm)
        root.close()
        alice.close()
        server.kill9()

        server.start()  # same file, new process (and port)

        def as_user(n: int) -> kit.Client:
            c = kit.connect(base_url=server.url, token=users[n].access_token, user_id=users[n].id, quiet=True)
            return with_hooks(c, AnswerLog())

        with as_user(1) as bob, as_user(2) as carol, as_user(0) as alice2:
            page = bob.get_events(users[0].id)
            assert len(page.key_changes) == 2 and page.messages == [stored_message]
            kcs = [kit.read_key_change(k, recipient=ids[1], signing_keys=[ids[0].public_keys]) for k in page.key_changes]
            assert [k.sequence_id for k in kcs] == [inits[0][1].sequence_id, rotated.sequence_id]
            assert kcs[1].conversation_key == rotation.conversation_key
            m = kit.read_message(page.messages[0], conversation_key=rotation.conversation_key, signing_keys=[ids[0].public_keys])
            assert m.text == "sent before the crash"
            ck = carol.get_events(users[0].id).key_changes
            assert len(ck) == 1
            assert kit.read_key_change(ck[0], recipient=ids[2], signing_keys=[ids[0].public_keys]).conversation_key == inits[1][0].conversation_key
            # A replay after the restart is answered as before and still stored once; versions still only go up.
            assert alice2.add_conversation_keys(inits[0][0]) == inits[0][1]
            assert alice2.add_conversation_keys(rotation) == rotated
            assert len(bob.get_events(users[0].id).key_changes) == 2
            with pytest.raises(kit.Conflict):
                alice2.add_conversation_keys(kit.prepare_key_init(ids[0], [ids[1].public_keys], version=rotation.conversation_key_version))
            assert alice2.get_public_keys(users[1].id)[0].public_key == ids[1].public_keys.public_key
            assert {c["id"] for c in alice2.get_conversations()} == {pair_path_of(users[0].id, users[1].id), pair_path_of(users[0].id, users[2].id)}
    finally:
        server.stop()


def pair_path_of(a: str, b: str) -> str:
    lo, hi = sorted((a, b), key=int)
    return f"{lo}-{hi}"


def test_memory_state_is_gone_after_restart(tmp_path: Path) -> None:
    """Without --db the state lives in memory (the banner says so), and a token from before is unknown after."""
    server = ServedSandbox(db=None, log=tmp_path / "server.log").start()
    try:
        with kit.connect(base_url=server.url, quiet=True) as root:
            user = root.create_sandbox_user(username())
        server.stop()
        server.start()
        with kit.connect(base_url=server.url, token=user.access_token, quiet=True) as c, pytest.raises(kit.Unauthorized):
            c.get_conversations()
        assert "memory" in (tmp_path / "server.log").read_text()
    finally:
        server.stop()


def test_one_worker_thread_answers_every_request_and_the_loop_stays_free() -> None:
    """`create_app` hands each request to its own single worker (not the loop, not a pool)."""
    import asyncio

    from kit.sandbox import Sandbox, create_app

    seen: list[str] = []

    class Recording(Sandbox):
        def handle(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(threading.current_thread().name)
            return super().handle(*args, **kwargs)

    app = create_app(Recording())

    async def one(path: str) -> int:
        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []}
        sent: list[dict] = []
        messages = iter([{"type": "http.request", "body": b"", "more_body": False}])

        async def receive() -> dict:
            return next(messages)

        async def send(message: dict) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return int(sent[0]["status"])

    async def main() -> tuple[list[int], str]:
        loop_thread = threading.current_thread().name
        statuses = await asyncio.gather(*(one(f"/2/users/{100 + i}/public_keys") for i in range(20)))
        return list(statuses), loop_thread

    statuses, loop_thread = asyncio.run(main())
    assert statuses == [401] * 20  # no token: every one answered, as a problem
    assert len(seen) == 20
    assert len(set(seen)) == 1 and seen[0].startswith("kit-sandbox")
    assert loop_thread not in seen


# ----------------------------------------------------------------------------- what the log holds (item 10)


def test_the_log_holds_route_templates_and_nothing_token_shaped(tmp_path: Path) -> None:
    """Tokens and codes pasted into paths, queries, headers and bodies, OAuth codes in redirects,
    an operator token in the wrong place: the log names routes by template and holds none of them."""
    import stat
    from urllib.parse import parse_qs, urlparse

    from kit.client import authorize_url

    db = tmp_path / "room.sqlite"
    server = ServedSandbox(db=db, log=tmp_path / "server.log").start()
    try:
        op_token = server.operator_token
        token_file = Path(server.banner["operator_token_file"])
        assert token_file == tmp_path / "room.sqlite.operator-token"
        assert token_file.read_text().strip() == op_token
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        with httpx.Client(base_url=server.url, timeout=30) as raw:
            users = [raw.post("/sandbox/users", json={"username": username()}).json()["data"] for _ in range(2)]
            tok, tok2 = users[0]["access_token"], users[1]["access_token"]
            auth = {"authorization": f"Bearer {tok}"}
            secrets_used = [tok, tok2, op_token]
            for path in (f"/2/chat/conversations/{tok}/events", f"/2/users/{tok2}/public_keys", f"/2/chat/conversations/{tok}-{tok2}",
                         f"/{tok}", f"/sandbox/operator/users/{tok}/revoke", f"/2/chat/conversations/{op_token}/messages"):  # fmt: skip
                raw.get(path, headers=auth)
                raw.post(path, headers=auth, json={"token": tok2, "access_token": tok2})
            raw.get("/2/chat/conversations", params={"access_token": tok, "pagination_token": tok2}, headers=auth)
            raw.get("/2/chat/conversations", headers={"authorization": f"Bearer {tok} {tok2}"})
            raw.get("/2/chat/conversations", headers=[("authorization", f"Bearer {tok}"), ("authorization", f"Bearer {tok2}")])
            raw.get("/2/chat/conversations", headers={"authorization": f"Basic {tok2}", "x-token": tok, "cookie": f"t={tok2}"})
            raw.post("/sandbox/operator/clients", headers={"authorization": f"Bearer {tok}"}, json={"client_id": tok2})
            raw.post(f"/sandbox/operator/users/{users[1]['id']}/revoke", headers={"authorization": f"Bearer {op_token}"})
            url, verifier, _ = authorize_url(authorize_endpoint="/sandbox/oauth2/authorize")
            r = raw.get(url, headers=auth)
            code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
            r = raw.post("/2/oauth2/token", data={"grant_type": "authorization_code", "code": code, "client_id": "xchat-kit-demo",
                                                  "redirect_uri": "http://127.0.0.1:8765/callback", "code_verifier": verifier})  # fmt: skip
            oauth = r.json()
            raw.post("/2/oauth2/token", data={"grant_type": "refresh_token", "refresh_token": oauth["refresh_token"],
                                              "client_id": "xchat-kit-demo"})  # fmt: skip
            raw.get(f"/2/chat/conversations/{oauth['access_token']}", headers={"authorization": f"Bearer {oauth['access_token']}"})
            secrets_used += [code, verifier, oauth["access_token"], oauth["refresh_token"]]
    finally:
        server.stop()
    log = server.log_text()
    banner = [line for line in log.splitlines() if op_token in line]
    assert len(banner) == 1 and banner[0].startswith('{"sandbox"')  # printed once, at start, and nowhere else
    rest = log.replace(banner[0], "")
    for secret in secrets_used:
        assert secret not in rest
        assert secret[:20] not in rest  # not even part of one
    assert "/2/chat/conversations/{id}/events" in rest and "/2/users/{id}/public_keys" in rest
    assert "/sandbox/operator/users/{id}/revoke" in rest and "/sandbox/oauth2/authorize" in rest
    assert "{unmatched path}" in rest
    assert "Traceback" not in rest and "?" not in "".join(line for line in rest.splitlines() if '"GET' in line or '"POST' in line)


def test_scrub_hides_every_shape_of_token() -> None:
    import logging

    from kit.sandbox.logs import Scrub, scrub

    token = "Zq3_x-" * 7
    for line in (f"Bearer {token}", f"authorization: basic {token}", f"access_token={token}&x=1", f'"refresh_token": "{token}"',
                 f"code={token[:12]}", f"/2/chat/conversations/{token}/events", f"op_{token}", f"password: {token[:8]}"):  # fmt: skip
        out = scrub(line)
        assert token[:8] not in out and "<hidden>" in out, (line, out)
    for keep in ("GET /2/chat/conversations/{id}/events HTTP/1.1 200", "1234567890123456789-1234567890123456789", "127.0.0.1:8000"):
        assert scrub(keep) == keep
    record = logging.LogRecord("uvicorn.access", 20, __file__, 1, '%s - "%s %s"', ("127.0.0.1:1", "GET", f"/x/{token}"), None)
    Scrub().filter(record)
    assert token not in record.getMessage() and "127.0.0.1:1" in record.getMessage()
