"""Resources one participant could tie up (hardening item 11): connections (a concurrency limit,
a request-head deadline, a body deadline, a head size limit), OAuth codes (a cap per user, kept
per user so an authorize does not scan the others'), and users (a limit per client address).

Timing here is a bounded measurement with a generous factor, never a goal."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sandbox_fixtures import served_sandbox, username

import kit
from kit.client import authorize_url
from kit.sandbox import Sandbox, create_app
from kit.sandbox.oauth import MAX_CODES_PER_USER
from kit.sandbox.server import ROOM_RATE_LIMIT, ROOM_USER_CREATION_LIMIT
from tests.reliability_helpers import assert_problem

AUTHORIZE = "/sandbox/oauth2/authorize"


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes `sock` before `deadline` (monotonic), reading whatever it sends."""
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            if sock.recv(65536) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
    return False


def test_idle_and_slowloris_connections_cannot_hold_the_room(tmp_path: Path) -> None:
    extra = ("--limit-concurrency", "6", "--header-timeout", "2")
    with served_sandbox(tmp_path / "server.log", extra=extra) as served:
        idle = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(6)]
        slow = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(6)]
        for s in slow:
            s.sendall(b"GET /2/chat/conversations HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        t0 = time.monotonic()
        # Over the limit: an honest request is answered (uvicorn's 503, or served once slots free), never left hanging.
        r = httpx.get(served.url + "/2/chat/conversations", timeout=20)
        assert r.status_code in (401, 503), r.text
        assert time.monotonic() - t0 < 20
        # Every connection that sent no whole request head is closed by the server: 2 s deadline, 10x margin.
        deadline = t0 + 20
        for s in slow:
            s.sendall(b"X-")  # still trickling
        assert all(_closed_by_server(s, deadline) for s in idle + slow)
        elapsed = time.monotonic() - t0
        for s in idle + slow:
            s.close()
        r = httpx.get(served.url + "/2/chat/conversations", timeout=20)
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert elapsed < 20


def test_an_oversized_request_head_is_refused_and_the_server_lives_on(tmp_path: Path) -> None:
    with served_sandbox(tmp_path / "server.log") as served, httpx.Client(base_url=served.url, timeout=20) as raw:
        for headers in ({"x-padding": "a" * 20_000}, {f"x-h{i}": "b" * 100 for i in range(300)}):
            try:
                r = raw.get("/2/chat/conversations", headers=headers)
                assert r.status_code in (400, 431), r.status_code
                if r.status_code == 431:
                    assert_problem(431, r.headers, r.content, expected=431)
            except httpx.RemoteProtocolError:
                pass  # h11 closed the connection: refused either way
        assert raw.get("/2/chat/conversations").status_code == 401


def test_a_body_that_does_not_arrive_is_a_408() -> None:
    app = create_app(Sandbox(), body_timeout_s=0.2)

    async def main() -> list[dict]:
        sent: list[dict] = []
        first = [{"type": "http.request", "body": b'{"user', "more_body": True}]

        async def receive() -> dict:
            if first:
                return first.pop()
            await asyncio.sleep(3600)  # the rest never comes
            raise AssertionError

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/sandbox/users", "query_string": b"",
                 "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")]}  # fmt: skip
        await asyncio.wait_for(app(scope, receive, send), 10)
        return sent

    t0 = time.monotonic()
    sent = asyncio.run(main())
    assert time.monotonic() - t0 < 10
    assert sent[0]["status"] == 408
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    assert_problem(408, headers, sent[1]["body"], expected=408)
    assert headers["connection"] == "close"


# ----------------------------------------------------------------------------- OAuth codes


def _authorize(sandbox: Sandbox, token: str) -> int:
    url, _, _ = authorize_url(authorize_endpoint=AUTHORIZE)
    q = parse_qs(urlparse(url).query)
    query = [(k, v[0]) for k, v in q.items()]
    return sandbox.handle("GET", AUTHORIZE, query, {"authorization": f"Bearer {token}"}, b"").status


