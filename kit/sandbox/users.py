"""Sandbox users and their access tokens: create, issue, refresh, revoke, authenticate.

Two kinds of token act as a user:

- the one `POST /sandbox/users` answers with (one per user, kept in `users`): it does not expire,
  as a developer's app token for a workshop of a few hours; only a revocation ends it;
- the ones the OAuth token endpoint issues (in `tokens`): access tokens expire after
  `ACCESS_TOKEN_TTL_S` (the `expires_in` announced), refresh tokens (with `offline.access`) are
  single-use and rotate on every refresh.

Issuing a token never ends another one and never clears a revocation: a stolen token traded
through OAuth for a new one does not lock the owner out, and a revoked user stays revoked (all
their tokens deleted, `users.revoked` set). Ending a thief's access is the operator's revoke.
"""

from __future__ import annotations

import secrets
from typing import Any

from kit.errors import APIError, KitError
from kit.ids import INT64_MAX, check_user_id
from kit.sandbox.calls import Context
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import token_digest

__all__ = ["ACCESS_TOKEN_TTL_S", "MAX_LIVE_TOKENS", "REFRESH_TOKEN_TTL_S", "Users"]

#: How long an OAuth access token works (the X API's: 2 hours).
ACCESS_TOKEN_TTL_S = 7200
#: How long an unused refresh token works (each refresh answers a new one).
REFRESH_TOKEN_TTL_S = 30 * 24 * 3600
#: Live OAuth tokens (access and refresh) one user may hold; more is a 429 until some expire.
MAX_LIVE_TOKENS = 40


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
        digest = token_digest(token.strip())
        rows = self.ctx.store.read(
            "SELECT id FROM users WHERE token_digest = ? AND revoked = 0 UNION ALL "
            "SELECT t.user_id FROM tokens t JOIN users u ON u.id = t.user_id "
            "WHERE t.digest = ? AND t.kind = 'access' AND t.expires_at > ? AND u.revoked = 0",
            (digest, digest, self.ctx.now_ms()),
        )
        if rows:
            return str(rows[0][0])
        if self.ctx.store.read("SELECT 1 FROM tokens WHERE digest = ? AND kind = 'access'", (digest,)):
            raise APIError.of(
                401, "the access token expired: refresh it (grant_type=refresh_token) or authorize again", resource_type="user"
            )
        raise APIError.of(401, "the access token is not one this sandbox issued (or it was revoked)", resource_type="user")

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

    def issue_tokens(self, user_id: str, client_id: str, scope: str, *, refresh: bool) -> tuple[str, str | None]:
        """A new OAuth access token for `user_id` (and a refresh token when `refresh`), beside
        the user's other tokens; a 400 when the user was revoked, a 429 past `MAX_LIVE_TOKENS`."""
        access = secrets.token_urlsafe(32)
        refresh_token = secrets.token_urlsafe(32) if refresh else None
        now = self.ctx.now_ms()
        with self.ctx.store.transaction() as db:
            self._check_grantable(db, user_id, now, 2 if refresh else 1)
            self._insert(db, access, user_id, "access", client_id, scope, now + ACCESS_TOKEN_TTL_S * 1000)
            if refresh_token is not None:
                self._insert(db, refresh_token, user_id, "refresh", client_id, scope, now + REFRESH_TOKEN_TTL_S * 1000)
        return access, refresh_token

    def refresh(self, refresh_token: str, client_id: str) -> tuple[str, str, str, str]:
        """Trade a refresh token (used up) for a new access and refresh token with the same scope:
        (user_id, access, refresh, scope). A 400 for a token that is unknown, used, expired,
        another client's or its user's revoked."""
        access, new_refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self.ctx.now_ms()
        with self.ctx.store.transaction() as db:
            row = db.execute(
                "SELECT t.user_id, t.client_id, t.scope FROM tokens t JOIN users u ON u.id = t.user_id "
                "WHERE t.digest = ? AND t.kind = 'refresh' AND t.expires_at > ? AND u.revoked = 0",
                (token_digest(refresh_token), now),
            ).fetchone()
            if row is None or row[1] != client_id:
                raise APIError.of(400, "token: the refresh_token is unknown, used, expired or another client's", parameter="refresh_token")
            user_id, _, scope = (str(v) for v in row)
            db.execute("DELETE FROM tokens WHERE digest = ?", (token_digest(refresh_token),))
            self._check_grantable(db, user_id, now, 2)
            self._insert(db, access, user_id, "access", client_id, scope, now + ACCESS_TOKEN_TTL_S * 1000)
            self._insert(db, new_refresh, user_id, "refresh", client_id, scope, now + REFRESH_TOKEN_TTL_S * 1000)
        return user_id, access, new_refresh, scope

    @staticmethod
    def _check_grantable(db: Any, user_id: str, now: int, adding: int) -> None:
        revoked = db.execute("SELECT revoked FROM users WHERE id = ?", (user_id,)).fetchone()
        if revoked is None or revoked[0]:
            raise APIError.of(400, "token: this user's access was revoked by the room's operator")
        db.execute("DELETE FROM tokens WHERE user_id = ? AND expires_at <= ?", (user_id, now))
        live = db.execute("SELECT COUNT(*) FROM tokens WHERE user_id = ?", (user_id,)).fetchone()[0]
        if live + adding > MAX_LIVE_TOKENS:
            raise APIError.of(
                429,
                f"token: this user already holds {live} live tokens (at most {MAX_LIVE_TOKENS}); use one, or wait until some expire",
                resource_type="token",
            )

    @staticmethod
    def _insert(db: Any, token: str, user_id: str, kind: str, client_id: str, scope: str, expires_at: int) -> None:
        db.execute(
            "INSERT INTO tokens (digest, user_id, kind, client_id, scope, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            (token_digest(token), user_id, kind, client_id, scope, expires_at),
        )

    def revoke(self, user_id: str) -> bool:
        """Revoke every token of a user, for good (no token issued later clears it). False if no such user."""
        with self.ctx.store.transaction() as db:
            found = db.execute("UPDATE users SET revoked = 1 WHERE id = ?", (user_id,)).rowcount > 0
            db.execute("DELETE FROM tokens WHERE user_id = ?", (user_id,))
        return found
