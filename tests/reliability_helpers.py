"""Shared pieces of the reliability tests (conformance, load, faults, isolation, secrets).

- `problem_errors`: validate a problem body against the vendored OpenAPI document;
- `Recorder` / `TimedTransport`: per-request latency and status for every client of a load run;
- `run_participant`: one load-test client (register keys, race its partner to initialize their
  conversation, send messages), and `verify_conversations` for "every acknowledged event is
  there exactly once, sequence ids unique and increasing";
- `find_secrets`: key- and token-shaped strings in a text.

The served sandbox they run against is `sandbox_fixtures.ServedSandbox` / `served_sandbox`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx

import kit
from kit.client import Client, TokenAuth
from kit.thrift import KeyChangeDetail, MessageCreateEvent, read_message_event

REPO = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO / "kit" / "spec" / "x-api-chat-openapi.json"


# ---------------------------------------------------------------------------- the document


@cache
def _problem_validator() -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    document = json.loads(SPEC_PATH.read_text("utf-8"))
    uri = "urn:reliability:openapi"
    registry = Registry().with_resource(uri, Resource(contents=document, specification=DRAFT202012))
    return Draft202012Validator({"$ref": uri + "#/components/schemas/Problem"}, registry=registry)


def problem_errors(body: Any) -> list[str]:
    """Why `body` is not a `Problem` of the document (empty when it is one)."""
    return [f"{list(e.absolute_path)}: {e.message}" for e in _problem_validator().iter_errors(body)]


def assert_problem(status: int, headers: Any, body: bytes, *, expected: int | range) -> dict[str, Any]:
    """An `application/problem+json` answer with the expected status that validates against the document."""
    allowed = range(expected, expected + 1) if isinstance(expected, int) else expected
    assert status in allowed, f"status {status} not in {allowed}: {body[:300]!r}"
    ctype = {k.lower(): v for k, v in dict(headers).items()}.get("content-type", "")
    if isinstance(ctype, list):  # schemathesis keeps every header as a list
        ctype = ctype[0] if ctype else ""
    assert ctype.startswith("application/problem+json"), ctype
    data = json.loads(body)
    errors = problem_errors(data)
    assert not errors, f"problem does not conform to the document: {errors} in {data}"
    assert data.get("status") == status
    return data


# ---------------------------------------------------------------------------- test state out of the tree


@contextmanager
def tool_state_in(directory: Path) -> Iterator[None]:
    """Point hypothesis's and schemathesis's on-disk state (.hypothesis/, .schemathesis/) at `directory`.

    schemathesis writes relative to the working directory; hypothesis fixes its directory when it is
    imported, so it is set explicitly, and put back afterwards."""
    from hypothesis.configuration import set_hypothesis_home_dir

    old_cwd = Path.cwd()
    os.chdir(directory)
    set_hypothesis_home_dir(directory / ".hypothesis")
    try:
        yield
    finally:
        set_hypothesis_home_dir(None)
        os.chdir(old_cwd)


# ---------------------------------------------------------------------------- measuring clients


class Recorder:
    """Latency and status of every request of a run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.transport_errors = 0

    def record(self, seconds: float, status: int) -> None:
        with self._lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1

    def failed(self) -> None:
        with self._lock:
            self.transport_errors += 1

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in seconds."""
        data = sorted(self.latencies)
        if not data:
            return 0.0
        rank = max(1, int(-(-q * len(data) // 100)))
        return data[min(rank, len(data)) - 1]


class TimedTransport(httpx.HTTPTransport):
    """A loopback HTTP transport that records each request's latency (body included) and status."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(retries=0)
        self.recorder = recorder

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        try:
            response = super().handle_request(request)
            response.read()
        except Exception:
            self.recorder.failed()
            raise
        self.recorder.record(time.perf_counter() - start, response.status_code)
        return response


def http_client(url: str, recorder: Recorder, token: str | None = None, *, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=url,
        transport=TimedTransport(recorder),
        auth=TokenAuth(token) if token else None,
        timeout=timeout,
    )