def test_authorize_does_not_scan_other_users_codes_and_expired_ones_go() -> None:
    now = [1_700_000_000.0]
    sandbox = Sandbox(clock=lambda: now[0])
    root = kit.connect(sandbox=sandbox, quiet=True)
    users = [root.create_sandbox_user(username()) for _ in range(40)]

    def timed(batch: list) -> float:
        times = []
        for u in batch:
            for _ in range(5):
                t = time.perf_counter()
                assert _authorize(sandbox, u.access_token) == 302
                times.append(time.perf_counter() - t)
        return statistics.median(times)

    before = timed(users[:20])
    oauth = sandbox._oauth
    url, _, _ = authorize_url(authorize_endpoint=AUTHORIZE)
    query = [(k, v[0]) for k, v in parse_qs(urlparse(url).query).items()]
    for i in range(40_000):  # 40,000 outstanding codes of 4,000 other users
        oauth.authorize(str(10**18 + i // 10), query, now[0])
    after = timed(users[20:])
    assert after < 5 * before + 0.002, (before, after)  # measured: about equal
    assert len(oauth._codes) == 40_000 + 200
    now[0] += 601  # all expired: the next authorize drops them, oldest first
    assert _authorize(sandbox, users[0].access_token) == 302
    assert len(oauth._codes) == 1 and len(oauth._by_user) == 1


def test_outstanding_codes_are_capped_per_user_and_expire() -> None:
    now = [1_700_000_000.0]
    sandbox = Sandbox(clock=lambda: now[0])
    alice = kit.connect(sandbox=sandbox, quiet=True).create_sandbox_user(username())
    assert [_authorize(sandbox, alice.access_token) for _ in range(MAX_CODES_PER_USER + 3)] == [302] * MAX_CODES_PER_USER + [429] * 3
    now[0] += 601
    assert _authorize(sandbox, alice.access_token) == 302


# ----------------------------------------------------------------------------- creating users


def _create(sandbox: Sandbox, client: str) -> tuple[int, dict]:
    reply = sandbox.handle("POST", "/sandbox/users", [], {"content-type": "application/json"},
                           f'{{"username": "{username()}"}}'.encode(), client=client)  # fmt: skip
    return reply.status, reply.headers


def test_creating_users_is_limited_per_client_address() -> None:
    sandbox = Sandbox(user_creation_limit=3)
    assert [_create(sandbox, "10.0.0.7")[0] for _ in range(5)] == [201, 201, 201, 429, 429]
    status, headers = _create(sandbox, "10.0.0.8")  # another address has its own allowance
    assert status == 201 and headers["x-rate-limit-remaining"] == "2"
    assert sandbox.store.read("SELECT COUNT(*) FROM users")[0][0] == 4  # the refused ones stored nothing
    # the in-process sandbox has no limit unless given one
    open_sandbox = Sandbox()
    assert all(_create(open_sandbox, "10.0.0.7")[0] == 201 for _ in range(100))


def test_a_served_room_is_rate_limited_by_default(tmp_path: Path) -> None:
    with served_sandbox(tmp_path / "server.log", rate_limit="room") as served, httpx.Client(base_url=served.url, timeout=30) as raw:
        assert served.banner["rate_limit"].startswith(str(ROOM_RATE_LIMIT))
        made = [raw.post("/sandbox/users", json={"username": username()}) for _ in range(ROOM_USER_CREATION_LIMIT)]
        assert all(r.status_code == 201 for r in made)
        name = username()
        r = raw.post("/sandbox/users", json={"username": name})
        problem = assert_problem(r.status_code, r.headers, r.content, expected=429)
        assert problem["resource_type"] == "rate-limit" and r.headers["x-rate-limit-remaining"] == "0"
        token = made[0].json()["data"]["access_token"]
        r = raw.get("/2/chat/conversations", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.headers["x-rate-limit-limit"] == str(ROOM_RATE_LIMIT)
    with served_sandbox(tmp_path / "server2.log") as served, httpx.Client(base_url=served.url, timeout=30) as raw:
        # --no-rate-limit (what the fixture passes by default): no limit, no headers
        assert served.banner["rate_limit"] == "off"
        made = [raw.post("/sandbox/users", json={"username": username()}) for _ in range(ROOM_USER_CREATION_LIMIT + 5)]
        assert all(r.status_code == 201 and "x-rate-limit-limit" not in r.headers for r in made)


def test_rate_limit_flags_do_not_combine() -> None:
    from kit.__main__ import main

    with pytest.raises(SystemExit):
        main(["sandbox", "--rate-limit", "5", "--no-rate-limit"])
