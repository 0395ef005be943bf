"""`kit.Client` and `kit.connect()`: the one request method, problems as exceptions, partial
errors returned, the transport seam, and tokens that never show.

Most tests use `httpx.MockTransport` (the seam) to play servers the sandbox is not: the live
API's other error shape, a proxy's HTML error page, a non-JSON success. The token tests run
through both sandbox doors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures: connect needs door, answers and served)
    Connect,
    answers,
    connect,
    door,
    served,
    username,
)

import kit
from kit.client import LIVE_BASE_URL, SandboxUser, TokenAuth

TOKEN = "tok_" + "S3cr3t" * 8


def mock_client(handler: Callable[[httpx.Request], httpx.Response], *, token: str | None = TOKEN) -> kit.Client:
    http = httpx.Client(
        transport=httpx.MockTransport(handler), base_url="https://api.example", auth=TokenAuth(token) if token else None
    )
    return kit.Client(http, user_id="1001")


def problem_response(status: int, kind: str, detail: str, **extra: Any) -> httpx.Response:
    body = {"type": f"https://api.x.com/2/problems/{kind}", "title": "T", "detail": detail, "status": status, **extra}
    return httpx.Response(status, headers={"content-type": "application/problem+json"}, content=json.dumps(body).encode())


# ----------------------------------------------------------------------------- problems become exceptions


@pytest.mark.parametrize(
    ("status", "kind", "cls"),
    [
        (400, "invalid-request", kit.InvalidRequest),
        (401, "not-authorized-for-resource", kit.Unauthorized),
        (403, "not-authorized-for-resource", kit.Forbidden),
        (404, "resource-not-found", kit.NotFound),
        (409, "invalid-request", kit.Conflict),
        (413, "invalid-request", kit.PayloadTooLarge),
        (429, "resource-unavailable", kit.RateLimited),
        (503, "resource-unavailable", kit.ServiceUnavailable),
        (418, "invalid-request", kit.APIError),
    ],
)
def test_problem_statuses_map_to_subclasses(status: int, kind: str, cls: type[kit.APIError]) -> None:
    client = mock_client(lambda r: problem_response(status, kind, "$.x is wrong", parameter="$.x"))
    with pytest.raises(cls) as exc:
        client.request("POST", "/2/chat/conversations/1/keys", json={})
    err = exc.value
    assert isinstance(err, kit.APIError) and err.status == status
    assert err.problem.detail == "$.x is wrong" and err.problem.kind == kind and err.problem.extra["parameter"] == "$.x"
    assert err.response is not None and err.response.status_code == status
    assert "$.x is wrong" in str(err)


def test_other_error_shapes() -> None:
    # The document's `Error` shape ({code, message}) and a proxy's HTML page.
    client = mock_client(lambda r: httpx.Response(400, json={"code": 214, "message": "bad thing"}))
    with pytest.raises(kit.InvalidRequest) as exc:
        client.request("GET", "/2/chat/conversations")
    assert exc.value.problem.detail == "bad thing" and exc.value.problem.extra == {"code": 214}
    client = mock_client(lambda r: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(kit.APIError) as exc2:
        client.request("GET", "/2/chat/conversations")
    assert exc2.value.status == 502 and "GET /2/chat/conversations failed" in str(exc2.value)
    client = mock_client(lambda r: httpx.Response(200, text="not json"))
    with pytest.raises(kit.APIError, match="not JSON"):
        client.request("GET", "/2/chat/conversations")
    client = mock_client(lambda r: httpx.Response(204))
    assert client.request("POST", "/2/chat/conversations/1/read") == {}


def test_rate_limit_headers_are_kept() -> None:
    def handler(r: httpx.Request) -> httpx.Response:
        resp = problem_response(429, "resource-unavailable", "slow down", resource_type="rate-limit")
        resp.headers["x-rate-limit-reset"] = "1800000000"
        return resp

    with pytest.raises(kit.RateLimited) as exc:
        mock_client(handler).get_conversations()
    assert exc.value.headers["x-rate-limit-reset"] == "1800000000"


# ----------------------------------------------------------------------------- endpoint methods over the seam


def test_methods_send_the_documented_requests() -> None:
    alice = kit.Identity.from_seed("alice (demo only)", "1001")
    bob = kit.Identity.from_seed("bob (demo only)", "2002")
    seen: list[tuple[str, str, Any]] = []

    def handler(r: httpx.Request) -> httpx.Response:
        body = json.loads(r.content) if r.content else None
        seen.append((r.method, r.url.path + ("?" + r.url.query.decode() if r.url.query else ""), body))
        assert r.headers["authorization"] == f"Bearer {TOKEN}"
        path = r.url.path
        if path.endswith("/public_keys") and r.method == "POST":
            return httpx.Response(200, json={"data": {"public_key_version": body["version"]}})
        if path == "/2/users/2002/public_keys":
            older = {**bob.public_keys.to_api(), "public_key_version": "9"}
            newer = {**kit.Identity.from_seed("bob 2", "2002", version="10").public_keys.to_api()}
            return httpx.Response(200, json={"data": [older, newer]})
        if path.endswith("/keys"):
            return httpx.Response(200, json={"data": {"conversation_id": "1001-2002", "sequence_id": "77"}})
        if path.endswith("/events"):
            token = r.url.params.get("pagination_token")
            if token is None:
                return httpx.Response(200, json={"data": [{"encoded_event": "AQ=="}], "meta": {"next_token": "n1", "conversation_key_events": ["Kg=="]}})
            return httpx.Response(200, json={"data": [{"encoded_event": "Ag=="}], "meta": {"conversation_key_events": ["Kg=="]}})
        if path == "/2/chat/conversations/group/initialize":
            return httpx.Response(200, json={"data": {"conversation_id": "g55"}})
        if path == "/2/chat/conversations/group":
            return httpx.Response(201, json={"data": {"conversation_id": "g55", "conversation_key_change_sequence_id": "78"}})
        if path.endswith("/messages"):
            return httpx.Response(201, json={"data": {"encoded_message_event": "AAA="}})
        if path == "/2/chat/conversations":
            return httpx.Response(200, json={"data": [{"id": "1001-2002"}], "meta": {"result_count": 1}})
        if path.startswith("/2/chat/conversations/"):
            return httpx.Response(200, json={"data": {"id": "1001-2002"}})
        return httpx.Response(404)

    c = mock_client(handler)
    assert c.register_keys(alice) == alice.version
    keys = c.get_public_keys("2002")
    assert [k.version for k in keys] == ["10", "9"]  # numeric order, not text order
    assert c.latest_public_keys("2002").version == "10"
    init = kit.prepare_key_init(alice, [bob.public_keys])
    assert c.add_conversation_keys(init, path_id="2002") == kit.client.KeysResult("1001-2002", "77")
    pages = list(c.iter_events("1001:2002", max_results=1))  # colon form goes out hyphenated
    assert [p.messages for p in pages] == [["AQ=="], ["Ag=="]] and pages[0].key_changes == ["Kg=="]
    assert pages[0].next_token == "n1" and pages[1].next_token is None
    assert c.initialize_group() == "g55"
    g = kit.prepare_key_init(alice, [bob.public_keys], conversation_id="g55")
    assert c.create_group(g, members=["2002"], admins=["1001"], name="n").sequence_id == "78"
    pm = kit.prepare_message(alice, "2002", "hi", conversation_key=init.conversation_key,
                             conversation_key_version=init.conversation_key_version)  # fmt: skip
    assert c.send_message(pm) == "AAA="
    assert c.get_conversations(max_results=5) == [{"id": "1001-2002"}]
    assert c.get_conversation("2002:1001") == {"id": "1001-2002"}

    paths = [p for (_, p, _) in seen]
    assert "/2/users/1001/public_keys" in paths
    assert "/2/chat/conversations/2002/keys" in paths
    assert "/2/chat/conversations/1001-2002/events?max_results=1" in paths
    assert "/2/chat/conversations/1001-2002/events?max_results=1&pagination_token=n1" in paths
    assert "/2/chat/conversations/1001-2002/messages" in paths
    assert "/2/chat/conversations?max_results=5" in paths
    assert "/2/chat/conversations/2002-1001" in paths  # ids pass through (the server canonicalizes)
    group_body = next(b for (_, p, b) in seen if p == "/2/chat/conversations/group")
    assert group_body["conversation_id"] == "g55" and group_body["group_members"] == ["2002"]
    assert group_body["group_admins"] == ["1001"] and group_body["group_name"] == "n"
    keys_body = next(b for (_, p, b) in seen if p.endswith("/keys"))
    assert keys_body == init.body


def test_latest_public_keys_checks_the_binding() -> None:
    bob = kit.Identity.from_seed("bob (demo only)", "2002")
    mallory = kit.Identity.from_seed("mallory (demo only)", "2002")
    forged = {**bob.public_keys.to_api(), "public_key": mallory.public_keys.public_key}
    c = mock_client(lambda r: httpx.Response(200, json={"data": [forged]}))
    with pytest.raises(kit.SignatureError):
        c.latest_public_keys("2002")


def test_partial_errors_are_returned_not_raised() -> None:
    bob = kit.Identity.from_seed("bob (demo only)", "2002")
    body = {
        "data": [{**bob.public_keys.to_api(), "user_id": "2002"}],
        "errors": [{"type": "https://api.x.com/2/problems/resource-not-found", "title": "Not Found Error",
                    "detail": "user 3 does not exist", "resource_type": "user", "value": "3"}],
    }  # fmt: skip
    res = mock_client(lambda r: httpx.Response(200, json=body)).get_users_public_keys(["2002", "3"])
    assert list(res.keys) == ["2002"] and res.keys["2002"][0].public_key == bob.public_keys.public_key
    assert [e.kind for e in res.errors] == ["resource-not-found"] and res.errors[0].extra["value"] == "3"


# ----------------------------------------------------------------------------- connect()


def test_connect_default_is_the_in_process_sandbox(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("X_API_BASE_URL", raising=False)
    monkeypatch.delenv("X_API_USER_TOKEN", raising=False)
    with kit.connect() as c:
        out = capsys.readouterr().out
        assert out.count("\n") == 1 and "in-process sandbox" in out
        alice = c.sandbox_user(username())
        assert alice.get_conversations() == []
    with kit.connect(quiet=True):
        assert capsys.readouterr().out == ""


def test_connect_reads_the_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("X_API_BASE_URL", "http://10.0.0.5:8000")
    monkeypatch.delenv("X_API_USER_TOKEN", raising=False)
    with kit.connect() as c:
        assert str(c.http.base_url).rstrip("/") == "http://10.0.0.5:8000" and c.http.auth is None
    assert "sandbox server at http://10.0.0.5:8000" in capsys.readouterr().out
    monkeypatch.delenv("X_API_BASE_URL")
    monkeypatch.setenv("X_API_USER_TOKEN", TOKEN)
    with kit.connect(user_id="1001") as c:
        assert str(c.http.base_url).rstrip("/") == LIVE_BASE_URL and isinstance(c.http.auth, TokenAuth)
        assert c.user_id == "1001"
        assert TOKEN not in repr(c) and TOKEN not in repr(c.http.auth)
    out = capsys.readouterr().out
    assert "live X API" in out and TOKEN not in out


def test_as_user_shares_the_door_and_the_hooks() -> None:
    log: list[str] = []
    with kit.connect(quiet=True) as root:
        root.http.event_hooks["response"].append(lambda r: log.append(r.request.url.path))
        alice = root.sandbox_user(username())
        assert alice.http._transport is root.http._transport
        alice.get_conversations()
        assert log == ["/sandbox/users", "/2/chat/conversations"]
        assert isinstance(alice.http.auth, TokenAuth) and root.http.auth is None


# ----------------------------------------------------------------------------- tokens never show


def _no_token(token: str, *things: object) -> None:
    for thing in things:
        assert token not in repr(thing), thing
        assert token not in str(thing), thing


def test_token_auth_hides_the_token() -> None:
    auth = TokenAuth(TOKEN)
    _no_token(TOKEN, auth)
    assert repr(auth) == "TokenAuth(<hidden>)"
    with pytest.raises(ValueError, match="non-empty"):
        TokenAuth("  ")
    user = SandboxUser("1001", "alice", TOKEN)
    _no_token(TOKEN, user)
    assert "1001" in repr(user) and "alice" in repr(user)
    c = mock_client(lambda r: problem_response(401, "not-authorized-for-resource", "bad token", resource_type="user"))
    _no_token(TOKEN, c)
    with pytest.raises(kit.Unauthorized) as exc2:
        c.get_conversations()
    _no_token(TOKEN, exc2.value, exc2.value.problem, exc2.value.args)


@pytest.mark.parametrize("where", ["detail", "title", "extension", "nested extension", "errors list", "type"])
def test_a_server_that_echoes_the_token_does_not_leak_it(where: str) -> None:
    """The client scrubs its own token from any problem it receives, wherever the server put it."""

    def handler(r: httpx.Request) -> httpx.Response:
        token = r.headers["authorization"].removeprefix("Bearer ")
        body: dict[str, Any] = {
            "type": "https://api.x.com/2/problems/invalid-request",
            "title": "Invalid Request",
            "detail": "bad request",
            "status": 400,
        }
        if where == "detail":
            body["detail"] = f"the token {token} is not valid here"
        elif where == "title":
            body["title"] = f"Invalid {token}"
        elif where == "extension":
            body["value"] = token
        elif where == "nested extension":
            body["parameters"] = {"ids": [f"x{token}y"]}
        elif where == "errors list":
            body["errors"] = [{"message": f"echo: Bearer {token}"}]
        else:
            body["type"] = f"https://api.x.com/2/problems/{token}"
        return httpx.Response(400, headers={"content-type": "application/problem+json"}, content=json.dumps(body).encode())

    c = mock_client(handler)
    with pytest.raises(kit.APIError) as exc:
        c.get_conversations()
    err = exc.value
    _no_token(TOKEN, err, err.problem, err.args)
    assert TOKEN not in json.dumps(err.problem.to_dict())
    assert "<token hidden>" in json.dumps(err.problem.to_dict())  # scrubbed, not dropped: the rest of the text stays


def test_tokens_never_in_errors_through_either_door(connect: Connect) -> None:
    root = connect()
    user = root.create_sandbox_user(username())
    client = root.as_user(user)
    token = user.access_token
    _no_token(token, user, client, root, client.http.auth)
    wrong = kit.Client(httpx.Client(transport=root.http._transport, base_url=root.http.base_url, auth=TokenAuth(token + "x")))
    calls: list[Callable[[], Any]] = [
        lambda: wrong.get_conversations(),
        lambda: client.get_public_keys("9" * 19),
        lambda: client.get_events("1234567"),
        lambda: client.register_keys(kit.Identity.generate("1001")),
        lambda: client.request("POST", f"/2/chat/conversations/{user.id}/keys", json={"token": token}),
        lambda: client.request("GET", "/2/users/public_keys", params={"ids": token}),
        lambda: client.request("GET", f"/2/chat/conversations/{token}"),
        lambda: root.create_sandbox_user(token[:20]),
    ]
    for call in calls:
        with pytest.raises(kit.APIError) as exc:
            call()
        _no_token(token, exc.value, exc.value.problem, exc.value.args)
        assert token not in json.dumps(exc.value.problem.to_dict())
    wrong.close()


def test_the_sandbox_never_echoes_a_bearer_token(connect: Connect) -> None:
    """Server side too: a token pasted into a parameter is not sent back (so no client can leak it)."""
    root = connect()
    user = root.create_sandbox_user(username())
    raw = httpx.Client(transport=root.http._transport, base_url=root.http.base_url,
                       headers={"authorization": f"Bearer {user.access_token}"})  # fmt: skip
    r = raw.get("/2/users/public_keys", params={"ids": user.access_token})
    assert r.status_code == 400 and user.access_token not in r.text and "<token hidden>" in r.text
    r = raw.get(f"/2/chat/conversations/{user.access_token}/events")
    assert r.status_code == 400 and user.access_token not in r.text
    raw.close()
