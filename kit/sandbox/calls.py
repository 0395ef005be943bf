"""One call to the sandbox: the routed request, the state it works on, its JSON body, rate limit and pages."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kit.encoding import b64, from_b64
from kit.errors import APIError, KitError
from kit.sandbox.limits import CONVERSATION_QUOTA_BYTES
from kit.sandbox.store import Store

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "Call",
    "Context",
    "RateLimit",
    "iso_time",
    "json_depth",
    "paginate",
    "read_headers",
    "read_json_body",
    "request_digest",
]

#: Largest request body the sandbox reads (a 10,000-participant init is about 3 MB).
MAX_BODY_BYTES = 8 * 1024 * 1024

#: Deepest JSON nesting a body may have (the X API bodies here are at most 5 levels deep).
MAX_JSON_DEPTH = 32


@dataclass(frozen=True)
class Context:
    """What every resource of the sandbox works on: the store, the clock, and how many bytes
    of events one conversation may hold."""

    store: Store
    clock: Callable[[], float]
    conversation_quota_bytes: int = CONVERSATION_QUOTA_BYTES

    def now_ms(self) -> int:
        """The clock's time in whole milliseconds (how the store records it)."""
        return int(self.clock() * 1000)


@dataclass
class Call:
    """One routed request: its operation, path parameters, parsed query and body, and caller."""

    op_id: str
    params: dict[str, str]
    query: dict[str, Any]
    body: Any
    raw_body: bytes
    caller: str | None = None


def request_digest(call: Call) -> str:
    """The digest that tells a replay (same request) from a reused message id (a different one)."""
    return hashlib.sha256(json.dumps(call.body, sort_keys=True).encode()).hexdigest()


@dataclass
class RateLimit:
    """A per-user, per-endpoint window like the live API's (off unless configured)."""

    limit: int
    window_s: float = 900.0
    _hits: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def check(self, user: str, op_id: str, now: float) -> dict[str, str]:
        hits = [t for t in self._hits.get((user, op_id), []) if now - t < self.window_s]
        reset = int((hits[0] if hits else now) + self.window_s)
        if len(hits) >= self.limit:
            self._hits[(user, op_id)] = hits
            headers = {"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
            raise APIError.of(
                429,
                f"rate limit of {self.limit} requests per {int(self.window_s)} s reached for {op_id}; retry after x-rate-limit-reset",
                headers=headers,
                resource_type="rate-limit",
            )
        hits.append(now)
        self._hits[(user, op_id)] = hits
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.limit - len(hits)),
            "x-rate-limit-reset": str(reset),
        }


#: Headers a request may carry once: with two, which one counts would be the server's guess.
SINGLE_HEADERS = ("authorization", "content-type")


def read_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """The request's headers by lower-cased name; a 400 naming the header when one of
    `SINGLE_HEADERS` comes twice (two `Authorization` headers: neither is trusted)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in out and key in SINGLE_HEADERS:
            raise APIError.of(400, f"the {key} header is sent more than once; send it once", parameter=key)
        out[key] = value
    return out


def read_json_body(body: bytes, headers: dict[str, str], *, required: bool) -> Any:
    """The request body as JSON (None when empty and not required), or a 400 saying why not."""
    if not body:
        if required:
            raise APIError.of(400, "request body is required (JSON)", parameter="body")
        return None
    ctype = headers.get("content-type", "")
    if ctype.split(";", 1)[0].strip().lower() != "application/json":
        got = f"content-type {ctype[:80]!r}" if ctype else "no content-type"
        raise APIError.of(415, f"a JSON request body needs content-type application/json, got {got}", parameter="content-type")
    try:
        parsed = json.loads(body)
    except RecursionError:
        raise APIError.of(400, "request body is not valid JSON here: nested too deeply", parameter="body") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise APIError.of(400, f"request body is not valid JSON: {exc}", parameter="body") from None
    if json_depth(parsed) > MAX_JSON_DEPTH:
        raise APIError.of(
            400, f"request body is nested more than {MAX_JSON_DEPTH} levels deep; no X API body is", parameter="body"
        )
    return parsed


def json_depth(value: Any) -> int:
    """How deeply `value` nests (a scalar or an empty container is 1), counted level by level up
    to one past the limit: never recursing, so a hostile body cannot exhaust the stack."""
    level = 1
    frontier = [value] if type(value) in (dict, list) else []
    while frontier and level <= MAX_JSON_DEPTH:
        inner = []
        has_child = False
        for node in frontier:
            for v in node.values() if type(node) is dict else node:
                has_child = True
                if type(v) is dict or type(v) is list:
                    inner.append(v)
        level += has_child
        frontier = inner
    return level


def iso_time(ms: int) -> str:
    """A stored millisecond time as the API's ISO 8601 UTC text."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def paginate(items: list[Any], query: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """One page of `items` for `max_results` / `pagination_token`, and the page's `meta`."""
    size = int(query.get("max_results", 10))
    token = query.get("pagination_token")
    start = 0
    if token is not None:
        try:
            text = from_b64(token, what="pagination_token", max_len=40).decode("ascii")
            if not text.isdigit() or len(text) > 12:  # ASCII digits only: int() also reads " 1", "+1", "1_0"
                raise ValueError(text)
            start = int(text)
        except (KitError, ValueError, UnicodeDecodeError):
            raise APIError.of(400, "pagination_token is not one this sandbox issued", parameter="pagination_token", value=str(token)) from None
        if not 0 <= start <= len(items):
            raise APIError.of(400, "pagination_token is out of range", parameter="pagination_token", value=str(token))
    page = items[start : start + size]
    meta: dict[str, Any] = {"result_count": len(page), "has_more": start + size < len(items)}
    if meta["has_more"]:
        meta["next_token"] = b64(str(start + size).encode())
    return page, meta
