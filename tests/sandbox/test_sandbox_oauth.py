"""OAuth 2.0 authorization code + PKCE: the client helpers against the sandbox's endpoints."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import pytest

import kit
from kit.client import CHAT_SCOPES, SandboxUser, authorize_url, exchange_code

REDIRECT = "http://localhost:8888/callback"


def _authorize(user_api: kit.Client) -> tuple[str, str, str]:
    url, verifier, state = authorize_url("demo-app", REDIRECT, authorize_endpoint="/sandbox/oauth2/authorize")
    reply = user_api.http.get(url)
    assert reply.status_code == 302
    query = parse_qs(urlparse(reply.headers["location"]).query)
    assert query["state"] == [state]
    return query["code"][0], verifier, state


def test_authorize_url_carries_pkce_and_chat_scopes():
    url, verifier, state = authorize_url("demo-app", REDIRECT)
    q = parse_qs(urlparse(url).query)
    assert url.startswith("https://api.x.com/2/oauth2/authorize?")
    assert q["code_challenge_method"] == ["S256"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert q["code_challenge"] == [expected]
    assert set(q["scope"][0].split()) == set(CHAT_SCOPES)
    assert q["state"] == [state] and verifier not in url


def test_code_exchange_gives_a_working_token():
    api = kit.connect(quiet=True)
    alice = api.sandbox_user("alice")
    code, verifier, _ = _authorize(alice)
    token = exchange_code(code, verifier, client_id="demo-app", redirect_uri=REDIRECT, http=api.http, token_endpoint="/2/oauth2/token")
    as_alice = api.as_user(SandboxUser(alice.user_id or "", "alice", token))
    assert as_alice.get_conversations() == []
    # the old token was replaced by the new one
    with pytest.raises(kit.Unauthorized):
        alice.get_conversations()


def test_code_is_single_use_and_needs_the_verifier():
    api = kit.connect(quiet=True)
    alice = api.sandbox_user("alice")
    code, verifier, _ = _authorize(alice)
    with pytest.raises(kit.InvalidRequest, match="code_verifier"):
        exchange_code(code, verifier + "x", client_id="demo-app", redirect_uri=REDIRECT, http=api.http, token_endpoint="/2/oauth2/token")
    # a failed exchange used the code up
    with pytest.raises(kit.InvalidRequest, match="unknown, used or expired"):
        exchange_code(code, verifier, client_id="demo-app", redirect_uri=REDIRECT, http=api.http, token_endpoint="/2/oauth2/token")


def test_authorize_needs_a_logged_in_user():
    api = kit.connect(quiet=True)
    url, _, _ = authorize_url("demo-app", REDIRECT, authorize_endpoint="/sandbox/oauth2/authorize")
    assert api.http.get(url).status_code == 401
