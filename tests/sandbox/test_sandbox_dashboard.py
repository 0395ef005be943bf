"""The dashboard's page and JSON through both doors (the browser test drives it in Chromium):
who is in, the conversations, and what the server holds of one, which is never plaintext."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sandbox_fixtures import (  # noqa: F401  (fixtures)
    AnswerLog,
    ServedSandbox,
    answers,
    door,
    raw_client,
    served,
    with_hooks,
)

import kit
from kit.client import SandboxUser
from kit.sandbox import Sandbox

SECRET_TEXT = "meet at the library at noon"


@dataclass
class Pairing:
    http: httpx.Client
    names: tuple[str, str]
    ids: tuple[str, str]
    path_id: str
    events: list[str]


@pytest.fixture
def pairing(door: str, request: pytest.FixtureRequest, answers: AnswerLog) -> Iterator[Pairing]:
    """Two learners joined by name, keys registered, a conversation initialized, one message sent."""
    import secrets

    if door == "inprocess":
        root = with_hooks(kit.connect(sandbox=Sandbox(), quiet=True), answers)
    else:
        server: ServedSandbox = request.getfixturevalue("served")
        root = with_hooks(kit.connect(base_url=server.url, quiet=True), answers)
    tag = secrets.token_hex(3)
    names = (f"ada-{tag}", f"<b>grace</b>-{tag}")
    clients, identities = [], []
    for name in names:
        data = root.http.post("/sandbox/join", json={"name": name}).json()["data"]
        client = root.as_user(SandboxUser(data["id"], "room-" + data["id"], data["access_token"]))
        identity = kit.Identity.generate(data["id"])
        client.register_keys(identity)
        clients.append(client)
        identities.append(identity)
    init = kit.prepare_key_init(identities[0], [identities[1].public_keys])
    clients[0].add_conversation_keys(init)
    message = kit.prepare_message(
        identities[0], init.conversation_id, SECRET_TEXT,
        conversation_key=init.conversation_key, conversation_key_version=init.conversation_key_version,
    )  # fmt: skip
    clients[0].send_message(message)
    page = clients[1].get_events(init.path_id)
    with raw_client(root) as http:
        yield Pairing(http, names, (identities[0].user_id, identities[1].user_id), init.path_id, page.key_changes + page.messages)
    root.close()


def test_the_page_is_rendered_with_both_names_escaped_and_loads_only_from_the_sandbox(pairing: Pairing) -> None:
    r = pairing.http.get("/")
    assert r.status_code == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    page = r.text
    assert pairing.names[0] in page
    assert "&lt;b&gt;grace&lt;/b&gt;" in page and "<b>grace</b>" not in page  # a name is text, never markup
    assert pairing.path_id in page and SECRET_TEXT not in page
    loads = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert loads and all(u.startswith("/sandbox/static/") for u in loads), loads
    for url in loads:
        asset = pairing.http.get(url)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(("text/javascript", "text/css"))
        assert "http://" not in asset.text and "https://" not in asset.text  # nothing from elsewhere
        assert "@import" not in asset.text and "url(" not in asset.text


def test_the_json_lists_members_and_the_pair_with_its_counts(pairing: Pairing) -> None:
    data = pairing.http.get("/sandbox/dashboard.json").json()["data"]
    members = {m["id"]: m for m in data["members"]}
    for user_id, name in zip(pairing.ids, pairing.names):
        assert members[user_id]["name"] == name and members[user_id]["fingerprint"] and len(members[user_id]["key_versions"]) == 1
    (pair,) = [c for c in data["conversations"] if c["id"] == pairing.path_id]
    assert pair["kind"] == "pair" and pair["key_changes"] == 1 and pair["messages"] == 1
    assert {p["name"] for p in pair["participants"]} == set(pairing.names)
    assert pair["latest_key_version"]


def test_what_the_server_sees_is_the_stored_bytes_and_never_the_text(pairing: Pairing) -> None:
    r = pairing.http.get("/sandbox/dashboard/events", params={"id": pairing.path_id})
    assert r.status_code == 200
    view = r.json()["data"]
    assert [e["kind"] for e in view["events"]] == ["key_change", "message"]
    assert sorted(e["encoded_event"] for e in view["events"]) == sorted(pairing.events)  # exactly what participants read
    key_change, message = view["events"]
    assert len([p for p in key_change["parts"] if "wrapped for" in p["label"]]) == 2
    assert any(p["label"].startswith("signature by") for p in key_change["parts"])
    (sealed,) = [p for p in message["parts"] if p["label"].startswith("sealed message")]
    blob = base64.b64decode(sealed["base64"])
    assert len(blob) >= len(SECRET_TEXT.encode()) + 16
    everything = r.text.encode()
    assert SECRET_TEXT.encode() not in everything
    for e in view["events"]:
        assert SECRET_TEXT.encode() not in base64.b64decode(e["encoded_event"])
    assert SECRET_TEXT.encode() not in blob


@pytest.mark.parametrize(
    ("params", "status"),
    [({"id": "x"}, 400), ({"id": "1-1"}, 404), ({}, 400), ({"id": "5-6", "other": "1"}, 400), ({"id": "5" * 80}, 400),
     ({"id": "5-6"}, 404), ({"id": "g123"}, 404)],
)  # fmt: skip
def test_the_events_view_refuses_what_is_no_conversation(pairing: Pairing, params: dict[str, str], status: int) -> None:
    r = pairing.http.get("/sandbox/dashboard/events", params=params)
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json", r.text


def test_the_dashboard_routes_are_get_only(pairing: Pairing) -> None:
    for path in ("/", "/sandbox/dashboard.json", "/sandbox/dashboard/events", "/sandbox/static/dashboard.js"):
        r = pairing.http.post(path)
        assert r.status_code == 405 and r.headers["allow"] == "GET", (path, r.text)
    assert pairing.http.get("/sandbox/static/other.js").status_code == 404
