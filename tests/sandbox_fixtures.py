"""Shared helpers for the sandbox tests: a served sandbox in a subprocess, the two doors, and an
independent check of every answer against the vendored OpenAPI document.

The response check does not use `kit.sandbox.schema` (the code under test): it reads the
document itself, finds the operation for each request, and validates the body against that
operation's schema for the status (or `default`), with jsonschema + referencing. It runs as an
httpx response hook, so every answer any test receives through a kit client is checked.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest

import kit
from kit.client import TokenAuth

REPO = Path(__file__).resolve().parent.parent
SPEC_PATH = REPO / "kit" / "spec" / "x-api-chat-openapi.json"
SPEC_URI = "urn:test:x-api-openapi"
PROBLEM_BASE = "https://api.x.com/2/problems/"
#: Text that must never appear in an answer (a stack trace, a Python exception repr).
LEAK_MARKERS = ("Traceback", 'File "', "sqlite3", "Error(", "/work/", ".py\"")

_METHODS = ("get", "post", "put", "patch", "delete")


# ----------------------------------------------------------------------------- OpenAPI answer check


class OpenAPIResponses:
    """The document's response schemas, and a check of one HTTP answer against them."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        from jsonschema import Draft202012Validator, FormatChecker
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.document: dict[str, Any] = json.loads(path.read_text("utf-8"))
        self.registry = Registry().with_resource(SPEC_URI, Resource(contents=self.document, specification=DRAFT202012))
        self._validator_cls = Draft202012Validator
        self._formats = FormatChecker(formats=["date-time"])
        self.templates: list[tuple[re.Pattern[str], str, str, dict[str, Any]]] = []
        for template, item in self.document["paths"].items():
            regex = re.compile("^" + re.sub(r"\\\{\w+\\\}", r"[^/]+", re.escape(template)) + "$")
            for method in _METHODS:
                if method in item:
                    self.templates.append((regex, method.upper(), template, item[method]))
        # Literal segments win: /2/users/public_keys before /2/users/{id}/public_keys.
        self.templates.sort(key=lambda t: t[2].count("{"))
        self._cache: dict[str, Any] = {}

    def validator(self, pointer: str) -> Any:
        if pointer not in self._cache:
            self._cache[pointer] = self._validator_cls(
                {"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry, format_checker=self._formats
            )
        return self._cache[pointer]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        for regex, m, template, op in self.templates:
            if m == method.upper() and regex.match(path):
                return template, op
        return None

    def errors(self, pointer: str, body: Any) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in self.validator(pointer).iter_errors(body)
        ]

    def check(self, method: str, path: str, status: int, content_type: str, text: str) -> None:
        """Assert one answer is what the document allows; raise AssertionError naming the problem."""
        where = f"{method} {path} -> {status}"
        assert status != 500, f"{where}: the sandbox answered 500: {text[:300]}"
        for marker in LEAK_MARKERS:
            assert marker not in text, f"{where}: answer leaks {marker!r}: {text[:300]}"
        ctype = content_type.split(";", 1)[0].strip()
        body = json.loads(text) if text else None
        if status >= 400:
            assert ctype == "application/problem+json", f"{where}: problem answered as {ctype!r}"
            problems = self.errors("/components/schemas/Problem", body)
            assert not problems, f"{where}: problem body breaks the Problem schema: {problems} in {body}"
            assert body.get("status") == status, f"{where}: problem status {body.get('status')} != HTTP {status}"
            assert body["type"].startswith(PROBLEM_BASE), body
            assert body["detail"].strip(), f"{where}: empty detail"
        if path == "/sandbox/users":  # sandbox-only, not in the document
            if status == 201:
                data = body["data"]
                assert set(data) == {"id", "username", "access_token"}, data
                assert re.fullmatch(r"[0-9]{1,19}", data["id"]), data["id"]
                assert len(data["access_token"]) >= 32
            return
        if path.startswith("/sandbox/") or path == "/2/oauth2/token":  # OAuth and operator: sandbox-only too
            return
        found = self.operation(method, path)
        if found is None:
            assert status >= 400, f"{where}: success for a path not in the document"
            return
        template, op = found
        responses = op["responses"]
        key = str(status) if str(status) in responses else "default"
        assert key in responses, f"{where}: status {status} is not a response of {op['operationId']}"
        if 200 <= status < 300:
            assert key != "default", f"{where}: {op['operationId']} documents {sorted(responses)}, not {status}"
        content = responses[key].get("content", {})
        assert ctype in content, f"{where}: content type {ctype!r} not in {sorted(content)} for {op['operationId']}"
        ref = content[ctype]["schema"].get("$ref")
        assert ref, f"{where}: inline response schema"
        problems = self.errors(ref[1:], body)
        assert not problems, f"{where}: answer breaks {ref}: {problems}\n{json.dumps(body)[:600]}"

    def check_response(self, response: httpx.Response) -> None:
        response.read()
        self.check(
            response.request.method,
            response.request.url.path,
            response.status_code,
            response.headers.get("content-type", ""),
            response.text,
        )


@cache
def openapi() -> OpenAPIResponses:
    return OpenAPIResponses()


@dataclass
class AnswerLog:
    """Every answer checked in a test (method, path, status), for tests that count them."""

    seen: list[tuple[str, str, int]] = field(default_factory=list)

    def hook(self, response: httpx.Response) -> None:
        openapi().check_response(response)
        self.seen.append((response.request.method, response.request.url.path, response.status_code))


