"""The room row: 30 learners join by name and pair over loopback, rate limiting on, beside the bare echo.

One served sandbox with a room's default limits (`kit.sandbox.server.ROOM_RATE_LIMIT` and
`ROOM_USER_CREATION_LIMIT`) behind the same uvicorn as `/bench/echo`
(`python -m benchmarks.loopback_server PORT --room`). Each learner is a thread with its own
keep-alive connection; a round is a workshop's pairing:

1. every learner `POST /sandbox/join`s with their name;
2. registers keys, finds the neighbour by name (`GET /sandbox/room/members?name=`) and fetches
   their public keys;
3. the first of each pair initializes the conversation (`POST .../keys`);
4. sends a message;
5. the neighbour reads it (`GET .../events`).

The client's crypto (keys, key init, message) runs between the steps, untimed: the row measures
the server. Requests/s is all requests over the steps' summed wall time; p50/p99 over every
request. The bare echo phase sends as many requests from the same threads. Between rounds the
operator resets the room (untimed), so every round starts as a fresh room within the limits.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import kit
from benchmarks.cases import Config, loopback_server
from benchmarks.harness import Row, fill

__all__ = ["OPERATOR_ENV", "rows_room"]

#: The environment variable the loopback server reads the bench's operator token from.
OPERATOR_ENV = "KIT_BENCH_OPERATOR_TOKEN"
_TOKEN = "op_bench-room-operator-token-0123456789"


def rows_room(cfg: Config) -> list[Row]:
    import httpx

    def ready(url: str) -> bool:
        return httpx.get(url + "/sandbox/health", timeout=1).status_code == 200

    with loopback_server("--room", ready=ready, env={OPERATOR_ENV: _TOKEN}) as url:
        return _room(cfg, url)


class _Learner:
    """One learner's connection, name, and what the steps learn."""

    def __init__(self, url: str, index: int) -> None:
        import httpx

        self.http = httpx.Client(base_url=url, timeout=30)
        self.name = f"learner {index:02d}"
        self.index = index
        self.user_id = ""
        self.token = ""
        self.identity: kit.Identity | None = None
        self.neighbour_keys: kit.PublicKeys | None = None
        self.init: kit.KeyInit | None = None
        self.message: kit.PreparedMessage | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


