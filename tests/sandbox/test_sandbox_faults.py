"""Faults: hostile bytes at every door, oversized bodies, kill -9, a read-only file, a full disk, 429s.

- Random, truncated and mutated base64/Thrift in `encoded_message_event_detail` (POST .../keys),
  `encoded_message_create_event` and `encoded_message_event_signature` (POST .../messages), and in
  the events a recipient reads (`kit.read_key_change`, `kit.read_message`): a 4xx problem that
  conforms to the document, or a `kit.KitError`; never a 500, a hang or a memory blow-up.
- A 10 MB body gets 413 in-process and from the served sandbox (declared and streamed).
- `kill -9` of the served sandbox in the middle of a load run: after a restart on the same file
  every acknowledged event is there exactly once and nothing half-written is visible.
- A read-only database file and a full disk answer 503 problems and corrupt nothing.
- The client retries a 429 after `x-rate-limit-reset` (a fake clock and sleep: no real waiting).
"""

from __future__ import annotations

import base64
import copy
import json
import sqlite3
import struct
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kit
from kit import client as kit_client
from kit.client import request as client_request
from kit.ids import ConversationId
from kit.sandbox import MAX_BODY_BYTES, Sandbox, SandboxTransport
from sandbox_fixtures import ServedSandbox, served_sandbox
from tests.reliability_helpers import (
    LoadRun,
    Recorder,
    assert_problem,
    check_database,
    record_benchmark,
    run_load,
    tool_state_in,
    verify_conversations,
)

HOSTILE = settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: one call on a few hundred hostile bytes; far above the ~1 ms it takes, far below a hang
PER_CALL_SECONDS = 5.0


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path) -> Any:
    with tool_state_in(tmp_path):  # .hypothesis/ goes there, not into the checkout
        yield


# ---------------------------------------------------------------------------- a sandbox with a conversation


class Doors:
    """An in-process sandbox where alice and bob share a conversation, and the valid requests and
    events the hostile ones are made from."""

    def __init__(self) -> None:
        self.sandbox = Sandbox()
        root = kit.connect(sandbox=self.sandbox, quiet=True)
        self.accounts = {n: root.create_sandbox_user(f"door_{n}") for n in ("alice", "bob")}
        self.alice = kit.Identity.generate(self.accounts["alice"].id, version="1")
        self.bob = kit.Identity.generate(self.accounts["bob"].id, version="1")
        a, b = root.as_user(self.accounts["alice"]), root.as_user(self.accounts["bob"])
        a.register_keys(self.alice)
        b.register_keys(self.bob)
        first = kit.prepare_key_init(self.alice, [self.bob.public_keys], version="1000")
        a.add_conversation_keys(first)
        self.key = first.conversation_key
        self.cid = first.conversation_id
        self.path = first.path_id
        # a valid rotation, never sent as is: the hostile copies are
        self.rotation = kit.prepare_key_init(
            self.alice, [self.bob.public_keys], conversation_id=self.cid, version="2000"
        )
        msg = kit.prepare_message(
            self.alice, self.cid, "hi bob", conversation_key=self.key, conversation_key_version="1000"
        )
        self.message_body = msg.body
        a.send_message(msg)
        page = b.get_events(self.path)
        self.key_change_event = base64.b64decode(page.key_changes[0])
        self.message_event = base64.b64decode(page.messages[0])
        self.detail = base64.b64decode(self.rotation.body["action_signatures"][0]["encoded_message_event_detail"])
        self.mce = base64.b64decode(msg.body["encoded_message_create_event"])
        self.mes = base64.b64decode(msg.body["encoded_message_event_signature"])
        self.events_before = self.count_events()

    def count_events(self) -> int:
        return len(self.sandbox.store.read("SELECT seq FROM events"))

    def post(self, path: str, body: Any) -> Any:
        start = time.perf_counter()
        reply = self.sandbox.handle(
            "POST",
            path,
            [],
            {"authorization": f"Bearer {self.accounts['alice'].access_token}", "content-type": "application/json"},
            json.dumps(body).encode(),
        )
        assert time.perf_counter() - start < PER_CALL_SECONDS
        return reply


_doors: Doors | None = None


def doors() -> Doors:
    global _doors
    if _doors is None:
        _doors = Doors()
    return _doors


# ---------------------------------------------------------------------------- hostile bytes

