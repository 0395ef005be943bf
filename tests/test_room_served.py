"""A workshop room over real HTTP: 30 learners pairing at once, and a learner who resumes in a new process.

Loopback only, bounded in count and time. The server runs as a room does (`rate_limit="room"`: the
README's command, rate limiting on).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sandbox_fixtures import ServedSandbox, served_sandbox

import kit

REPO = Path(__file__).resolve().parent.parent
PAIRS = 15
LEARNERS = 2 * PAIRS
#: Whole-room budget: 30 joins, 30 registrations, 15 inits, 30 messages and their reads.
ROOM_SECONDS = 120.0
PW = "the room passphrase"


@pytest.fixture(scope="module")
def room_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSandbox]:
    d = tmp_path_factory.mktemp("room")
    with served_sandbox(d / "server.log", db=d / "room.sqlite", rate_limit="room") as server:
        yield server


def _wait_for_key(room: kit.Room, cid: kit.ConversationId, *, tries: int = 60) -> None:
    for _ in range(tries):
        room.catch_up(cid)
        if room.keyring.latest(cid.canonical) is not None:
            return
        time.sleep(0.25)
    raise AssertionError(f"{room.name} never saw the key of {cid.canonical}")


def test_thirty_learners_pair_by_name_at_once(room_server: ServedSandbox) -> None:
    statuses: list[int] = []
    lock = threading.Lock()
    joined = threading.Barrier(LEARNERS, timeout=60)
    sent = threading.Barrier(LEARNERS, timeout=60)

    def hook(response: httpx.Response) -> None:
        with lock:
            statuses.append(response.status_code)

    def learner(i: int) -> tuple[str, str, list[str]]:
        pair, second = divmod(i, 2)
        me, neighbour = (f"Grace {pair}", f"ada {pair}") if second else (f"ada {pair}", f"Grace {pair}")
        room = kit.join(room_server.url, name=me, state_dir=None, quiet=True)  # each learner: its own client
        try:
            room.client.http.event_hooks["response"].append(hook)
            joined.wait()
            theirs = room.find(neighbour.upper())  # names ignore case
            cid = room.conversation_with(theirs)
            if not second:
                room.start(theirs)
            _wait_for_key(room, cid)
            room.send(cid, f"hello from {me}")
            sent.wait()
            return room.user_id, me, [m.text for m in room.messages(cid)]
        finally:
            room.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=LEARNERS) as pool:
        results = list(pool.map(learner, range(LEARNERS)))
    took = time.monotonic() - started

    ids = [r[0] for r in results]
    assert len(set(ids)) == LEARNERS, "two learners got one user id"
    assert not [s for s in statuses if s >= 500], f"5xx answers: {sorted(set(statuses))}"
    assert not [s for s in statuses if s in (409, 429)], f"collisions or rate limits: {sorted(set(statuses))}"
    for i, (_, me, texts) in enumerate(results):
        pair, second = divmod(i, 2)
        neighbour = f"ada {pair}" if second else f"Grace {pair}"
        assert sorted(texts) == sorted([f"hello from {me}", f"hello from {neighbour}"]), (me, texts)
    assert took < ROOM_SECONDS, f"the room took {took:.1f} s"
    health = httpx.get(room_server.url + "/sandbox/health", timeout=10).json()
    assert health["users"] >= LEARNERS and health["conversations"] >= PAIRS


_FIRST = """
import json, sys, kit
url, state, name, neighbour = sys.argv[1:5]
room = kit.join(url, name=name, state_dir=state, passphrase=sys.argv[5], quiet=True)
theirs = room.find(neighbour)
room.start(theirs)
cid = room.conversation_with(theirs)
room.send(cid, "sent before the kernel restart")
print(json.dumps({"id": room.user_id, "fingerprint": room.identity.fingerprint, "conversation": cid.canonical}))
"""

_SECOND = """
import json, sys, kit
url, state, name, conversation = sys.argv[1:5]
try:
    room = kit.join(url, name=name, state_dir=state, passphrase=sys.argv[5], quiet=True)
except kit.KitError as err:
    print(json.dumps({"error": type(err).__name__, "message": str(err)}))
    raise SystemExit(0)
print(json.dumps({"id": room.user_id, "fingerprint": room.identity.fingerprint, "check": room.check().ok,
                  "texts": [m.text for m in room.messages(conversation)]}))
"""


def _run(code: str, *args: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("X_API_BASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_a_learner_resumes_in_a_new_process(room_server: ServedSandbox, tmp_path: Path) -> None:
    grace = kit.join(room_server.url, name="grace-resume", state_dir=None, quiet=True)
    try:
        first = _run(_FIRST, room_server.url, str(tmp_path), "ada-resume", "grace-resume", PW)  # that process has ended
        conversation = str(first["conversation"])
        grace.send(conversation, "sent while ada was away")
        second = _run(_SECOND, room_server.url, str(tmp_path), "ada-resume", conversation, PW)
        assert second["id"] == first["id"] and second["fingerprint"] == first["fingerprint"] and second["check"] is True
        assert second["texts"] == ["sent before the kernel restart", "sent while ada was away"]

        wrong = _run(_SECOND, room_server.url, str(tmp_path), "ada-resume", conversation, "not the passphrase")
        assert wrong["error"] == "WrongPassphrase" and "passphrase does not open" in str(wrong["message"])

        for state in tmp_path.glob(".xchat-room-*.json"):
            state.unlink()
        gone = _run(_SECOND, room_server.url, str(tmp_path), "ada-resume", conversation, PW)
        assert gone["error"] == "NameTaken" and "state file" in str(gone["message"]) and "is not in this folder" in str(gone["message"])
    finally:
        grace.close()
