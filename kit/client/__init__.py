"""The X API client for chat keys: one `httpx.Client`, one request method, kit objects in and out.

The transport is the only seam: the in-process sandbox, a sandbox server in the room and
``https://api.x.com`` are all the same code here (no ``if sandbox:`` anywhere). Problems become
`kit.APIError` subclasses carrying the parsed `Problem`; partial errors in a 200 are returned.

- `kit.client.request`: one request (`TokenAuth`, retries of a 429, problems, the token redacted);
- `kit.client.endpoints`: `Client`, its endpoint methods and their results;
- `kit.client.connecting`: `connect()`, the usual set-ups;
- the OAuth helpers are `kit.oauth`'s, re-exported here.

Every name below is importable from `kit.client`, as before the split.
"""

from __future__ import annotations

from kit.client.connecting import connect
from kit.client.endpoints import Client, EventsPage, KeysResult, PublicKeysResult, SandboxUser
from kit.client.request import TokenAuth
from kit.oauth import (
    CHAT_SCOPES,
    DEMO_CLIENT_ID,
    DEMO_REDIRECT_URI,
    LIVE_BASE_URL,
    OAuthTokens,
    authorize_url,
    exchange_code,
    exchange_code_tokens,
    refresh_tokens,
)

__all__ = [
    "CHAT_SCOPES",
    "DEMO_CLIENT_ID",
    "DEMO_REDIRECT_URI",
    "LIVE_BASE_URL",
    "Client",
    "EventsPage",
    "KeysResult",
    "OAuthTokens",
    "PublicKeysResult",
    "SandboxUser",
    "TokenAuth",
    "authorize_url",
    "connect",
    "exchange_code",
    "exchange_code_tokens",
    "refresh_tokens",
]
