"""OAuth 2.0 authorization code + PKCE: the client helpers against the sandbox's endpoints, through
both doors; registered clients and exact redirect URIs, known scopes, expiring tokens and
refresh (hardening item 7); revocation that stays (item 2)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlparse

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    PROBLEM_BASE,
    AnswerLog,
    ServedSandbox,
    answers,
    door,
    raw_client,
    served,
    username,
    with_hooks,
)

import kit
from kit.client import (
    CHAT_SCOPES,
    DEMO_CLIENT_ID,
    DEMO_REDIRECT_URI,
    SandboxUser,
    authorize_url,
    exchange_code,
    exchange_code_tokens,
    refresh_tokens,
)
from kit.sandbox import Sandbox
from kit.sandbox.oauth_clients import DEMO_REDIRECT_URIS, X_SCOPES

AUTHORIZE = "/sandbox/oauth2/authorize"
TOKEN = "/2/oauth2/token"
OP_TOKEN = "op_test-operator-token-0123456789"


@dataclass
class Room:
    """One door: an anonymous root client, the operator token, and the in-process sandbox (None when served)."""

    root: kit.Client
    operator_token: str
    sandbox: Sandbox | None

    def user(self) -> kit.Client:
        return self.root.sandbox_user(username())

    def operator(self, token: str | None = None) -> httpx.Client:
        return raw_client(self.root, token or self.operator_token)


@pytest.fixture
def room(door: str, request: pytest.FixtureRequest, answers: AnswerLog) -> Iterator[Room]:
    if door == "inprocess":
        sandbox = Sandbox(operator_token=OP_TOKEN)
        r = Room(with_hooks(kit.connect(sandbox=sandbox, quiet=True), answers), OP_TOKEN, sandbox)
    else:
        server: ServedSandbox = request.getfixturevalue("served")
        r = Room(with_hooks(kit.connect(base_url=server.url, quiet=True), answers), server.operator_token, None)
    yield r
    r.root.close()


def _token(client: kit.Client) -> str:
    return client.http.auth._token  # type: ignore[union-attr]


def _authorize(user: kit.Client, **overrides: str) -> tuple[str, str, str]:
    url, verifier, state = authorize_url(authorize_endpoint=AUTHORIZE, **overrides)  # type: ignore[arg-type]
    reply = user.http.get(url)
    assert reply.status_code == 302, reply.text
    location = reply.headers["location"]
    redirect = overrides.get("redirect_uri", DEMO_REDIRECT_URI)
    assert location.startswith(redirect + ("&" if "?" in redirect else "?"))
    query = parse_qs(urlparse(location).query)
    assert query["state"] == [state]
    return query["code"][0], verifier, state


def _exchange(room: Room, code: str, verifier: str, **kw: str) -> kit.client.OAuthTokens:
    return exchange_code_tokens(code, verifier, http=room.root.http, token_endpoint=TOKEN, **kw)


def _as(room: Room, user: kit.Client, token: str) -> kit.Client:
    return room.root.as_user(SandboxUser(user.user_id or "", "x", token))


def problem(r: httpx.Response, status: int, parameter: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    data = r.json()
    assert data["status"] == status and data["type"].startswith(PROBLEM_BASE)
    if parameter is not None:
        assert data.get("parameter") == parameter, data
    assert "location" not in r.headers
    return data


def _query(**overrides: str) -> dict[str, str]:
    url, _, _ = authorize_url(authorize_endpoint=AUTHORIZE)
    q = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    q.update(overrides)
    return q


# ----------------------------------------------------------------------------- the client helpers


def test_authorize_url_carries_pkce_chat_scopes_and_the_demo_client():
    url, verifier, state = authorize_url()
    q = parse_qs(urlparse(url).query)
    assert url.startswith("https://api.x.com/2/oauth2/authorize?")
    assert q["client_id"] == [DEMO_CLIENT_ID] == ["xchat-kit-demo"]
    assert q["redirect_uri"] == [DEMO_REDIRECT_URI] and DEMO_REDIRECT_URI in DEMO_REDIRECT_URIS
    assert DEMO_REDIRECT_URIS == ("http://127.0.0.1:8765/callback", "http://localhost:8765/callback")
    assert q["code_challenge_method"] == ["S256"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert q["code_challenge"] == [expected]
    assert set(q["scope"][0].split()) == set(CHAT_SCOPES) and set(CHAT_SCOPES) <= X_SCOPES
    assert q["state"] == [state] and verifier not in url
    assert {"dm.read", "dm.write", "tweet.read", "users.read", "offline.access"} <= X_SCOPES


# ----------------------------------------------------------------------------- the flow


@pytest.mark.parametrize("redirect", DEMO_REDIRECT_URIS)
def test_code_exchange_gives_expiring_token_and_refresh(room: Room, redirect: str) -> None:
    alice = room.user()
    code, verifier, _ = _authorize(alice, redirect_uri=redirect)
    tokens = _exchange(room, code, verifier, redirect_uri=redirect)
    assert tokens.expires_in == 7200 and set(tokens.scope.split()) == set(CHAT_SCOPES)
    assert tokens.refresh_token and tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)
    assert _as(room, alice, tokens.access_token).get_conversations() == []
    # Issuing a token ends no other: the sandbox token still works (a thief cannot lock the owner out).
    assert alice.get_conversations() == []
    renewed = refresh_tokens(tokens.refresh_token, http=room.root.http, token_endpoint=TOKEN)
    assert renewed.refresh_token != tokens.refresh_token and renewed.expires_in == 7200 and renewed.scope == tokens.scope
    assert _as(room, alice, renewed.access_token).get_conversations() == []
    with pytest.raises(kit.InvalidRequest, match="refresh_token"):  # refresh tokens are single-use
        refresh_tokens(tokens.refresh_token, http=room.root.http, token_endpoint=TOKEN)
    with room.operator() as op:
        assert op.post("/sandbox/operator/clients", json={"client_id": "other-app", "redirect_uris": ["https://o.example/cb"]}).status_code == 201
    with pytest.raises(kit.InvalidRequest, match="refresh_token"):  # and bound to their client
        refresh_tokens(renewed.refresh_token or "", client_id="other-app", http=room.root.http, token_endpoint=TOKEN)


def test_without_offline_access_there_is_no_refresh_token(room: Room) -> None:
    alice = room.user()
    code, verifier, _ = _authorize(alice, scopes=("dm.read", "users.read"))
    tokens = _exchange(room, code, verifier)
    assert tokens.refresh_token is None and tokens.scope == "dm.read users.read"


def test_code_is_single_use_and_needs_the_verifier(room: Room) -> None:
    alice = room.user()
    code, verifier, _ = _authorize(alice)
    with pytest.raises(kit.InvalidRequest, match="code_verifier"):
        exchange_code(code, verifier + "x", http=room.root.http, token_endpoint=TOKEN)
    with pytest.raises(kit.InvalidRequest, match="unknown, used or expired"):  # a failed exchange used the code up
        exchange_code(code, verifier, http=room.root.http, token_endpoint=TOKEN)
    code, verifier, _ = _authorize(alice)
    with pytest.raises(kit.InvalidRequest, match="redirect_uri"):
        exchange_code(code, verifier, redirect_uri=DEMO_REDIRECT_URIS[1], http=room.root.http, token_endpoint=TOKEN)


def test_authorize_needs_a_logged_in_user(room: Room) -> None:
    url, _, _ = authorize_url(authorize_endpoint=AUTHORIZE)
    assert room.root.http.get(url).status_code == 401


# ----------------------------------------------------------------------------- what authorize refuses

BAD_REDIRECTS = [
    "https://evil.example/callback",
    "javascript:alert(1)",
    "x",
    "/callback",
    "http://127.0.0.1:8765/callback#frag",
    "http://127.0.0.1:8765/callback/",
    "http://127.0.0.1:8765/callback?next=https://evil.example",
    "HTTP://127.0.0.1:8765/callback",
    "http://127.0.0.1:8766/callback",
    "http://user@127.0.0.1:8765/callback",
    "http://127.0.0.1:8765/callback\r\nSet-Cookie: a=b",
]


def test_redirect_uris_are_matched_exactly(room: Room) -> None:
    alice = room.user()
    for uri in BAD_REDIRECTS:
        r = alice.http.get(AUTHORIZE, params=_query(redirect_uri=uri))
        problem(r, 400, "redirect_uri")
    for client_id in ("demo-app", "XCHAT-KIT-DEMO", "xchat-kit-demo "):
        problem(alice.http.get(AUTHORIZE, params=_query(client_id=client_id)), 400, "client_id")
    if room.sandbox is not None:  # nothing was kept for any of them
        assert room.sandbox._oauth.outstanding(alice.user_id or "") == 0


@pytest.mark.parametrize("scope", ["dm.read evil.scope", "admin", "DM.READ", "dm.read  users.read", "dm.read,users.read", ""])
def test_unknown_scopes_are_refused(room: Room, scope: str) -> None:
    alice = room.user()
    r = alice.http.get(AUTHORIZE, params=_query(scope=scope))
    data = problem(r, 400, "scope")
    assert "scope" in data["detail"]


@pytest.mark.parametrize(
    "name,value",
    [("redirect_uri", DEMO_REDIRECT_URI + "\r\n"), ("state", "a\nb"), ("scope", "dm.read\x00"), ("client_id", "xchat-kit-demo\x7f"),
     ("code_challenge", "\x1b[31m"), ("response_type", "code\t"), ("state", "\x85")],
)  # fmt: skip
def test_control_characters_in_authorize_are_a_400(room: Room, name: str, value: str) -> None:
    alice = room.user()
    r = alice.http.get(AUTHORIZE, params=_query(**{name: value}))
    assert "control character" in problem(r, 400, name)["detail"]


def test_control_characters_duplicates_and_content_type_at_the_token_endpoint(room: Room) -> None:
    alice = room.user()
    code, verifier, _ = _authorize(alice)
    good = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO_REDIRECT_URI,
            "client_id": DEMO_CLIENT_ID, "code_verifier": verifier}  # fmt: skip
    form = "application/x-www-form-urlencoded"
    with raw_client(room.root) as raw:
        for name in ("code", "redirect_uri", "code_verifier", "client_id"):
            body = urlencode({**good, name: good[name] + "\r\n"})
            problem(raw.post(TOKEN, content=body, headers={"content-type": form}), 400, name)
        body = urlencode(good) + "&code=" + quote(code)
        problem(raw.post(TOKEN, content=body, headers={"content-type": form}), 400, "code")
        problem(raw.post(TOKEN, content=urlencode(good) + "&x=%FF", headers={"content-type": form}), 400, "body")
        for ctype in (None, "application/json", "text/plain"):
            headers = {"content-type": ctype} if ctype else {}
            problem(raw.post(TOKEN, content=urlencode(good), headers=headers), 415, "content-type")
        problem(raw.post(TOKEN, data={**good, "grant_type": "password"}), 400, "grant_type")
        problem(raw.post(TOKEN, data={**good, "client_id": "unknown"}), 400, "client_id")
        # none of that used the code up: it still works once
        r = raw.post(TOKEN, data=good)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text


def test_outstanding_codes_per_user_are_capped(room: Room) -> None:
    from kit.sandbox.oauth import MAX_CODES_PER_USER

    alice, bob = room.user(), room.user()
    for _ in range(MAX_CODES_PER_USER):
        _authorize(alice)
    r = alice.http.get(AUTHORIZE, params=_query())
    problem(r, 429)
    _authorize(bob)  # someone else is not affected
    code, verifier, _ = _authorize(bob)
    _exchange(room, code, verifier)


# ----------------------------------------------------------------------------- expiry (a clock we move)


def test_oauth_access_tokens_expire_and_sandbox_tokens_do_not() -> None:
    now = [1_700_000_000.0]
    sandbox = Sandbox(clock=lambda: now[0])
    root = kit.connect(sandbox=sandbox, quiet=True)
    room = Room(root, OP_TOKEN, sandbox)
    alice = room.user()
    code, verifier, _ = _authorize(alice)
    tokens = _exchange(room, code, verifier)
    as_oauth = _as(room, alice, tokens.access_token)
    now[0] += 7199
    assert as_oauth.get_conversations() == []
    now[0] += 2
    with pytest.raises(kit.Unauthorized, match="expired"):
        as_oauth.get_conversations()
    renewed = refresh_tokens(tokens.refresh_token or "", http=root.http, token_endpoint=TOKEN)
    assert _as(room, alice, renewed.access_token).get_conversations() == []
    now[0] += 10**7
    assert alice.get_conversations() == []  # the token POST /sandbox/users gave does not expire
    # a code expires after 10 minutes
    code, verifier, _ = _authorize(alice)
    now[0] += 601
    with pytest.raises(kit.InvalidRequest, match="expired"):
        _exchange(room, code, verifier)


# ----------------------------------------------------------------------------- revocation (item 2)


def test_a_code_minted_before_a_revocation_is_dead_after_it(room: Room) -> None:
    alice, bob = room.user(), room.user()
    code, verifier, _ = _authorize(alice)
    code2, verifier2, _ = _authorize(alice)
    oauth = _exchange(room, code2, verifier2)
    with room.operator() as op:
        r = op.post(f"/sandbox/operator/users/{alice.user_id}/revoke")
    assert r.status_code == 200 and r.json() == {"data": {"id": alice.user_id, "revoked": True}}
    with pytest.raises(kit.InvalidRequest, match="unknown, used or expired"):
        _exchange(room, code, verifier)
    with pytest.raises(kit.InvalidRequest, match="refresh_token"):
        refresh_tokens(oauth.refresh_token or "", http=room.root.http, token_endpoint=TOKEN)
    for token in (_token(alice), oauth.access_token):  # still revoked: every token of alice's
        with pytest.raises(kit.Unauthorized, match="revoked"):
            _as(room, alice, token).get_conversations()
    assert alice.http.get(AUTHORIZE, params=_query()).status_code == 401  # and no new codes
    assert bob.get_conversations() == []  # only alice
    if room.sandbox is not None:
        assert room.sandbox._oauth.outstanding(alice.user_id or "") == 0
        assert room.sandbox.store.read("SELECT COUNT(*) FROM tokens WHERE user_id = ?", (alice.user_id,))[0][0] == 0


def test_a_revoked_user_gets_no_token_from_a_code_in_flight() -> None:
    """A code that slipped in between authenticate and the revocation: the token endpoint still refuses."""
    sandbox = Sandbox(operator_token=OP_TOKEN)
    room = Room(kit.connect(sandbox=sandbox, quiet=True), OP_TOKEN, sandbox)
    alice = room.user()
    code, verifier, _ = _authorize(alice)
    sandbox._users.revoke(alice.user_id or "")  # the users' side only, as if the code were stored just after
    with pytest.raises(kit.InvalidRequest, match="revoked"):
        _exchange(room, code, verifier)
    with pytest.raises(kit.Unauthorized):
        alice.get_conversations()


def test_a_stolen_token_traded_through_oauth_does_not_lock_the_owner_out(room: Room) -> None:
    alice = room.user()
    thief = _as(room, alice, _token(alice))  # mallory holds alice's token
    code, verifier, _ = _authorize(thief)
    stolen = _exchange(room, code, verifier)
    assert _as(room, alice, stolen.access_token).get_conversations() == []
    assert alice.get_conversations() == []  # the owner still works; the operator's revoke ends both


def test_operator_endpoints_need_the_operator_token(room: Room) -> None:
    alice, bob = room.user(), room.user()
    path = f"/sandbox/operator/users/{bob.user_id}/revoke"
    for token in (None, _token(alice), _token(bob), room.operator_token + "x", "Basic " + room.operator_token):
        with raw_client(room.root, token) if token and not token.startswith("Basic") else raw_client(room.root) as raw:
            headers = {"authorization": token} if token and token.startswith("Basic") else {}
            r = raw.post(path, headers=headers)
            assert "operator token" in problem(r, 403)["detail"]
            problem(raw.post("/sandbox/operator/clients", json={"client_id": "a", "redirect_uris": ["http://a.example/"]}), 403)
    assert bob.get_conversations() == []  # nothing happened
    with room.operator() as op:
        problem(op.post("/sandbox/operator/users/1234567/revoke"), 404)
        problem(op.post("/sandbox/operator/users/abc/revoke"), 404)
        problem(op.get(path), 405)
        problem(op.post("/sandbox/operator/nothing"), 404)
    with pytest.raises(kit.Unauthorized):  # the operator token is no learner's token
        _as(room, alice, room.operator_token).get_conversations()


def test_without_an_operator_token_every_operator_action_is_403() -> None:
    sandbox = Sandbox()
    root = kit.connect(sandbox=sandbox, quiet=True)
    alice = root.sandbox_user(username())
    with raw_client(root, _token(alice)) as raw:
        assert "no operator token" in problem(raw.post(f"/sandbox/operator/users/{alice.user_id}/revoke"), 403)["detail"]
    assert alice.get_conversations() == []
    with pytest.raises(ValueError):
        Sandbox(operator_token="short")


# ----------------------------------------------------------------------------- registering clients


def test_the_operator_registers_clients_with_exact_redirect_uris(room: Room) -> None:
    alice = room.user()
    client_id = "app-" + username()
    with room.operator() as op:
        unregistrable = ["javascript:alert(1)", "x", "/callback", "ftp://a.example/cb", "http://a.example/cb#frag",
                         "http://user@a.example/cb", "http://a.example/cb\r\nX: y", "http://a.example/c b", "http:///cb",
                         "http://a.example:99999/cb", "http://é.example/cb", "http://a.example/" + "x" * 2100]  # fmt: skip
        for redirect_uris in [[u] for u in unregistrable] + [["http://a.example/cb", u] for u in unregistrable[:3]] + [
            [], "http://a.example/cb", ["http://a.example/cb"] * 11, [7], None,
        ]:
            problem(op.post("/sandbox/operator/clients", json={"client_id": client_id, "redirect_uris": redirect_uris}), 400)
        for bad_id in ("", "a b", "x" * 65, "é", DEMO_CLIENT_ID, None):
            problem(op.post("/sandbox/operator/clients", json={"client_id": bad_id, "redirect_uris": ["http://a.example/cb"]}), 400, "client_id")
        problem(alice.http.get(AUTHORIZE, params=_query(client_id=client_id)), 400, "client_id")  # nothing registered
        r = op.post("/sandbox/operator/clients", json={"client_id": client_id, "redirect_uris": ["https://app.example/cb?x=1"]})
    assert r.status_code == 201 and r.json()["data"] == {"client_id": client_id, "redirect_uris": ["https://app.example/cb?x=1"]}
    code, verifier, _ = _authorize(alice, client_id=client_id, redirect_uri="https://app.example/cb?x=1")
    tokens = _exchange(room, code, verifier, client_id=client_id, redirect_uri="https://app.example/cb?x=1")
    assert _as(room, alice, tokens.access_token).get_conversations() == []
    problem(alice.http.get(AUTHORIZE, params=_query(client_id=client_id)), 400, "redirect_uri")  # not the demo's URIs


def test_register_client_in_process() -> None:
    sandbox = Sandbox()
    assert sandbox.register_client("mine", ["http://127.0.0.1:9000/cb"]) == {"client_id": "mine", "redirect_uris": ["http://127.0.0.1:9000/cb"]}
    with pytest.raises(kit.InvalidRequest, match="fragment"):
        sandbox.register_client("mine", ["http://127.0.0.1:9000/cb#x"])
    assert sandbox.oauth_clients.redirect_uris("mine") == ("http://127.0.0.1:9000/cb",)
