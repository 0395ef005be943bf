"""The OAuth clients the sandbox knows: their exact redirect URIs, and the scopes of the X API.

One client is registered from the start, the kit's demo app (`DEMO_CLIENT_ID`, redirect URIs
`DEMO_REDIRECT_URIS`, what `kit.client.authorize_url()` uses by default); the room's operator
registers more (`Sandbox.register_client`, or `POST /sandbox/operator/clients`). Registered
clients live in memory: a restarted server knows the demo client again, and no other.

A redirect URI is matched exactly, character for character, against the client's registered
ones (no prefix, no pattern), and is registered only when it is an absolute http(s) URL with a
host and no fragment, user info or control character. Clients are public (PKCE, no secret).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from types import MappingProxyType
from urllib.parse import urlsplit

from kit.errors import APIError
from kit.sandbox.schema import load_document

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_REDIRECT_URIS",
    "MAX_CLIENTS",
    "X_SCOPES",
    "OAuthClients",
    "check_client_id",
    "check_redirect_uri",
    "control_character",
]

DEMO_CLIENT_ID = "xchat-kit-demo"
DEMO_REDIRECT_URIS = ("http://127.0.0.1:8765/callback", "http://localhost:8765/callback")
#: Registered clients at most (the demo client included), redirect URIs per client at most.
MAX_CLIENTS = 100
MAX_REDIRECT_URIS = 10
MAX_URI_CHARS = 2048

_CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _document_scopes() -> frozenset[str]:
    """The OAuth 2.0 scopes the X API defines (the document's `OAuth2UserToken` security scheme)."""
    schemes = load_document().get("components", {}).get("securitySchemes", {})
    for scheme in schemes.values():
        for flow in scheme.get("flows", {}).values():
            if flow.get("scopes"):
                return frozenset(flow["scopes"])
    # X's documented list, should a trimmed document lack the scheme.
    return frozenset(("dm.read", "dm.write", "tweet.read", "tweet.write", "users.read", "offline.access",
                      "follows.read", "follows.write", "like.read", "like.write", "list.read", "list.write",
                      "block.read", "block.write", "mute.read", "mute.write", "bookmark.read", "bookmark.write",
                      "space.read", "media.write"))  # fmt: skip


#: Every scope an authorize request may ask for.
X_SCOPES: frozenset[str] = _document_scopes()


def control_character(text: str) -> str | None:
    """The first control character (C0, DEL or C1) in `text`, shown escaped, or None."""
    found = _CONTROL.search(text)
    return None if found is None else repr(found.group())


def check_client_id(client_id: object) -> str:
    """A client id as the sandbox registers one: 1 to 64 of ``A-Z a-z 0-9 . _ ~ -``; else a 400."""
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise APIError.of(400, "client_id must be 1 to 64 ASCII letters, digits or . _ ~ -", parameter="client_id")
    return client_id


def check_redirect_uri(uri: object) -> str:
    """A redirect URI that may be registered: absolute http(s) with a host, no fragment, no user
    info, no control character or space, at most `MAX_URI_CHARS`; else a 400 saying which rule."""
    if not isinstance(uri, str) or not uri:
        raise APIError.of(400, "redirect_uri must be a non-empty string", parameter="redirect_uri")
    if len(uri) > MAX_URI_CHARS:
        raise APIError.of(400, f"redirect_uri is longer than {MAX_URI_CHARS} characters", parameter="redirect_uri")
    if control_character(uri) or " " in uri or not uri.isascii():
        raise APIError.of(400, "redirect_uri holds a space, a control or a non-ASCII character", parameter="redirect_uri")
    try:
        parts = urlsplit(uri)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise APIError.of(400, "redirect_uri is not a URL", parameter="redirect_uri") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise APIError.of(400, "redirect_uri must be an absolute http:// or https:// URL with a host", parameter="redirect_uri")
    if "#" in uri:
        raise APIError.of(400, "redirect_uri must not have a fragment (#...)", parameter="redirect_uri")
    if "@" in parts.netloc:
        raise APIError.of(400, "redirect_uri must not carry user info (user@host)", parameter="redirect_uri")
    return uri


class OAuthClients:
    """Registered clients and their redirect URIs (in memory; the demo client always)."""

    def __init__(self) -> None:
        self._clients: dict[str, tuple[str, ...]] = {DEMO_CLIENT_ID: DEMO_REDIRECT_URIS}
        self._lock = threading.Lock()

    def register(self, client_id: object, redirect_uris: Iterable[object] | object) -> dict[str, object]:
        """Register a client (or replace its redirect URIs); a 400 naming what is wrong."""
        cid = check_client_id(client_id)
        if cid == DEMO_CLIENT_ID:
            raise APIError.of(400, f"{DEMO_CLIENT_ID} is the built-in demo client; register another client_id", parameter="client_id")
        if not isinstance(redirect_uris, list) or not 1 <= len(redirect_uris) <= MAX_REDIRECT_URIS:
            raise APIError.of(400, f"redirect_uris must be a list of 1 to {MAX_REDIRECT_URIS} URLs", parameter="redirect_uris")
        uris = tuple(dict.fromkeys(check_redirect_uri(u) for u in redirect_uris))
        with self._lock:
            if cid not in self._clients and len(self._clients) >= MAX_CLIENTS:
                raise APIError.of(409, f"the sandbox holds {MAX_CLIENTS} clients already", parameter="client_id")
            self._clients[cid] = uris
        return {"client_id": cid, "redirect_uris": list(uris)}

    def redirect_uris(self, client_id: str) -> tuple[str, ...] | None:
        """The client's registered redirect URIs, or None for a client the sandbox does not know."""
        with self._lock:
            return self._clients.get(client_id)

    def registered(self) -> MappingProxyType[str, tuple[str, ...]]:
        with self._lock:
            return MappingProxyType(dict(self._clients))
