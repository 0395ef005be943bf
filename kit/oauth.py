"""OAuth 2.0 authorization code + PKCE, the client's side: the URL to open, the code exchange, a refresh.

By default these use the kit's demo client, `xchat-kit-demo` with redirect URI
``http://127.0.0.1:8765/callback``, which the sandbox ships registered; against the live API pass
your own X app's client id and redirect URI. Tokens are returned, never printed; `OAuthTokens`
hides them in its repr. (Re-exported by `kit.client`.)
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from kit.errors import APIError

__all__ = [
    "CHAT_SCOPES",
    "DEMO_CLIENT_ID",
    "DEMO_REDIRECT_URI",
    "LIVE_BASE_URL",
    "OAuthTokens",
    "authorize_url",
    "exchange_code",
    "exchange_code_tokens",
    "refresh_tokens",
]

LIVE_BASE_URL = "https://api.x.com"
#: The OAuth 2.0 scopes the chat key endpoints need (X API 2.167 security requirements).
CHAT_SCOPES = ("dm.read", "dm.write", "tweet.read", "users.read", "offline.access")
#: The demo client the sandbox ships registered (its other redirect URI: http://localhost:8765/callback).
DEMO_CLIENT_ID = "xchat-kit-demo"
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class OAuthTokens:
    """A token answer: the access token, the refresh token (with `offline.access`), seconds to live, scope."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int | None
    scope: str


def authorize_url(
    client_id: str = DEMO_CLIENT_ID,
    redirect_uri: str = DEMO_REDIRECT_URI,
    *,
    scopes: tuple[str, ...] = CHAT_SCOPES,
    authorize_endpoint: str = f"{LIVE_BASE_URL}/2/oauth2/authorize",
) -> tuple[str, str, str]:
    """Step one of OAuth 2.0 authorization code + PKCE: the URL to open, the code verifier
    (keep it secret, for step two) and the state (compare it with the redirect's)."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    state = secrets.token_urlsafe(16)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{authorize_endpoint}?{query}", verifier, state


def _token_request(form: dict[str, str], http: httpx.Client | None, token_endpoint: str, what: str) -> OAuthTokens:
    own = http is None
    client = http or httpx.Client(timeout=30.0)
    try:
        response = client.post(token_endpoint, data=form)
    finally:
        if own:
            client.close()
    try:
        data: Any = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    if response.status_code != 200 or "access_token" not in data:
        reason = data.get("error_description") or data.get("detail") or data.get("error") or f"HTTP {response.status_code}"
        raise APIError.of(response.status_code if response.status_code >= 400 else 400, f"{what} failed: {reason}")
    expires = data.get("expires_in")
    return OAuthTokens(
        access_token=str(data["access_token"]),
        refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
        expires_in=expires if isinstance(expires, int) else None,
        scope=str(data.get("scope", "")),
    )


def exchange_code_tokens(
    code: str,
    verifier: str,
    *,
    client_id: str = DEMO_CLIENT_ID,
    redirect_uri: str = DEMO_REDIRECT_URI,
    http: httpx.Client | None = None,
    token_endpoint: str = f"{LIVE_BASE_URL}/2/oauth2/token",
) -> OAuthTokens:
    """Step two: trade the authorization code for tokens (a refresh token too with `offline.access`)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "client_id": client_id,
            "code_verifier": verifier}  # fmt: skip
    return _token_request(form, http, token_endpoint, "token exchange")


def exchange_code(
    code: str,
    verifier: str,
    *,
    client_id: str = DEMO_CLIENT_ID,
    redirect_uri: str = DEMO_REDIRECT_URI,
    http: httpx.Client | None = None,
    token_endpoint: str = f"{LIVE_BASE_URL}/2/oauth2/token",
) -> str:
    """Step two: trade the authorization code for a user access token (returned, never printed)."""
    return exchange_code_tokens(
        code, verifier, client_id=client_id, redirect_uri=redirect_uri, http=http, token_endpoint=token_endpoint
    ).access_token


def refresh_tokens(
    refresh_token: str,
    *,
    client_id: str = DEMO_CLIENT_ID,
    http: httpx.Client | None = None,
    token_endpoint: str = f"{LIVE_BASE_URL}/2/oauth2/token",
) -> OAuthTokens:
    """A new access token (and a new refresh token: the old one is used up) for a refresh token."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return _token_request(form, http, token_endpoint, "token refresh")
