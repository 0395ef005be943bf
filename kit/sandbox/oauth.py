"""The sandbox's OAuth 2.0 authorization-code + PKCE endpoints, to practise getting a user token.

- `GET /sandbox/oauth2/authorize?response_type=code&client_id=…&redirect_uri=…&state=…&code_challenge=…&code_challenge_method=S256`
  with `Authorization: Bearer <sandbox token>` stands for "the user logged in and approved": it answers
  302 to `redirect_uri?code=…&state=…` (no login page in a sandbox).
- `POST /2/oauth2/token` (form: grant_type=authorization_code, code, redirect_uri, client_id,
  code_verifier) checks the PKCE verifier and answers `{"token_type": "bearer", "access_token": …}`.

Codes are single-use and expire after 10 minutes; the access token is a fresh sandbox token for the user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from kit.errors import APIError

__all__ = ["OAuthCodes"]

_TTL_S = 600.0


@dataclass(frozen=True)
class _Grant:
    user_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    expires: float


class OAuthCodes:
    """Outstanding authorization codes (in memory: a code is short-lived by design)."""

    def __init__(self) -> None:
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def authorize(self, user_id: str, query: list[tuple[str, str]], now: float) -> tuple[int, dict[str, str], bytes]:
        q = dict(query)
        for name in ("response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method"):
            if not q.get(name):
                raise APIError.of(400, f"authorize: query parameter {name} is required", parameter=name)
        if q["response_type"] != "code":
            raise APIError.of(400, "authorize: response_type must be 'code'", parameter="response_type", value=q["response_type"])
        if q["code_challenge_method"] != "S256":
            raise APIError.of(400, "authorize: code_challenge_method must be 'S256'", parameter="code_challenge_method")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes = {c: g for c, g in self._codes.items() if g.expires > now}
            self._codes[code] = _Grant(user_id, q["client_id"], q["redirect_uri"], q["code_challenge"], q.get("scope", ""), now + _TTL_S)
        sep = "&" if "?" in q["redirect_uri"] else "?"
        location = q["redirect_uri"] + sep + urlencode({"code": code, "state": q["state"]})
        return 302, {"location": location, "content-type": "text/plain"}, b""

    def token(self, body: bytes, now: float) -> tuple[str, str]:
        """Check a token request; return (user_id, scope) for the caller to issue a token."""
        try:
            form = dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))
        except UnicodeDecodeError:
            form = {}
        if form.get("grant_type") != "authorization_code":
            raise APIError.of(400, "token: grant_type must be 'authorization_code'", parameter="grant_type")
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires <= now:
            raise APIError.of(400, "token: the code is unknown, used or expired", parameter="code")
        if form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            raise APIError.of(400, "token: client_id and redirect_uri must equal those of the authorize request", parameter="redirect_uri")
        verifier = form.get("code_verifier", "")
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if not hmac.compare_digest(expected, grant.challenge):
            raise APIError.of(400, "token: code_verifier does not match the code_challenge (PKCE S256)", parameter="code_verifier")
        return grant.user_id, grant.scope

    @staticmethod
    def token_reply(access_token: str, scope: str) -> bytes:
        return json.dumps({"token_type": "bearer", "access_token": access_token, "scope": scope, "expires_in": 7200}).encode()
