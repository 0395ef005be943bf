"""A real browser: the room's dashboard at `/` of a served sandbox, in Debian's Chromium.

After a scripted pairing (two learners join by name, register keys, initialize their conversation,
send a message) the page lists both names and their conversation, and "what the server sees"
shows the stored ciphertext and never the message's text. Opened with the operator link, its
Revoke, Free name and Reset room buttons work; without it there are none, and the operator
endpoints answer 403 to the page. Runs in the browser test's own pytest process (see Makefile).
Recipe: ../shared/recipes/browser-test.md.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from browser_fixtures import browser_type_launch_args, picture_path, set_timeouts  # noqa: F401  (fixtures)
from playwright.sync_api import Page, expect
from sandbox_fixtures import ServedSandbox, served_sandbox

import kit
from kit.client import SandboxUser

ROOT = Path(__file__).resolve().parent.parent
# The docs' picture is refreshed only on request (KIT_UPDATE_SCREENSHOT=1), like docs/screenshot.png.
SCREENSHOT = picture_path("dashboard.png")
SECRET_TEXT = "meet at the library at noon"
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="session")
def browser_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashboard-home")


@pytest.fixture(scope="session")
def browser_env(browser_home: Path) -> dict[str, str]:
    """Chromium's environment (no Lab here): this one without XDG state, with its own HOME."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("XDG_",))}, "HOME": str(browser_home)}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@dataclass
class Room:
    server: ServedSandbox
    names: dict[str, str]  # name -> user id
    tokens: dict[str, str]  # name -> access token
    path_id: str
    stored_message: str  # the message event as the server stores it (base64)


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    """A served room (its default rate limits on) with ada and grace paired and one message sent."""
    with served_sandbox(tmp_path / "server.log", db=tmp_path / "room.sqlite", rate_limit="room") as server:
        root = kit.connect(base_url=server.url, quiet=True)
        names, tokens, clients, identities = {}, {}, [], []
        for name in ("ada", "grace"):
            data = root.http.post("/sandbox/join", json={"name": name}).json()["data"]
            names[name], tokens[name] = data["id"], data["access_token"]
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
        stored = clients[0].send_message(message)
        yield Room(server, names, tokens, init.path_id, stored)
        root.close()


@pytest.fixture(scope="session")
def base_url() -> str:
    """pytest-playwright's base_url (overridden: its fallback warns under pytest 9); pages use absolute URLs."""
    return ""


def _open(page: Page, url: str) -> None:
    set_timeouts(page, TIMEOUT_MS)
    page.goto(url)


def _status(page: Page, path: str, token: str | None, body: dict | None = None) -> int:
    """The status of a request the page's own JavaScript makes (same origin, as the dashboard's)."""
    return int(page.evaluate(
        """async ([path, token, body]) => {
             const headers = token ? {authorization: "Bearer " + token} : {};
             if (body) headers["content-type"] = "application/json";
             const r = await fetch(path, {method: body || path.endsWith("revoke") || path.endsWith("free-name") ? "POST" : "GET",
                                          headers, body: body ? JSON.stringify(body) : undefined});
             return r.status;
           }""",
        [path, token, body],
    ))  # fmt: skip


