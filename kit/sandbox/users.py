"""Sandbox users and their access tokens: create, issue, revoke, authenticate."""

from __future__ import annotations

import secrets
from typing import Any

from kit.errors import APIError, KitError
from kit.ids import INT64_MAX, check_user_id
from kit.sandbox.calls import Context
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import token_digest

__all__ = ["Users"]


class Users:
    """The users table: who exists, and which token acts as whom (only digests are stored)."""

    def __init__(self, context: Context) -> None:
        self.ctx = context

    def exists(self, user_id: str) -> bool:
        return bool(self.ctx.store.read("SELECT 1 FROM users WHERE id = ?", (user_id,)))

    def missing(self, user_ids: list[str]) -> list[str]:
        """Those of `user_ids` that are no user of this sandbox, in their order (a few queries, not one per id)."""
        found: set[str] = set()
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(str(r[0]) for r in self.ctx.store.read(f"SELECT id FROM users WHERE id IN ({marks})", tuple(chunk)))
        return [u for u in user_ids if u not in found]

    def authenticate(self, headers: dict[str, str]) -> str:
        """The user id the bearer token acts as, or a 401."""
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if not auth:
            raise APIError.of(401, "no Authorization header: send 'Authorization: Bearer <access token>'", resource_type="user")
        if scheme.lower() != "bearer" or not token.strip():
            raise APIError.of(401, "Authorization header must be 'Bearer <access token>'", resource_type="user")
        rows = self.ctx.store.read("SELECT id FROM users WHERE token_digest = ? AND revoked = 0", (token_digest(token.strip()),))
        if not rows:
            raise APIError.of(401, "the access token is not one this sandbox issued (or it was revoked)", resource_type="user")
        return str(rows[0][0])

    def create(self, body: Any) -> Reply:
        """POST /sandbox/users (sandbox-only): a new user and its first access token."""
        if not isinstance(body, dict) or not isinstance(body.get("username"), str):
            raise APIError.of(400, "$.username is required: a string of 1 to 15 letters, digits or '_'", parameter="username")
        username = body["username"]
        if not (1 <= len(username) <= 15) or not all(c.isascii() and (c.isalnum() or c == "_") for c in username):
            raise APIError.of(
                400, f"$.username must be 1 to 15 letters, digits or '_', got {username!r}", parameter="username", value=username
            )
        user_id = body.get("id")
        if user_id is not None:
            try:  # ASCII, no leading zero, an i64: "0000000000000000001" is refused, not a second user "1"
                check_user_id(user_id, what="$.id", i64=True)
            except KitError as exc:
                raise APIError.of(400, str(exc), parameter="id") from None
        token = secrets.token_urlsafe(32)
        with self.ctx.store.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise APIError.of(409, f"username {username!r} is taken in this sandbox", parameter="username", value=username)
            if user_id is None:
                while True:
                    user_id = str(10**18 + secrets.randbelow(INT64_MAX - 10**18))  # 19 digits, an i64
                    if not db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                        break
            elif db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                raise APIError.of(409, f"user id {user_id} is taken in this sandbox", parameter="id", value=user_id)
            db.execute("INSERT INTO users (id, username, token_digest) VALUES (?, ?, ?)", (user_id, username, token_digest(token)))
        return json_reply(201, {"data": {"id": user_id, "username": username, "access_token": token}})

    def issue_token(self, user_id: str) -> str:
        """A fresh access token for an existing user (the OAuth token endpoint's answer).

        A sandbox user has one live token at a time: issuing a new one replaces the old."""
        token = secrets.token_urlsafe(32)
        with self.ctx.store.transaction() as db:
            db.execute("UPDATE users SET token_digest = ?, revoked = 0 WHERE id = ?", (token_digest(token), user_id))
        return token

    def revoke(self, user_id: str) -> None:
        """Revoke a user's access token."""
        with self.ctx.store.transaction() as db:
            db.execute("UPDATE users SET revoked = 1 WHERE id = ?", (user_id,))