# ---------------------------------------------------------------------------- one load client

#: the key version both sides of a pair race to initialize
RACE_VERSION = "1700000000000"


@dataclass
class Ack:
    """One event the server acknowledged (2xx) to a client."""

    conversation: str  # canonical min:max
    message_id: str
    sequence_id: str
    encoded: str  # base64 MessageEvent as returned (messages); "" for key changes
    kind: str  # "message" or "key_change"


@dataclass
class LoadRun:
    """Shared state of one load run: N clients in pairs (2k, 2k+1)."""

    url: str
    clients: int
    recorder: Recorder
    prefix: str
    messages: int = 5
    #: keep sending (fault runs) until this is set; `messages` then is the minimum
    endless: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    #: set just before the server is killed on purpose: transport errors after it are expected
    killed: threading.Event = field(default_factory=threading.Event)
    users: dict[int, tuple[kit.client.SandboxUser, kit.PublicKeys]] = field(default_factory=dict)
    acks: list[Ack] = field(default_factory=list)
    #: what each client knows: its identity, the conversation's key and canonical id
    keys: dict[int, tuple[kit.Identity, bytes, str]] = field(default_factory=dict)
    init_outcomes: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    registered: threading.Barrier | None = None
    pair_barriers: dict[int, threading.Barrier] = field(default_factory=dict)

    def __post_init__(self) -> None:
        assert self.clients % 2 == 0
        self.registered = threading.Barrier(self.clients, timeout=60)
        self.pair_barriers = {k: threading.Barrier(2, timeout=60) for k in range(self.clients // 2)}

    def ack(self, a: Ack) -> None:
        with self.lock:
            self.acks.append(a)

    def acked_count(self) -> int:
        with self.lock:
            return len(self.acks)


def _event_seq(encoded_b64: str) -> str:
    return read_message_event(base64.b64decode(encoded_b64)).sequence_id


def run_participant(run: LoadRun, i: int) -> None:
    """One client: account, keys, the race to initialize with its partner, messages."""
    try:
        _participant(run, i)
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any
        expected = run.killed.is_set() and isinstance(exc, (httpx.TransportError, threading.BrokenBarrierError))
        if not expected:  # a server killed on purpose is not an error; anything else is
            with run.lock:
                run.errors.append(f"client {i}: {type(exc).__name__}: {exc}")
        # let the others get past the barriers instead of waiting for their timeout
        assert run.registered is not None
        run.registered.abort()
        run.pair_barriers[i // 2].abort()


def _participant(run: LoadRun, i: int) -> None:
    with Client(http_client(run.url, run.recorder)) as root:
        user = root.create_sandbox_user(f"{run.prefix}{i}")
    me = Client(http_client(run.url, run.recorder, user.access_token), user_id=user.id)
    try:
        identity = kit.Identity.generate(user.id, version="1")
        me.register_keys(identity)
        with run.lock:
            run.users[i] = (user, identity.public_keys)
        assert run.registered is not None
        run.registered.wait()
        partner_user, _ = run.users[i ^ 1]
        theirs = me.latest_public_keys(partner_user.id)
        init = kit.prepare_key_init(identity, [theirs], version=RACE_VERSION)
        run.pair_barriers[i // 2].wait()  # both sides of the pair send their init together
        try:
            result = me.add_conversation_keys(init)
            outcome = "won"
            key = init.conversation_key
            run.ack(Ack(init.conversation_id, init.message_id, result.sequence_id, "", "key_change"))
            again = me.add_conversation_keys(init)  # the same request again: the replay answer
            if again.sequence_id != result.sequence_id:
                raise AssertionError(f"replayed init got {again.sequence_id}, first answer {result.sequence_id}")
        except kit.Conflict:
            outcome = "409"
            page = me.get_events(init.path_id, max_results=1)
            if len(page.key_changes) != 1:
                raise AssertionError(f"{init.path_id}: {len(page.key_changes)} key changes after the race") from None
            key = kit.read_key_change(page.key_changes[0], recipient=identity, signing_keys=[theirs]).conversation_key
        with run.lock:
            run.init_outcomes.setdefault(init.conversation_id, []).append(outcome)
            run.keys[i] = (identity, key, init.conversation_id)
        sent = 0
        last = None
        while sent < run.messages or (run.endless and not run.stop.is_set()):
            pm = kit.prepare_message(
                identity,
                init.conversation_id,
                f"{i}:{sent}",
                conversation_key=key,
                conversation_key_version=RACE_VERSION,
            )
            encoded = me.send_message(pm)
            run.ack(Ack(init.conversation_id, pm.message_id, _event_seq(encoded), encoded, "message"))
            sent += 1
            last = (pm, encoded)
        if last is not None and not run.stop.is_set():
            pm, encoded = last
            if me.send_message(pm) != encoded:  # a retried send is answered, not stored twice
                raise AssertionError(f"replayed message {pm.message_id} got a different event")
    finally:
        me.close()


def run_load(run: LoadRun, *, timeout: float = 60.0) -> tuple[float, list[threading.Thread]]:
    """Start every client; return (seconds from start to the last client's end, the threads)."""
    threads = [threading.Thread(target=run_participant, args=(run, i), daemon=True) for i in range(run.clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return time.perf_counter() - start, threads


def all_events(client: Client, conversation: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Every message (as served, newest first, across pages) and the key-change events."""
    messages: list[dict[str, Any]] = []
    key_changes: list[str] = []
    for page in client.iter_events(conversation, max_results=100):
        messages.extend(page.raw.get("data", []))
        key_changes = page.key_changes
    return messages, key_changes


def verify_conversations(run: LoadRun, reader_tokens: dict[str, str]) -> dict[str, int]:
    """Every acknowledged event is served exactly once; sequence ids unique and increasing.

    `reader_tokens` maps each canonical conversation id to a participant's token.
    Returns counts (conversations, messages, key changes) for the report.
    """
    by_conv: dict[str, list[Ack]] = {}
    for a in run.acks:
        by_conv.setdefault(a.conversation, []).append(a)
    totals = Counter()
    recorder = Recorder()
    for conv, acks in by_conv.items():
        with Client(http_client(run.url, recorder, reader_tokens[conv])) as reader:
            messages, key_changes = all_events(reader, conv)
        served_ids = [m["id"] for m in messages]
        assert len(served_ids) == len(set(served_ids)), f"{conv}: a sequence id is served twice"
        # newest first, so strictly decreasing; as numbers (they are ~2.07e18, 19 digits)
        nums = [int(s) for s in served_ids]
        assert nums == sorted(nums, reverse=True) and len(set(nums)) == len(nums), f"{conv}: sequence ids out of order"
        events = {m["id"]: read_message_event(base64.b64decode(m["encoded_event"])) for m in messages}
        served_mids = Counter(e.message_id for e in events.values())
        assert all(n == 1 for n in served_mids.values()), f"{conv}: a message id is stored twice"
        for sid, event in events.items():
            assert event.sequence_id == sid
            assert isinstance(event.read_detail(), MessageCreateEvent)
        kc = [read_message_event(base64.b64decode(k)) for k in key_changes]
        assert len(kc) == 1, f"{conv}: {len(kc)} key changes, expected exactly the race winner's"
        assert isinstance(kc[0].read_detail(), KeyChangeDetail)
        assert all(int(kc[0].sequence_id) < n for n in nums), f"{conv}: a message is older than the key change"
        served_by_mid = {e.message_id: m for m, e in zip(messages, events.values(), strict=True)}
        for a in acks:
            if a.kind == "key_change":
                assert kc[0].message_id == a.message_id and kc[0].sequence_id == a.sequence_id, (
                    f"{conv}: acked key change lost"
                )
                totals["key_changes"] += 1
            else:
                served = served_by_mid.get(a.message_id)
                assert served is not None, f"{conv}: acknowledged message {a.message_id} is gone"
                assert served["encoded_event"] == a.encoded, f"{conv}: message {a.message_id} changed after its ack"
                totals["messages"] += 1
        totals["conversations"] += 1
        totals["served_messages"] += len(messages)
    return dict(totals)


def check_database(path: str | Path) -> dict[str, int]:
    """Open the SQLite file read-only: integrity ok, no half-written row, every event decodes."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (integrity,) = db.execute("PRAGMA integrity_check").fetchone()
        assert integrity == "ok", integrity
        rows = db.execute("SELECT seq, conversation_id, kind, message_id, encoded FROM events ORDER BY seq").fetchall()
        dupes = db.execute(
            "SELECT conversation_id, message_id, COUNT(*) FROM events GROUP BY 1, 2 HAVING COUNT(*) > 1"
        ).fetchall()
        assert not dupes, dupes
        for seq, conv, kind, mid, encoded in rows:
            assert encoded, f"event {seq} ({kind} {mid}) is stored without its bytes: half-written"
            event = read_message_event(bytes(encoded))
            assert event.message_id == mid and event.conversation_id == conv
            detail = event.read_detail()
            assert isinstance(detail, KeyChangeDetail if kind == "key_change" else MessageCreateEvent)
        members = db.execute("SELECT COUNT(*) FROM members").fetchone()[0]
        return {"events": len(rows), "members": members}
    finally:
        db.close()


# ---------------------------------------------------------------------------- the benchmark file

#: Every run's figures land here (untracked), so `make test` leaves the checkout clean.
RESULTS_FILE = REPO / "test-results" / "reliability.json"
#: The committed figures the README quotes: rewritten only with KIT_UPDATE_BENCHMARKS=1.
BENCHMARK_FILE = REPO / "benchmarks" / "reliability.json"


def record_benchmark(section: dict[str, Any]) -> None:
    """Merge measured figures into test-results/reliability.json (and, with
    KIT_UPDATE_BENCHMARKS=1, into the committed benchmarks/reliability.json)."""
    targets = [RESULTS_FILE] + ([BENCHMARK_FILE] if os.environ.get("KIT_UPDATE_BENCHMARKS") == "1" else [])
    for target in targets:
        target.parent.mkdir(exist_ok=True)
        try:
            data = json.loads(target.read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        for name, figures in section.items():
            # other work on the machine while measuring: figures from a busy machine are lower bounds
            data[name] = {**figures, "load_average_1min": round(os.getloadavg()[0], 2)}
        data["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0], "platform": sys.platform}
        target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")


# ---------------------------------------------------------------------------- secret scanning

_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_BEARER = re.compile(r"Bearer\s+(?!<)[A-Za-z0-9._~+/=-]{20,}")
_ACCESS_TOKEN = re.compile(r"""access_token["']?\s*[:=]\s*["']?(?!<|\[|\*)[A-Za-z0-9._~+/-]{16,}""")


def identity_secrets(identity: kit.Identity) -> list[str]:
    """The spellings of an identity's private keys a leak could take."""
    blob = identity.export_keys()
    out = [blob.hex(), blob[:32].hex(), blob[32:].hex(), base64.b64encode(blob).decode()]
    for half in (blob[:32], blob[32:]):
        out += [base64.b64encode(half).decode().rstrip("="), base64.urlsafe_b64encode(half).decode().rstrip("=")]
        out.append(str(int.from_bytes(half, "big")))
    return out


def find_secrets(text: str, known: Iterable[str] = ()) -> list[str]:
    """Key- and token-shaped strings in `text`: PEM private keys, bearer tokens, access_token values,
    and any of the `known` secrets (hex scalars, tokens) verbatim. Returns what was found."""
    found = [m.group(0)[:40] for rx in (_PEM, _BEARER, _ACCESS_TOKEN) for m in rx.finditer(text)]
    lowered = text.lower()
    for secret in known:
        if secret and (secret in text or (secret.isalnum() and secret.lower() in lowered and len(secret) >= 32)):
            found.append(f"known secret {secret[:6]}…")
    return found