def _room(cfg: Config, url: str) -> list[Row]:
    import httpx

    n = cfg.room_learners - cfg.room_learners % 2  # pairs
    learners = [_Learner(url, i) for i in range(n)]
    for learner in learners:  # open the keep-alive connections before timing
        learner.http.post("/bench/echo", content=b"warm")

    def neighbour(learner: _Learner) -> _Learner:
        return learners[learner.index ^ 1]

    def leads(learner: _Learner) -> bool:
        return learner.index % 2 == 0

    def phase(step: Callable[[_Learner, Callable[..., Any]], None]) -> tuple[float, list[float], list[str]]:
        lat: list[list[float]] = [[] for _ in learners]
        errors: list[str] = []
        barrier = threading.Barrier(n + 1)

        def work(learner: _Learner) -> None:
            def request(method: str, path: str, **kw: Any) -> Any:
                t0 = time.perf_counter()
                r = learner.http.request(method, path, **kw)
                lat[learner.index].append(time.perf_counter() - t0)
                if r.status_code >= 300:
                    errors.append(f"{method} {path} -> {r.status_code}: {r.text[:160]}")
                return r

            barrier.wait()
            step(learner, request)

        threads = [threading.Thread(target=work, args=(lr,)) for lr in learners]
        for th in threads:
            th.start()
        barrier.wait()
        t0 = time.perf_counter()
        for th in threads:
            th.join()
        return time.perf_counter() - t0, [x for xs in lat for x in xs], errors

    def join(lr: _Learner, request: Callable[..., Any]) -> None:
        data = request("POST", "/sandbox/join", json={"name": lr.name}).json()["data"]
        lr.user_id, lr.token = data["id"], data["access_token"]

    def find(lr: _Learner, request: Callable[..., Any]) -> None:
        assert lr.identity is not None
        request("POST", f"/2/users/{lr.user_id}/public_keys", json=lr.identity.registration_body(), headers=lr.auth)

    def lookup(lr: _Learner, request: Callable[..., Any]) -> None:
        other = neighbour(lr)
        found = request("GET", "/sandbox/room/members", params={"name": other.name.upper()}, headers=lr.auth).json()["data"]
        keys = request("GET", f"/2/users/{found[0]['id']}/public_keys", headers=lr.auth).json()["data"]
        lr.neighbour_keys = kit.PublicKeys.from_api(keys[0], user_id=found[0]["id"])

    def initialize(lr: _Learner, request: Callable[..., Any]) -> None:
        if leads(lr):
            assert lr.init is not None
            request("POST", f"/2/chat/conversations/{lr.init.path_id}/keys", json=lr.init.body, headers=lr.auth)

    def send(lr: _Learner, request: Callable[..., Any]) -> None:
        if leads(lr):
            assert lr.message is not None
            request("POST", f"/2/chat/conversations/{lr.message.path_id}/messages", json=lr.message.body, headers=lr.auth)

    def read(lr: _Learner, request: Callable[..., Any]) -> None:
        if not leads(lr):
            other = neighbour(lr)
            assert other.init is not None
            page = request("GET", f"/2/chat/conversations/{other.init.path_id}/events", headers=lr.auth).json()
            if len(page.get("data", [])) != 1:
                raise RuntimeError(f"{lr.name} did not read the neighbour's message: {json.dumps(page)[:200]}")

    def between_join_and_register() -> None:
        for lr in learners:
            lr.identity = kit.Identity.generate(lr.user_id)

    def between_lookup_and_init() -> None:
        for lr in learners:
            if leads(lr):
                assert lr.identity is not None and lr.neighbour_keys is not None
                lr.init = kit.prepare_key_init(lr.identity, [lr.neighbour_keys])

    def between_init_and_send() -> None:
        for lr in learners:
            if leads(lr):
                assert lr.identity is not None and lr.init is not None
                lr.message = kit.prepare_message(
                    lr.identity, lr.init.conversation_id, f"hello from {lr.name}",
                    conversation_key=lr.init.conversation_key, conversation_key_version=lr.init.conversation_key_version,
                )  # fmt: skip

    steps: list[tuple[Callable[..., None], Callable[[], None] | None]] = [
        (join, between_join_and_register),
        (find, None),
        (lookup, between_lookup_and_init),
        (initialize, between_init_and_send),
        (send, None),
        (read, None),
    ]

    def room_round() -> tuple[float, list[float]]:
        wall, lat = 0.0, []
        for step, after in steps:
            w, lt, errors = phase(step)
            if errors:
                raise RuntimeError(f"{len(errors)} room requests failed, e.g. {errors[0]}")
            wall += w
            lat += lt
            if after is not None:
                after()
        with httpx.Client(base_url=url, headers={"authorization": f"Bearer {_TOKEN}"}) as op:  # the next round: a fresh room
            if op.post("/sandbox/operator/reset", json={"confirm": "reset"}).status_code != 200:
                raise RuntimeError("the operator reset between rounds failed")
        return wall, lat

    per_learner = 6  # join, register, members, public keys, and init/send or read: about 5 on average
    def echo_round() -> tuple[float, list[float]]:
        w, lat, errors = phase(lambda lr, request: [request("POST", "/bench/echo", content=b"x" * 600) for _ in range(per_learner)])
        if errors:
            raise RuntimeError(f"{len(errors)} echo requests failed")
        return w, lat

    rps: dict[str, list[float]] = {"kit": [], "bare echo": []}
    p50: dict[str, list[float]] = {"kit": [], "bare echo": []}
    p99: dict[str, list[float]] = {"kit": [], "bare echo": []}
    requests = 0
    for r in range(cfg.room_rounds):
        order = [("bare echo", echo_round), ("kit", room_round)]
        for name, fn in order if r % 2 == 0 else order[::-1]:
            wall, lat = fn()
            requests += len(lat) if name == "kit" else 0
            rps[name].append(len(lat) / wall)
            lat.sort()
            p50[name].append(lat[len(lat) // 2])
            p99[name].append(lat[min(len(lat) - 1, int(len(lat) * 0.99))])
    for lr in learners:
        lr.http.close()
    label = f"{n} learners ({n // 2} pairs), one connection each, room rate limits on"
    r1 = Row("room_rps", "sandbox", f"room: join by name and pair over loopback: requests/s ({label})", "req/s", per="request")
    fill(r1, rps, {"kit / bare echo": ("kit", "bare echo")})
    r2 = Row("room_p50", "sandbox", "room: join and pair over loopback: p50 latency", "s", per="request")
    fill(r2, p50, {"kit / bare echo": ("kit", "bare echo")})
    r3 = Row("room_p99", "sandbox", "room: join and pair over loopback: p99 latency", "s", per="request")
    fill(r3, p99, {"kit / bare echo": ("kit", "bare echo")})
    note = (
        "steps: join, register keys, find by name + public keys, init, send, read (client crypto between steps, untimed); "
        "bare echo: as many requests from the same threads; the operator resets the room between rounds"
    )
    for row in (r1, r2, r3):
        row.note = note
        row.extra["learners"] = n
        row.extra["room_requests_per_round"] = requests // max(cfg.room_rounds, 1)
    return [r1, r2, r3]