_LENGTH_BOMBS = [b"\x7f\xff\xff\xff", b"\xff\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x10\x00\x00"]


def _flip(data: bytes, at: int, value: int) -> bytes:
    at %= len(data)
    return data[:at] + bytes([value]) + data[at + 1 :]


def hostile_bytes(valid: bytes) -> st.SearchStrategy[bytes]:
    """Random bytes, truncations, byte mutations, deletions, insertions, length bombs, trailing bytes."""
    n = len(valid)
    return st.one_of(
        st.binary(max_size=2 * n),
        st.integers(0, n - 1).map(lambda k: valid[:k]),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 255)), min_size=1, max_size=4).map(
            lambda muts: _apply(valid, muts)
        ),
        st.tuples(st.integers(0, n - 1), st.integers(1, 16)).map(lambda t: valid[: t[0]] + valid[t[0] + t[1] :]),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=8)).map(
            lambda t: valid[: t[0]] + t[1] + valid[t[0] :]
        ),
        st.tuples(st.integers(0, max(0, n - 4)), st.sampled_from(_LENGTH_BOMBS)).map(
            lambda t: valid[: t[0]] + t[1] + valid[t[0] + 4 :]
        ),
        st.binary(min_size=1, max_size=16).map(lambda tail: valid + tail),
    ).filter(lambda b: b != valid)


def _apply(valid: bytes, muts: list[tuple[int, int]]) -> bytes:
    for at, value in muts:
        valid = _flip(valid, at, value)
    return valid


def hostile_text(valid: bytes) -> st.SearchStrategy[Any]:
    """What a JSON field holding base64 can hold instead: base64 of hostile bytes, broken base64, other types."""
    good = base64.b64encode(valid).decode()
    return st.one_of(
        hostile_bytes(valid).map(lambda b: base64.b64encode(b).decode()),
        hostile_bytes(valid).map(lambda b: base64.b64encode(b).decode().rstrip("=")),
        st.integers(0, len(good) - 1).map(lambda k: good[:k]),
        st.tuples(st.integers(0, len(good) - 1), st.sampled_from(list("-_.!* \n\x00é="))).map(
            lambda t: good[: t[0]] + t[1] + good[t[0] + 1 :]
        ),
        st.text(max_size=64),
        st.sampled_from([None, 0, -1, 2**63, 1.5, True, [], {}, [good], {"b64": good}]),
    ).filter(lambda v: not isinstance(v, str) or v.rstrip("=") != good.rstrip("="))  # unpadded: the same bytes, valid


def _assert_refused(d: Doors, reply: Any) -> None:
    assert_problem(reply.status, reply.headers, reply.body, expected=range(400, 500))
    assert d.count_events() == d.events_before, "a hostile request was stored"


@HOSTILE
@given(value=st.deferred(lambda: hostile_text(doors().detail)))
def test_hostile_event_detail_at_the_keys_door(value: Any) -> None:
    d = doors()
    body = copy.deepcopy(d.rotation.body)
    body["action_signatures"][0]["encoded_message_event_detail"] = value
    _assert_refused(d, d.post(f"/2/chat/conversations/{d.path}/keys", body))


def _refused_here_or_by_the_recipient(d: Doors, reply: Any, message_id: str) -> None:
    """A 4xx problem; or, for bytes the sandbox cannot judge (it holds no conversation key, so it
    cannot open the sealed text or check the message signature), a stored event the recipient refuses."""
    if reply.status == 201:
        event = base64.b64decode(reply.json()["data"]["encoded_message_event"])
        with pytest.raises(kit.KitError):
            kit.read_message(event, conversation_key=d.key, signing_keys=[d.alice.public_keys])
        with d.sandbox.store.transaction() as db:
            db.execute("DELETE FROM events WHERE message_id = ?", (message_id,))
        return
    _assert_refused(d, reply)


@HOSTILE
@given(value=st.deferred(lambda: hostile_text(doors().mce)))
def test_hostile_message_create_event_at_the_messages_door(value: Any) -> None:
    d = doors()
    body = {**d.message_body, "message_id": "hostile-create", "encoded_message_create_event": value}
    _refused_here_or_by_the_recipient(d, d.post(f"/2/chat/conversations/{d.path}/messages", body), "hostile-create")


