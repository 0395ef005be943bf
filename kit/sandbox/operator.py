"""The room operator's side of a sandbox: an operator token, and actions behind it over HTTP.

A served sandbox makes a random operator token at start (`new_operator_token`), prints it once
and writes it beside its database, owner-only (`write_token_file`); an in-process `Sandbox` has
one only when given (`Sandbox(operator_token=...)`, for tests). Every path under
`/sandbox/operator/` needs `Authorization: Bearer <operator token>`: anything else, a learner's
access token included, is a 403 problem. A learner's token is never an operator token: the
operator token is not in the users' tables, and learners' tokens are not compared with it.

`OPERATOR_ROUTES` is the table of actions (method, path template under the prefix, action
name); `Operator` routes to the handlers the sandbox gives it by name, so more actions (free a
name, reset the room, a dashboard) are one row and one handler each.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from kit.errors import APIError
from kit.sandbox.reply import Reply
from kit.sandbox.store import token_digest

__all__ = [
    "OPERATOR_PREFIX",
    "OPERATOR_ROUTES",
    "Operator",
    "OperatorCall",
    "new_operator_token",
    "operator_template",
    "token_file_for",
    "write_token_file",
]

OPERATOR_PREFIX = "/sandbox/operator/"

#: (method, path under OPERATOR_PREFIX, action). `{id}` is a user id, `{name}` a path segment.
OPERATOR_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "users/{id}/revoke", "revoke_user"),
    ("POST", "clients", "register_client"),
)

_SEGMENT = {"id": r"(?P<id>[1-9][0-9]{0,18})", "name": r"(?P<name>[^/]{1,64})"}


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    for name, regex in _SEGMENT.items():
        pattern = pattern.replace(re.escape("{" + name + "}"), regex)
    return re.compile(pattern)


_COMPILED = tuple((method, _compile(template), template, action) for method, template, action in OPERATOR_ROUTES)


def operator_template(method: str, path: str) -> str:
    """The operator route `path` matches, as a template (for logs), or the prefix and ``{unmatched}``."""
    rest = path[len(OPERATOR_PREFIX) :]
    for _, regex, template, _ in _COMPILED:
        if regex.fullmatch(rest):
            return OPERATOR_PREFIX + template
    return OPERATOR_PREFIX + "{unmatched}"


class OperatorCall:
    """One operator request: its path parameters, headers and raw body."""

    def __init__(self, params: dict[str, str], headers: dict[str, str], body: bytes) -> None:
        self.params = params
        self.headers = headers
        self.body = body


OperatorHandler = Callable[[OperatorCall], Reply]


def new_operator_token() -> str:
    """A fresh random operator token (256 bits from `secrets`)."""
    return "op_" + secrets.token_urlsafe(32)


def token_file_for(db: str) -> Path | None:
    """Where the operator token of a sandbox on `db` is written: beside a database file
    (``room.sqlite`` → ``room.sqlite.operator-token``); None for memory or a ``file:`` URI."""
    if db == ":memory:" or db.startswith("file:"):
        return None
    path = Path(db)
    return path.with_name(path.name + ".operator-token")


def write_token_file(path: Path, token: str) -> None:
    """Write the token to `path`, readable and writable by its owner only (0600), replacing any old one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: set it again
        os.write(fd, (token + "\n").encode("ascii"))
    finally:
        os.close(fd)


class Operator:
    """The operator token's digest and the operator actions it unlocks."""

    def __init__(self, token: str | None, handlers: Mapping[str, OperatorHandler]) -> None:
        if token is not None and (len(token) < 16 or not token.isascii() or not token.isprintable() or " " in token):
            raise ValueError("an operator token is at least 16 printable ASCII characters, no spaces")
        self._digest = token_digest(token) if token is not None else None
        missing = {action for _, _, action in OPERATOR_ROUTES} - set(handlers)
        if missing:
            raise ValueError(f"no handler for operator actions {sorted(missing)}")
        self._handlers = dict(handlers)

    @property
    def enabled(self) -> bool:
        return self._digest is not None

    def is_operator(self, headers: Mapping[str, str]) -> bool:
        """Whether the request carries `Authorization: Bearer <operator token>`."""
        if self._digest is None:
            return False
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return hmac.compare_digest(token_digest(token.strip()), self._digest)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Reply:
        """Answer a request under `OPERATOR_PREFIX`: 403 without the operator token, then 404/405."""
        if not self.is_operator(headers):
            why = "send 'Authorization: Bearer <operator token>'" if self.enabled else "this sandbox has no operator token"
            raise APIError.of(403, f"operator actions need the room's operator token: {why}", resource_type="operator")
        rest = path[len(OPERATOR_PREFIX) :]
        allowed = []
        for route_method, regex, _, action in _COMPILED:
            found = regex.fullmatch(rest)
            if found is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            return self._handlers[action](OperatorCall(found.groupdict(), headers, body))
        if allowed:
            raise APIError.of(405, f"{method} is not allowed on {path}", headers={"allow": ", ".join(allowed)})
        raise APIError.of(404, f"no operator action {method} {path}", resource_type="endpoint", value=path)
