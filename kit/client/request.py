"""One request to the X API: bearer-token auth, a rate-limited (429) answer retried, the error
answer read into a `Problem`, and this client's own token blanked out of what a server echoed.

`kit.client.Client.request` is `send` over the client's `httpx.Client`; the transport under it is
the seam (the in-process sandbox, a sandbox server, the live API: the same code here).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from kit.errors import APIError, Problem

__all__ = ["MAX_RETRY_WAIT", "TokenAuth", "now", "redact", "retry_delay", "send", "sleep"]


class TokenAuth(httpx.Auth):
    """`Authorization: Bearer <token>`; the token never shows in a repr, str or error."""

    def __init__(self, token: str) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValueError("access token must be a non-empty string")
        self._token = token.strip()

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "TokenAuth(<hidden>)"


def send(
    http: httpx.Client,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
    max_retries: int = 0,
) -> dict[str, Any]:
    """Send one request over `http`; return the JSON answer, or raise the `APIError` for its problem.

    A 429 answer is sent again up to `max_retries` times, each after `retry_delay`.
    """
    response = http.request(method, path, json=json, params=params)
    for attempt in range(max_retries):  # a 429 was not processed: sending it again is safe
        if response.status_code != 429:
            break
        sleep(retry_delay(response, attempt))
        response = http.request(method, path, json=json, params=params)
    ctype = response.headers.get("content-type", "")
    if response.is_success:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise APIError.of(502, f"{method} {path} answered {response.status_code} with a body that is not JSON") from None
    try:
        data = response.json() if response.content else {}
    except ValueError:
        data = {}
    if "problem+json" in ctype or {"type", "title"} <= set(data):
        problem = Problem.from_dict(data, status=response.status_code)
    elif {"code", "message"} <= set(data):  # the document's other error shape
        problem = Problem("about:blank", "Error", str(data["message"]), response.status_code, {"code": data["code"]})
    else:
        problem = Problem("about:blank", response.reason_phrase, f"{method} {path} failed", response.status_code)
    raise APIError.from_problem(redact(problem, http), status=response.status_code, response=response)


def redact(problem: Problem, http: httpx.Client) -> Problem:
    """The problem with the token of `http` blanked out, wherever a server echoed it
    (a token pasted into a path or a parameter comes back in the detail)."""
    secret = http.auth._token if isinstance(http.auth, TokenAuth) else None
    if not secret or secret not in repr(problem.to_dict()):
        return problem

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(secret, "<token hidden>")
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items()}
        return value

    return Problem(scrub(problem.type), scrub(problem.title), scrub(problem.detail), problem.status, scrub(problem.extra))


def now() -> float:
    """The time now, in epoch seconds (a seam for tests of retry timing)."""
    return time.time()


def sleep(seconds: float) -> None:
    """Wait `seconds` (a seam for tests of retry timing: they never sleep for real)."""
    time.sleep(seconds)


#: the longest a retry waits (the live API's rate-limit window is 15 minutes)
MAX_RETRY_WAIT = 15 * 60.0


def retry_delay(response: httpx.Response, attempt: int) -> float:
    """Seconds to wait before retrying a 429: until `x-rate-limit-reset` (epoch seconds) or for
    `Retry-After` seconds when the answer says, else exponential backoff (1, 2, 4, ... s)."""
    backoff = float(min(2**attempt, 60))
    reset = response.headers.get("x-rate-limit-reset", "")
    if reset.isdigit():
        wait = int(reset) - now()
        return min(wait, MAX_RETRY_WAIT) if wait > 0 else backoff
    after = response.headers.get("retry-after", "")
    if after.isdigit():
        return min(float(after), MAX_RETRY_WAIT)
    return backoff