# ----------------------------------------------------------------------------- the served sandbox


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServedSandbox:
    """`python -m kit sandbox` in a subprocess on a free 127.0.0.1 port, its stdout and stderr
    appended to `log`. `db` is passed as `--db` (a path or a SQLite URI), `rate_limit` as `--rate-limit`;
    without one the server runs with `--no-rate-limit` (tests make many users from one address), and
    `rate_limit="room"` starts it exactly as the README says (the room's default limits). `extra` are
    more arguments."""

    db: Path | str | None
    log: Path
    rate_limit: int | str | None = None
    extra: tuple[str, ...] = ()
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    @property
    def banner(self) -> dict[str, Any]:
        """The start-up line of the current process (the log is appended to across restarts)."""
        mark = f'{{"sandbox": "http://127.0.0.1:{self.port}"'
        lines = [line for line in self.log_text().splitlines() if line.startswith(mark)]
        assert lines, f"no start-up line for port {self.port}"
        return dict(json.loads(lines[-1]))

    @property
    def operator_token(self) -> str:
        """The operator token this process printed at start."""
        return str(self.banner["operator_token"])

    def start(self, timeout: float = 30.0) -> ServedSandbox:
        """Start the server; return once it answers HTTP (401 to an anonymous request)."""
        self.port = free_port()
        args = [sys.executable, "-m", "kit", "sandbox", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.db is not None:
            args += ["--db", str(self.db)]
        if self.rate_limit is None:
            args += ["--no-rate-limit"]
        elif self.rate_limit != "room":
            args += ["--rate-limit", str(self.rate_limit)]
        args += list(self.extra)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("X_API_BASE_URL", None)
        env.pop("X_API_USER_TOKEN", None)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                args, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox server exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                r = httpx.get(self.url + "/2/users/1/public_keys", timeout=1.0)
                if r.status_code == 401:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sandbox server did not answer within {timeout} s:\n{self.log_text()}")

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no flush."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        """Graceful stop (SIGTERM: uvicorn shuts down as on Ctrl-C); kill if it hangs. Idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@contextmanager
def served_sandbox(
    log: Path,
    *,
    db: Path | str | None = None,
    rate_limit: int | str | None = None,
    extra: tuple[str, ...] = (),
    timeout: float = 30.0,
) -> Iterator[ServedSandbox]:
    """A started `ServedSandbox`, stopped on exit."""
    server = ServedSandbox(db=db, log=log, rate_limit=rate_limit, extra=extra).start(timeout=timeout)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSandbox]:
    """One served sandbox per test module (with a SQLite file, as a workshop would run it)."""
    d = tmp_path_factory.mktemp("served")
    with served_sandbox(d / "server.log", db=d / "sandbox.sqlite") as server:
        yield server


# ----------------------------------------------------------------------------- the two doors


def username() -> str:
    """A fresh sandbox username (1 to 15 letters, digits or '_'; unique per served sandbox)."""
    return "u" + secrets.token_hex(6)


def with_hooks(client: kit.Client, log: AnswerLog) -> kit.Client:
    client.http.event_hooks["response"].append(log.hook)
    return client


def raw_client(root: kit.Client, token: str | None = None) -> httpx.Client:
    """A bare httpx client on the same door as `root` (same transport, same answer checks),
    with `Authorization: Bearer token` when a token is given."""
    return httpx.Client(
        transport=root.http._transport,
        base_url=root.http.base_url,
        auth=TokenAuth(token) if token else None,
        event_hooks={"response": list(root.http.event_hooks["response"])},
    )


@dataclass
class Party:
    """A sandbox user: its client (acting as it) and its registered identity."""

    client: kit.Client
    identity: kit.Identity

    @property
    def id(self) -> str:
        assert self.client.user_id is not None
        return self.client.user_id

    @property
    def keys(self) -> kit.PublicKeys:
        return self.identity.public_keys


def party(root: kit.Client, *, register: bool = True, user_id: str | None = None) -> Party:
    client = root.sandbox_user(username(), user_id=user_id)
    assert client.user_id is not None
    identity = kit.Identity.generate(client.user_id)
    if register:
        assert client.register_keys(identity) == identity.version
    return Party(client, identity)


def pair_path(a: Party, b: Party) -> str:
    lo, hi = sorted((a.id, b.id), key=int)
    return f"{lo}-{hi}"


Connect = Callable[[], kit.Client]


@pytest.fixture
def answers() -> AnswerLog:
    return AnswerLog()


@pytest.fixture(params=["inprocess", "served"])
def door(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def connect(door: str, request: pytest.FixtureRequest, answers: AnswerLog) -> Iterator[Connect]:
    """A factory of anonymous root clients on one door; `.sandbox_user(name)` makes users.

    In-process: a fresh `Sandbox` per test. Served: the module's server (fresh users per test).
    Every answer goes through the OpenAPI check.
    """
    clients: list[kit.Client] = []
    if door == "inprocess":
        from kit.sandbox import Sandbox

        sandbox = Sandbox()

        def make() -> kit.Client:
            c = with_hooks(kit.connect(sandbox=sandbox, quiet=True), answers)
            clients.append(c)
            return c

    else:
        server: ServedSandbox = request.getfixturevalue("served")

        def make() -> kit.Client:
            c = with_hooks(kit.connect(base_url=server.url, quiet=True), answers)
            clients.append(c)
            return c

    yield make
    for c in clients:
        c.close()