@HOSTILE
@given(value=st.deferred(lambda: hostile_text(doors().mes)))
def test_hostile_message_signature_at_the_messages_door(value: Any) -> None:
    d = doors()
    body = {**d.message_body, "message_id": "hostile-signature", "encoded_message_event_signature": value}
    _refused_here_or_by_the_recipient(d, d.post(f"/2/chat/conversations/{d.path}/messages", body), "hostile-signature")


def _recipient(read: Callable[[bytes], Any], data: bytes, original: Any) -> None:
    """A `KitError`; or, when only unsigned envelope bytes changed (sequence id, created-at), exactly
    what the original event says on every signed field: hostile bytes never yield a different key or text."""
    start = time.perf_counter()
    try:
        result = read(data)
    except kit.KitError as exc:
        assert str(exc).strip()
    else:
        for name in (
            "conversation_key",
            "conversation_key_version",
            "text",
            "sender_id",
            "conversation_id",
            "message_id",
        ):
            if hasattr(original, name):
                assert getattr(result, name) == getattr(original, name), f"hostile event changed {name}: {data!r:.200}"
    assert time.perf_counter() - start < PER_CALL_SECONDS


def _read_kc(data: bytes) -> Any:
    d = doors()
    return kit.read_key_change(data, recipient=d.bob, signing_keys=[d.alice.public_keys])


def _read_msg(data: bytes) -> Any:
    d = doors()
    return kit.read_message(data, conversation_key=d.key, signing_keys=[d.alice.public_keys])


@HOSTILE
@given(data=st.deferred(lambda: hostile_bytes(doors().key_change_event)))
def test_hostile_key_change_events_at_the_recipient(data: bytes) -> None:
    _recipient(_read_kc, data, _read_kc(doors().key_change_event))


@HOSTILE
@given(data=st.deferred(lambda: hostile_bytes(doors().message_event)))
def test_hostile_message_events_at_the_recipient(data: bytes) -> None:
    _recipient(_read_msg, data, _read_msg(doors().message_event))


def _length_bombs(valid: bytes) -> list[bytes]:
    """Every 4-byte window of a valid encoding replaced by a huge length, plus nesting bombs."""
    out = [valid[:i] + _LENGTH_BOMBS[i % 2] + valid[i + 4 :] for i in range(0, len(valid) - 3)]
    out.append(b"\x0c\x00\x01" * 5000)  # structs nested 5,000 deep
    out.append(b"\x0f\x00\x01\x0c" + struct.pack(">i", 2**31 - 1))  # a list claiming 2^31 structs
    out.append(b"\x0b\x00\x01" + struct.pack(">i", 2**31 - 1) + b"x" * 10)  # a 2 GB string with 10 bytes
    return out


