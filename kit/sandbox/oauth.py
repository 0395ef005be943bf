"""The sandbox's OAuth 2.0 authorization-code + PKCE endpoints, to practise getting a user token.

- `GET /sandbox/oauth2/authorize?response_type=code&client_id=…&redirect_uri=…&scope=…&state=…&code_challenge=…&code_challenge_method=S256`
  with `Authorization: Bearer <sandbox token>` stands for "the user logged in and approved": it answers
  302 to `redirect_uri?code=…&state=…` (no login page in a sandbox). The client must be registered
  (`oauth_clients`), the redirect URI one of its own exactly, every scope one of the X API's.
- `POST /2/oauth2/token` (form, `application/x-www-form-urlencoded`):
  `grant_type=authorization_code` (code, redirect_uri, client_id, code_verifier) checks the PKCE
  verifier; `grant_type=refresh_token` (refresh_token, client_id) trades a refresh token for new
  ones. Answers `{"token_type": "bearer", "access_token", "expires_in": 7200, "scope"}`, with a
  `refresh_token` when the scope holds `offline.access`.

Codes are single-use and expire after `CODE_TTL_S`; a user holds at most `MAX_CODES_PER_USER`
outstanding (a 429 beyond); they are kept per user, and expired ones are dropped oldest first, so
an authorize never scans other users' codes. Revoking a user deletes their codes (`forget_user`).
Any parameter with a control character, sent twice or over `MAX_PARAM_CHARS` is a 400 problem.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from kit.errors import APIError
from kit.sandbox.oauth_clients import X_SCOPES, OAuthClients, control_character
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.users import ACCESS_TOKEN_TTL_S, Users

__all__ = ["CODE_TTL_S", "MAX_CODES_PER_USER", "MAX_PARAM_CHARS", "OAuth"]

#: How long an authorization code can be redeemed (RFC 6749 recommends at most 10 minutes).
CODE_TTL_S = 600.0
#: Outstanding codes one user may hold at once (a real login needs one).
MAX_CODES_PER_USER = 10
#: The longest value any OAuth parameter may have.
MAX_PARAM_CHARS = 2048

_PKCE = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636: verifier 43-128 unreserved characters
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # S256: base64url of 32 bytes, unpadded
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class _Grant:
    user_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    scope: str
    expires: float


def read_params(pairs: list[tuple[str, str]], where: str) -> dict[str, str]:
    """OAuth parameters by name: each at most once, no control character, not overlong; else a 400."""
    out: dict[str, str] = {}
    for name, value in pairs:
        bad = control_character(name) or control_character(value)
        if bad:
            shown = name if not control_character(name) else "a parameter name"
            raise APIError.of(400, f"{where}: {shown} holds a control character ({bad})", parameter=shown)
        if len(value) > MAX_PARAM_CHARS or len(name) > 64:
            raise APIError.of(400, f"{where}: {name[:64]} is longer than {MAX_PARAM_CHARS} characters", parameter=name[:64])
        if name in out:
            raise APIError.of(400, f"{where}: parameter {name} is sent more than once", parameter=name)
        out[name] = value
    return out


def _required(q: dict[str, str], where: str, *names: str) -> None:
    for name in names:
        if not q.get(name):
            raise APIError.of(400, f"{where}: parameter {name} is required", parameter=name)


class OAuth:
    """The authorize and token endpoints over the registered clients and the users' tokens."""

    def __init__(self, users: Users, clients: OAuthClients) -> None:
        self.users = users
        self.clients = clients
        self._codes: dict[str, _Grant] = {}  # insertion order = expiry order (one TTL for all)
        self._by_user: dict[str, dict[str, None]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ authorize

    def authorize(self, user_id: str, query: list[tuple[str, str]], now: float) -> Reply:
        q = read_params(query, "authorize")
        _required(q, "authorize", "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                  "code_challenge_method")  # fmt: skip
        uris = self.clients.redirect_uris(q["client_id"])
        if uris is None:
            raise APIError.of(400, "authorize: client_id is not a client registered with this sandbox", parameter="client_id")
        if q["redirect_uri"] not in uris:
            raise APIError.of(
                400, "authorize: redirect_uri is not one registered for this client (matched exactly)", parameter="redirect_uri"
            )
        if q["response_type"] != "code":
            raise APIError.of(400, "authorize: response_type must be 'code'", parameter="response_type")
        if q["code_challenge_method"] != "S256":
            raise APIError.of(400, "authorize: code_challenge_method must be 'S256'", parameter="code_challenge_method")
        if not _CHALLENGE.fullmatch(q["code_challenge"]):
            raise APIError.of(400, "authorize: code_challenge must be 43 base64url characters (S256)", parameter="code_challenge")
        scopes = q["scope"].split(" ")
        unknown = sorted({s for s in scopes if s not in X_SCOPES})
        if unknown:
            shown = ", ".join(repr(s[:40]) for s in unknown[:5])
            raise APIError.of(400, f"authorize: scope holds {shown}, not a scope of the X API", parameter="scope")
        code = secrets.token_urlsafe(24)
        grant = _Grant(user_id, q["client_id"], q["redirect_uri"], q["code_challenge"], " ".join(dict.fromkeys(scopes)), now + CODE_TTL_S)
        with self._lock:
            self._drop_expired(now)
            mine = self._by_user.setdefault(user_id, {})
            if len(mine) >= MAX_CODES_PER_USER:
                raise APIError.of(
                    429,
                    f"authorize: {MAX_CODES_PER_USER} codes are outstanding for this user; redeem one or wait "
                    f"{int(CODE_TTL_S)} s for them to expire",
                    resource_type="oauth-code",
                )
            mine[code] = None
            self._codes[code] = grant
        sep = "&" if "?" in q["redirect_uri"] else "?"
        location = q["redirect_uri"] + sep + urlencode({"code": code, "state": q["state"]})
        return Reply(302, {"location": location, "content-type": "text/plain", "cache-control": "no-store"}, b"")

    def _drop_expired(self, now: float) -> None:
        """Pop expired codes from the front (oldest first): amortized O(1) per authorize."""
        while self._codes:
            code, grant = next(iter(self._codes.items()))
            if grant.expires > now:
                return
            self._take(code)

    def _take(self, code: str) -> _Grant | None:
        grant = self._codes.pop(code, None)
        if grant is not None:
            mine = self._by_user.get(grant.user_id, {})
            mine.pop(code, None)
            if not mine:
                self._by_user.pop(grant.user_id, None)
        return grant

    def forget_user(self, user_id: str) -> None:
        """Delete every outstanding code of a user (on revocation)."""
        with self._lock:
            for code in list(self._by_user.get(user_id, {})):
                self._take(code)

    def outstanding(self, user_id: str) -> int:
        with self._lock:
            return len(self._by_user.get(user_id, {}))

    # ------------------------------------------------------------------ token

    def token(self, headers: dict[str, str], body: bytes, now: float) -> Reply:
        ctype = headers.get("content-type", "")
        if ctype.split(";", 1)[0].strip().lower() != _FORM:
            got = f"content-type {ctype[:80]!r}" if ctype else "no content-type"
            raise APIError.of(415, f"token: the request needs content-type {_FORM}, got {got}", parameter="content-type")
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            raise APIError.of(400, "token: the form body must be ASCII (percent-encode the rest)", parameter="body") from None
        try:
            pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
        except ValueError:
            raise APIError.of(400, "token: the form body is not valid percent-encoded UTF-8", parameter="body") from None
        form = read_params(pairs, "token")
        _required(form, "token", "grant_type", "client_id")
        if self.clients.redirect_uris(form["client_id"]) is None:
            raise APIError.of(400, "token: client_id is not a client registered with this sandbox", parameter="client_id")
        if form["grant_type"] == "refresh_token":
            _required(form, "token", "refresh_token")
            _, access, refresh, scope = self.users.refresh(form["refresh_token"], form["client_id"])
            return self._token_reply(access, refresh, scope)
        if form["grant_type"] != "authorization_code":
            raise APIError.of(400, "token: grant_type must be 'authorization_code' or 'refresh_token'", parameter="grant_type")
        _required(form, "token", "code", "redirect_uri", "code_verifier")
        with self._lock:
            grant = self._take(form["code"])
        if grant is None or grant.expires <= now:
            raise APIError.of(400, "token: the code is unknown, used or expired", parameter="code")
        if form["client_id"] != grant.client_id or form["redirect_uri"] != grant.redirect_uri:
            raise APIError.of(400, "token: client_id and redirect_uri must equal those of the authorize request", parameter="redirect_uri")
        verifier = form["code_verifier"]
        expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if not _PKCE.fullmatch(verifier) or not hmac.compare_digest(expected, grant.challenge):
            raise APIError.of(400, "token: code_verifier does not match the code_challenge (PKCE S256)", parameter="code_verifier")
        offline = "offline.access" in grant.scope.split(" ")
        access, refresh = self.users.issue_tokens(grant.user_id, grant.client_id, grant.scope, refresh=offline)
        return self._token_reply(access, refresh, grant.scope)

    @staticmethod
    def _token_reply(access: str, refresh: str | None, scope: str) -> Reply:
        data: dict[str, object] = {"token_type": "bearer", "access_token": access, "expires_in": ACCESS_TOKEN_TTL_S, "scope": scope}
        if refresh is not None:
            data["refresh_token"] = refresh
        return json_reply(200, data, {"cache-control": "no-store", "pragma": "no-cache"})
