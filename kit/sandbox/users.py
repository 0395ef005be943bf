"""Sandbox users and their access tokens: create, issue, revoke, authenticate."""

from __future__ import annotations

import secrets
from typing import Any

from kit.errors import APIError
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
        if user_id is not None and (not isinstance(user_id, str) or not user_id.isdigit() or not 1 <= len(user_id) <= 19):
            raise APIError.of(400, f"$.id must be 1 to 19 digits, got {user_id!r}", parameter="id")
        token = secrets.token_urlsafe(32)
        with self.ctx.store.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise APIError.of(409, f"username {username!r} is taken in this sandbox", parameter="username", value=username)
            if user_id is None:
                while True:
                    user_id = str(secrets.randbelow(9 * 10**18) + 10**18)
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