def test_length_bombs_stay_small_and_fast() -> None:
    """Declared lengths of 2 GB and deep nesting: refused without allocating what they claim."""
    d = doors()
    tracemalloc.start()
    try:
        kc, msg = _read_kc(d.key_change_event), _read_msg(d.message_event)
        for bomb in _length_bombs(d.key_change_event):
            _recipient(_read_kc, bomb, kc)
        for bomb in _length_bombs(d.message_event):
            _recipient(_read_msg, bomb, msg)
        for bomb in _length_bombs(d.detail)[::7]:
            body = copy.deepcopy(d.rotation.body)
            body["action_signatures"][0]["encoded_message_event_detail"] = base64.b64encode(bomb).decode()
            _assert_refused(d, d.post(f"/2/chat/conversations/{d.path}/keys", body))
        for field, valid in (("encoded_message_create_event", d.mce), ("encoded_message_event_signature", d.mes)):
            for bomb in _length_bombs(valid)[::5]:
                body = {**d.message_body, "message_id": "bomb", field: base64.b64encode(bomb).decode()}
                _refused_here_or_by_the_recipient(d, d.post(f"/2/chat/conversations/{d.path}/messages", body), "bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"hostile lengths made the readers allocate {peak / 1e6:.1f} MB"


def test_hostile_json_bodies_are_refused() -> None:
    """Not JSON, not an object, deeply nested: 400 problems; a wrong content type: 415."""
    d = doors()
    token = d.accounts["alice"].access_token
    for body, ctype, status in (
        (b"\xff\xfe\x00", "application/json", 400),
        (b"{", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
        (b'{"a": 1}', "text/plain", 415),
        (json.dumps(d.rotation.body).encode(), "application/x-www-form-urlencoded", 415),
    ):
        reply = d.sandbox.handle(
            "POST",
            f"/2/chat/conversations/{d.path}/keys",
            [],
            {"authorization": f"Bearer {token}", "content-type": ctype},
            body,
        )
        assert_problem(reply.status, reply.headers, reply.body, expected=status)


# ---------------------------------------------------------------------------- request size


def test_a_10_mb_body_gets_413_in_process() -> None:
    d = doors()
    big = b"{" + b" " * (10 * 1024 * 1024) + b"}"
    assert len(big) > MAX_BODY_BYTES
    reply = d.sandbox.handle(
        "POST", f"/2/chat/conversations/{d.path}/keys", [], {"content-type": "application/json"}, big
    )
    assert_problem(reply.status, reply.headers, reply.body, expected=413)
    client = kit.Client(httpx.Client(transport=SandboxTransport(d.sandbox), base_url="http://sandbox.invalid"))
    with pytest.raises(kit.PayloadTooLarge, match="at most"):
        client.request("POST", f"/2/chat/conversations/{d.path}/keys", json={"pad": "x" * (10 * 1024 * 1024)})


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_a_10_mb_body_gets_413_from_the_served_sandbox(tmp_path: Path) -> None:
    """Declared (Content-Length) and streamed (chunked) 10 MB bodies: 413, and the server stays small."""
    with served_sandbox(tmp_path / "server.log") as served:
        before = _rss_kb(served.proc.pid)
        url = served.url + "/2/chat/conversations/1-2/keys"
        headers = {"content-type": "application/json"}
        declared = httpx.post(url, content=b"{" + b" " * (10 * 1024 * 1024), headers=headers, timeout=30)
        assert_problem(declared.status_code, declared.headers, declared.content, expected=413)

        def chunks():
            for _ in range(10):
                yield b" " * (1024 * 1024)

        streamed = httpx.post(url, content=chunks(), headers=headers, timeout=30)
        assert_problem(streamed.status_code, streamed.headers, streamed.content, expected=413)
        assert httpx.get(served.url + "/2/chat/conversations", timeout=10).status_code == 401  # still serving
        grown_mb = (_rss_kb(served.proc.pid) - before) / 1024
        assert grown_mb < 32, f"the server grew by {grown_mb:.0f} MB for two refused 10 MB bodies"


# ---------------------------------------------------------------------------- kill -9


def test_kill_9_in_the_middle_of_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "room.sqlite"
    log = tmp_path / "server.log"
    served = ServedSandbox(db=db, log=log).start()
    run = LoadRun(served.url, clients=20, recorder=Recorder(), prefix="k9_", messages=2, endless=True)
    try:
        import threading

        loader = threading.Thread(target=run_load, args=(run,), kwargs={"timeout": 60}, daemon=True)
        loader.start()
        deadline = time.monotonic() + 45
        while run.acked_count() < 120 and time.monotonic() < deadline and not run.errors:
            time.sleep(0.01)
        assert not run.errors, run.errors[:3]
        acked_at_kill = run.acked_count()
        assert acked_at_kill >= 120, f"only {acked_at_kill} events acknowledged before the kill"
        run.killed.set()
        served.kill9()  # SIGKILL: no shutdown, no flush, mid-request for most clients
        run.stop.set()
        loader.join(60)
        assert not loader.is_alive()
    finally:
        served.stop()
    assert not run.errors, run.errors[:3]
    stats = check_database(db)  # the file exactly as the kill left it: integrity ok, every row whole
    assert stats["events"] >= len(run.acks)

    again = ServedSandbox(db=db, log=log).start()  # same file, new process
    try:
        run.url = again.url
        tokens = _reader_tokens(run)
        counts = verify_conversations(run, tokens)  # every acknowledged event, exactly once, in order
        assert counts["messages"] + counts["key_changes"] == len(run.acks)
        # the room carries on: old tokens work, and a new message lands after the old ones
        i, (identity, key, conv) = next(iter(run.keys.items()))
        me = kit.connect(base_url=again.url, token=run.users[i][0].access_token, user_id=identity.user_id, quiet=True)
        newest = max(int(a.sequence_id) for a in run.acks if a.conversation == conv)
        pm = kit.prepare_message(
            identity, conv, "after the crash", conversation_key=key, conversation_key_version="1700000000000"
        )
        with me:
            event = kit.thrift.read_message_event(base64.b64decode(me.send_message(pm)))
        assert int(event.sequence_id) > newest
    finally:
        again.stop()
    assert check_database(db)["events"] >= len(run.acks)
    record_benchmark(
        {
            "kill9": {
                "clients": run.clients,
                "acknowledged_when_kill_was_decided": acked_at_kill,
                "acknowledged_in_all": len(run.acks),  # answers that arrived before the SIGKILL landed
                "events_on_disk_after_kill": stats["events"],  # acknowledged ones plus any in flight
                "acknowledged_lost": 0,  # verify_conversations above found every one, exactly once
            }
        }
    )


def _reader_tokens(run: LoadRun) -> dict[str, str]:
    out = {}
    for i, (user, _) in run.users.items():
        partner = run.users.get(i ^ 1)
        if partner is not None:
            out[ConversationId.pair(user.id, partner[0].id).canonical] = user.access_token
    return out


# ---------------------------------------------------------------------------- read-only file, full disk


def _populated(db: Path) -> tuple[str, str, kit.Identity, kit.PublicKeys]:
    sandbox = Sandbox(db=str(db))
    root = kit.connect(sandbox=sandbox, quiet=True)
    alice, bob = root.create_sandbox_user("ro_alice"), root.create_sandbox_user("ro_bob")
    ia, ib = kit.Identity.generate(alice.id, version="1"), kit.Identity.generate(bob.id, version="1")
    root.as_user(alice).register_keys(ia)
    root.as_user(bob).register_keys(ib)
    root.as_user(alice).add_conversation_keys(kit.prepare_key_init(ia, [ib.public_keys], version="1000"))
    sandbox.store.close()
    return alice.access_token, bob.id, ia, ib.public_keys


def _snapshot(db: Path) -> list[Any]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [con.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("users", "public_keys", "events")]
    finally:
        con.close()


def test_a_read_only_database_answers_503_and_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "room.sqlite"
    token, bob_id, alice, bob_keys = _populated(db)
    before = _snapshot(db)
    sandbox = Sandbox(db=f"file:{db}?mode=ro")
    me = kit.Client(
        httpx.Client(
            transport=SandboxTransport(sandbox), base_url="http://sandbox.invalid", auth=kit_client.TokenAuth(token)
        ),
        user_id=alice.user_id,
    )
    assert me.get_public_keys(bob_id)  # reads still work
    rotation = kit.prepare_key_init(alice, [bob_keys], version="2000")
    with pytest.raises(kit.ServiceUnavailable, match="nothing was stored") as err:
        me.add_conversation_keys(rotation)
    assert err.value.problem.extra["resource_type"] == "database"
    reply = sandbox.handle("POST", "/sandbox/users", [], {"content-type": "application/json"}, b'{"username": "late"}')
    assert_problem(reply.status, reply.headers, reply.body, expected=503)
    sandbox.store.close()
    assert _snapshot(db) == before
    assert check_database(db)["events"] == 1


def test_the_served_sandbox_on_a_read_only_file_answers_503(tmp_path: Path) -> None:
    db = tmp_path / "room.sqlite"
    _populated(db)
    with served_sandbox(tmp_path / "server.log", db=f"file:{db}?mode=ro") as served:
        r = httpx.post(served.url + "/sandbox/users", json={"username": "late"}, timeout=10)
        assert_problem(r.status_code, r.headers, r.content, expected=503)
    assert check_database(db)["events"] == 1


def test_a_full_disk_answers_503_and_corrupts_nothing(tmp_path: Path) -> None:
    db = tmp_path / "room.sqlite"
    token, bob_id, alice, bob_keys = _populated(db)
    sandbox = Sandbox(db=str(db))
    me = kit.Client(
        httpx.Client(
            transport=SandboxTransport(sandbox), base_url="http://sandbox.invalid", auth=kit_client.TokenAuth(token)
        ),
        user_id=alice.user_id,
    )
    pages = sandbox.store.read("PRAGMA page_count")[0][0]
    sandbox.store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
    cid = ConversationId.pair(alice.user_id, bob_id).canonical
    refused = 0
    for n in range(40):  # enough bytes to need a new page
        msg = kit.prepare_message(
            alice, cid, "x" * 2000 + str(n), conversation_key=b"k" * 32, conversation_key_version="1000"
        )
        try:
            me.send_message(msg)
        except kit.ServiceUnavailable as exc:
            assert "nothing was stored" in str(exc) and exc.problem.extra["resource_type"] == "database"
            refused += 1
    assert refused, "the full disk never refused a write"
    reply = sandbox.handle(
        "POST", "/sandbox/users", [], {"content-type": "application/json"}, b'{"username": "' + b"f" * 15 + b'"}'
    )
    assert reply.status in (201, 503)
    if reply.status == 503:
        assert_problem(reply.status, reply.headers, reply.body, expected=503)
    assert me.get_events(cid).key_changes  # reads still answer
    sandbox.store._db.execute("PRAGMA max_page_count = 1073741823")  # space again: writes resume
    msg = kit.prepare_message(alice, cid, "after", conversation_key=b"k" * 32, conversation_key_version="1000")
    me.send_message(msg)
    sandbox.store.close()
    stats = check_database(db)
    assert stats["events"] == 1 + (40 - refused) + 1


# ---------------------------------------------------------------------------- the client and 429


class FakeTime:
    """A clock and a sleep that only move time forward on paper."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_client_retries_a_429_after_the_reset_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime(1_800_000_000.0)
    monkeypatch.setattr(client_request, "now", fake.time)
    monkeypatch.setattr(client_request, "sleep", fake.sleep)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("slept for real"))
    sandbox = Sandbox(rate_limit=2, clock=fake.time)
    patient = kit.connect(sandbox=sandbox, quiet=True, max_retries=2).sandbox_user("patient")
    assert patient.max_retries == 2
    for _ in range(3):  # the third waits for the window to reset, then succeeds
        assert patient.get_conversations() == []
    assert fake.sleeps == [900.0]
    impatient = kit.connect(sandbox=sandbox, quiet=True).sandbox_user("impatient")
    impatient.get_conversations(), impatient.get_conversations()
    with pytest.raises(kit.RateLimited) as err:
        impatient.get_conversations()
    assert err.value.headers["x-rate-limit-remaining"] == "0"
    assert fake.sleeps == [900.0]  # the default never waits


def test_retry_backoff_without_a_reset_header_and_giving_up(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime(1_000.0)
    monkeypatch.setattr(client_request, "now", fake.time)
    monkeypatch.setattr(client_request, "sleep", fake.sleep)
    answers = iter([429, 429, 429, 429, 200])
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        status = next(answers)
        if status == 429:
            return httpx.Response(
                429,
                json={
                    "type": "https://api.x.com/2/problems/resource-unavailable",
                    "title": "Too Many Requests",
                    "detail": "slow down",
                    "resource_type": "rate-limit",
                },
                headers={"content-type": "application/problem+json"},
            )
        return httpx.Response(200, json={"data": []})

    client = kit.Client(
        httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x.invalid"), max_retries=3
    )
    with pytest.raises(kit.RateLimited):
        client.get_conversations()
    assert fake.sleeps == [1.0, 2.0, 4.0] and len(seen) == 4  # exponential backoff, then the 429 is raised
    assert client.get_conversations() == []  # the next call's answer (200) after nothing
    # a reset time in the past, and a Retry-After answer
    assert client_request.retry_delay(httpx.Response(429, headers={"x-rate-limit-reset": "10"}), 0) == 1.0
    assert client_request.retry_delay(httpx.Response(429, headers={"retry-after": "7"}), 0) == 7.0
    assert client_request.retry_delay(httpx.Response(429, headers={"x-rate-limit-reset": str(10**12)}), 0) == 900.0


def test_json_depth_limit_is_exact() -> None:
    """32 levels pass the depth check (and meet the schema); 33 are refused for their depth."""
    d = doors()
    token = d.accounts["alice"].access_token

    def nested(levels: int) -> bytes:
        value: object = 1
        for _ in range(levels - 1):
            value = [value]
        return json.dumps({"conversation_key_version": value}).encode()  # the object is one level more

    details = {}
    for levels in (31, 32):
        reply = d.sandbox.handle(
            "POST", f"/2/chat/conversations/{d.path}/keys", [],
            {"authorization": f"Bearer {token}", "content-type": "application/json"}, nested(levels),
        )  # fmt: skip
        assert reply.status == 400
        details[levels] = json.loads(reply.body)["detail"]
    assert "nested more than 32 levels" not in details[31]
    assert "nested more than 32 levels" in details[32]
