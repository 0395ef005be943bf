"""What the sandbox answers: a `Reply` (status, headers, body), as JSON or as an RFC 7807 problem."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kit.errors import APIError

__all__ = ["Reply", "hide_token", "json_reply", "problem_reply"]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers, body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def json_reply(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
    """An `application/json` answer holding `data`, compactly encoded."""
    body = json.dumps(data, separators=(",", ":")).encode()
    return Reply(status, {"content-type": "application/json", **(headers or {})}, body)


def problem_reply(err: APIError) -> Reply:
    """The `application/problem+json` answer for an error."""
    body = json.dumps(err.problem.to_dict(), separators=(",", ":")).encode()
    return Reply(err.status, {"content-type": "application/problem+json", **err.headers}, body)


def hide_token(reply: Reply, headers: Mapping[str, str]) -> Reply:
    """A problem never echoes the caller's bearer token (pasted into a path id or a parameter)."""
    token = headers.get("authorization", "").partition(" ")[2].strip()
    if len(token) < 8 or token.encode("utf-8", "replace") not in reply.body:
        return reply
    return Reply(reply.status, reply.headers, reply.body.replace(token.encode("utf-8", "replace"), b"<token hidden>"))