def test_the_dashboard_shows_the_room_and_what_the_server_sees(page: Page, room: Room) -> None:
    _open(page, room.server.url + "/")
    members = page.locator("#member-rows tr")
    expect(members).to_have_count(2)
    for name, user_id in room.names.items():
        row = page.locator(f'#member-rows tr[data-user="{user_id}"]')
        expect(row.locator("td.name")).to_have_text(name)
        expect(row.locator("td.fp")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{43}$"))
    conversation = page.locator(f'#conversation-rows tr[data-conversation="{room.path_id}"]')
    expect(conversation).to_contain_text(re.compile(r"ada, grace|grace, ada"))
    expect(conversation).to_contain_text("pair")
    conversation.click()
    expect(page.locator("#server-sees-id")).to_contain_text(room.path_id)
    events = page.locator("#server-sees-events .event")
    expect(events).to_have_count(2)
    expect(events.nth(0)).to_contain_text("wrapped for grace")
    expect(events.nth(0)).to_contain_text("wrapped for ada")
    sealed = events.nth(1).locator(".part", has_text="sealed message").locator("code")
    expect(sealed).to_have_text(re.compile(r"^[A-Za-z0-9+/]+=*$"))
    blob = base64.b64decode(sealed.inner_text())
    assert blob and blob in base64.b64decode(room.stored_message)  # the bytes the server stores
    whole = page.content() + page.locator("body").inner_text()
    assert SECRET_TEXT not in whole  # the server has no plaintext to show
    # Not the operator: no buttons, and the operator endpoints refuse the page (and a learner's token).
    expect(page.locator("#operator-bar")).to_be_hidden()
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(page.get_by_role("button", name="Free name")).to_have_count(0)
    assert _status(page, "/sandbox/operator/reset", None, {"confirm": "reset"}) == 403
    assert _status(page, f"/sandbox/operator/users/{room.names['ada']}/revoke", room.tokens["grace"]) == 403
    assert _status(page, f"/sandbox/operator/users/{room.names['ada']}/free-name", room.tokens["ada"]) == 403
    # It keeps itself current: a third learner appears without a reload.
    httpx.post(room.server.url + "/sandbox/join", json={"name": "lin"}).raise_for_status()
    expect(members).to_have_count(3)
    expect(page.locator("#member-rows td.name", has_text="lin")).to_be_visible()
    assert httpx.get(room.server.url + "/sandbox/health").json()["users"] == 3


def test_the_operator_link_shows_the_buttons_and_they_work(page: Page, room: Room) -> None:
    _open(page, room.server.url + "/#operator=" + room.server.operator_token)
    expect(page.locator("#operator-bar")).to_be_visible()
    assert "#operator" not in page.url  # the token leaves the address bar (the projector shows it)
    expect(page.get_by_role("button", name="Revoke")).to_have_count(2)
    expect(page.get_by_role("button", name="Free name")).to_have_count(2)
    expect(page.locator("#server-sees-events .event")).to_have_count(2)  # the newest conversation, selected
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000

    grace = page.locator(f'#member-rows tr[data-user="{room.names["grace"]}"]')
    grace.get_by_role("button", name="Free name").click()
    expect(page.locator("#operator-result")).to_have_text("done: free-name")
    expect(grace).to_have_class("revoked")
    expect(grace.locator("td.name")).to_have_text(re.compile(r"^@room-\d+$"))  # the name is free
    r = httpx.get(room.server.url + "/sandbox/room/members", headers={"authorization": f"Bearer {room.tokens['grace']}"})
    assert r.status_code == 401 and "kit.join" in r.json()["detail"]
    assert httpx.post(room.server.url + "/sandbox/join", json={"name": "Grace"}).status_code == 201  # she rejoins

    ada = page.locator(f'#member-rows tr[data-user="{room.names["ada"]}"]')
    ada.get_by_role("button", name="Revoke").click()
    expect(ada).to_have_class("revoked")
    r = httpx.get(room.server.url + "/sandbox/room/members", headers={"authorization": f"Bearer {room.tokens['ada']}"})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]

    page.once("dialog", lambda dialog: dialog.dismiss())  # "Cancel": nothing happens
    page.get_by_role("button", name="Reset room").click()
    expect(page.locator("#member-rows tr")).to_have_count(3)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset room").click()
    expect(page.locator("#operator-result")).to_have_text("done: reset")
    expect(page.locator("#member-rows tr")).to_have_count(0)
    expect(page.locator("#conversation-rows tr")).to_have_count(0)
    expect(page.locator("#server-sees-events .event")).to_have_count(0)
    assert httpx.get(room.server.url + "/sandbox/health").json()["users"] == 0

    log = room.server.log_text()
    banner = [line for line in log.splitlines() if room.server.operator_token in line]
    assert len(banner) == 1 and "#operator=" in banner[0]  # the fragment never reached the server's log


def test_a_wrong_operator_link_shows_no_buttons(page: Page, room: Room) -> None:
    _open(page, room.server.url + "/#operator=op_not-this-rooms-token-000000000000")
    expect(page.locator("#operator-warning")).to_contain_text("not this room's (403)")
    expect(page.locator("#operator-bar")).to_be_hidden()
    expect(page.locator("#member-rows tr")).to_have_count(2)
    expect(page.get_by_role("button", name="Revoke")).to_have_count(0)
