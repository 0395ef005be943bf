"""The "Try it" panels of notebooks 01–06 in real Chromium: each renders, answers a click, and is photographed.

Every step notebook ends with a kit.ui panel, which GitHub and nbviewer cannot run. So that a reader of the
static page still sees what it does, its "Try it" section shows a picture of it, taken here: one small notebook
with each panel in its own cell (the same constructor calls as the notebooks, each on a fresh in-process
sandbox) runs in JupyterLab, the test clicks what a learner would click first, checks what the panel shows, and
screenshots the panel's output area. The committed pictures (docs/panels/*.png) are rewritten only with
KIT_UPDATE_SCREENSHOT=1, like tests/test_browser.py's; otherwise they go to test-results/panels/.

Recipe: ../shared/recipes/browser-test.md (Debian's /usr/bin/chromium, a throwaway HOME, `make chromium`).
Runs in its own pytest process with tests/test_browser.py (see the Makefile: Playwright leaves an event loop).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from browser_fixtures import (  # noqa: F401  (fixtures)
    NO_LIVE_API,
    NO_NEWS,
    base_url,
    browser_type_launch_args,
    button,
    lab_env,
    lab_url,
    make_home,
    open_and_run,
    picture_path,
)
from playwright.sync_api import Locator, Page, expect

import kit

ROOT = Path(__file__).resolve().parent.parent
PANELS = picture_path("panels")
ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"
CAROL_ID = "1843439638876491776"
DAVE_ID = "1706203357069312000"
TIMEOUT_MS = 30_000

pytestmark = pytest.mark.timeout(180)  # backstop: a stuck page.evaluate has no timeout of its own

SETUP = f"""import kit

ALICE_ID, BOB_ID, CAROL_ID, DAVE_ID = "{ALICE_ID}", "{BOB_ID}", "{CAROL_ID}", "{DAVE_ID}"
alice = kit.Identity.from_seed("alice (demo only)", ALICE_ID, version="1")
bob = kit.Identity.from_seed("bob (demo only)", BOB_ID, version="1")
carol = kit.Identity.from_seed("carol (demo only)", CAROL_ID, version="1")
dave = kit.Identity.from_seed("dave (demo only)", DAVE_ID, version="1")


def sandbox(*people):
    \"\"\"A fresh in-process sandbox with `people` registered; their clients, in order.\"\"\"
    api = kit.connect()
    names = {{ALICE_ID: "alice", BOB_ID: "bob", CAROL_ID: "carol", DAVE_ID: "dave"}}
    clients = [api.sandbox_user(names[p.user_id], user_id=p.user_id) for p in people]
    for client, person in zip(clients, people):
        client.register_keys(person)
    return clients
"""

#: (picture name, the cell that makes the panel, as in its notebook). Order = cell order.
CELLS: list[tuple[str, str]] = [
    ("01-keys", "(alice_api,) = sandbox(alice)\nkit.ui.KeyPanel(alice_api)"),
    ("02-wrap", "kit.ui.WrapExplorer([alice, bob, carol])"),
    ("03-request", "alice_api, bob_api = sandbox(alice, bob)\nkit.ui.RequestBuilder(alice_api, alice, alice_api.latest_public_keys(BOB_ID))"),
    ("04-request", "alice_api, bob_api = sandbox(alice, bob)\nkit.ui.RequestBuilder(alice_api, alice, alice_api.latest_public_keys(BOB_ID))"),
    (
        "05-trust",
        "alice_api, bob_api = sandbox(alice, bob)\ntrust = kit.TrustStore()\ntrust.pin(bob_api.latest_public_keys(ALICE_ID))\n"
        "kit.ui.TrustPanel(bob_api, bob, ALICE_ID, trust=trust)",
    ),
    (
        "05-inbox",
        "alice_api, bob_api = sandbox(alice, bob)\n"
        "init = kit.prepare_key_init(alice, [alice_api.latest_public_keys(BOB_ID)])\n"
        "conversation = alice_api.add_conversation_keys(init, path_id=BOB_ID).conversation_id\n"
        "alice_api.send_message(kit.prepare_message(alice, conversation, 'hello bob, this is end-to-end encrypted', "
        "conversation_key=init.conversation_key, conversation_key_version=init.conversation_key_version))\n"
        "kit.ui.Inbox(bob_api, bob, trust=kit.TrustStore())",
    ),
    (
        "06-inbox",
        "alice_api, bob_api, carol_api, dave_api = sandbox(alice, bob, carol, dave)\n"
        "group_id = alice_api.initialize_group()\n"
        "group_init = kit.prepare_key_init(alice, [alice_api.latest_public_keys(u) for u in (BOB_ID, CAROL_ID, DAVE_ID)], conversation_id=group_id)\n"
        "alice_api.create_group(group_init, members=[BOB_ID, CAROL_ID, DAVE_ID], name='demo group')\n"
        "kit.ui.Inbox(carol_api, carol)",
    ),
]
NAMES = [name for name, _ in CELLS]


# ------------------------------------------------------------------------------ fixtures (the rest: browser_fixtures)


@pytest.fixture(scope="session")
def browser_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME for Lab and Chromium: no news toast, and every cell rendered (no windowing off-screen)."""
    windowing = {"notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"}}
    return make_home(tmp_path_factory.mktemp("panels-home"), {**NO_NEWS, **windowing})


@pytest.fixture(scope="session")
def browser_env(browser_home: Path) -> dict[str, str]:
    return lab_env(browser_home, drop=(*NO_LIVE_API, "XCHAT_MY_ID", "XCHAT_NEIGHBOUR_ID"))  # the in-process sandbox


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What Lab serves: the small notebook, the setup, then one panel per cell."""
    root = tmp_path_factory.mktemp("panels")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(SETUP)] + [nbformat.v4.new_code_cell(src) for _, src in CELLS]
    nbformat.write(nb, root / "panels.ipynb")
    return root


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


# ------------------------------------------------------------------------------ what each panel shows


def _keys(panel: Locator) -> None:
    expect(button(panel, "Generate")).to_be_enabled()
    expect(button(panel, "Register")).to_be_disabled()
    expect(panel.locator(".widget-text", has_text="user id").locator("input")).to_have_value(ALICE_ID)
    button(panel, "Generate").click()
    fingerprint = panel.locator(".widget-text", has_text="fingerprint").locator("input")
    expect(fingerprint).to_have_value(re.compile(r"^[A-Za-z0-9_-]{43}$"))
    expect(panel.locator(".xk-byte-map .xk-byte")).to_have_count(91)
    expect(panel.get_by_text("not registered yet")).to_be_visible()
    button(panel, "Register").click()
    expect(panel.locator(".xk-ok")).to_have_text(re.compile(r"^registered: key version \d{13}$"))


def _wrap(panel: Locator) -> None:
    for name in ("Wrap", "Flip", "Unwrap"):
        expect(button(panel, name)).to_be_visible()
    panel.locator(".widget-dropdown select").select_option(index=1)  # bob
    button(panel, "Wrap").click()
    expect(panel.locator(".xk-byte-map .xk-byte")).to_have_count(113)
    expect(panel.locator('.xk-byte-map .xk-byte[data-segment="tag"]')).to_have_count(16)
    button(panel, "Flip").click()
    button(panel, "Unwrap").click()
    expect(panel.locator(".xk-error")).to_contain_text("DecryptionError: wrapped conversation key does not open")


def _request_built(panel: Locator) -> None:
    expect(panel.locator(".widget-text", has_text="conversation key version").locator("input")).to_have_value(re.compile(r"^\d{13}$"))
    expect(button(panel, "Send message")).to_be_disabled()
    button(panel, "Build").click()
    expect(panel.locator(".xk-json")).to_contain_text('"conversation_participant_keys"')
    expect(panel.locator(".xk-json")).to_contain_text('"action_signatures"')


def _request_sent(panel: Locator) -> None:
    button(panel, "Build").click()
    button(panel, "Send").click()
    expect(panel.locator(".xk-ok")).to_have_text(re.compile(rf"^conversation_id: {ALICE_ID}-{BOB_ID} · sequence_id: \d+$"))
    expect(button(panel, "Send message")).to_be_enabled()


def _trust(panel: Locator) -> None:
    code = kit.comparison_code(
        kit.Identity.from_seed("bob (demo only)", BOB_ID, version="1"),
        kit.Identity.from_seed("alice (demo only)", ALICE_ID, version="1"),
    )
    expect(panel.locator(".xk-code")).to_have_text(code)
    expect(panel.locator(".xk-trust-state")).to_have_text("pinned")
    for name in ("Refresh", "Verify", "Accept change"):
        expect(button(panel, name)).to_be_visible()
    panel.locator(".widget-text input").fill(code)
    button(panel, "Verify").click()
    expect(panel.locator(".xk-trust-state")).to_have_text("verified")


def _inbox_1to1(panel: Locator) -> None:
    button(panel, "Fetch").click()
    shows = panel.locator(".xk-inbox .xk-shows")
    expect(shows).to_have_count(2)
    expect(shows.nth(0)).to_have_text(re.compile(r"^signature verified; conversation key version \d+ unwrapped$"))
    expect(shows.nth(1)).to_have_text("hello bob, this is end-to-end encrypted")
    expect(panel.locator(".xk-inbox .xk-trust-pinned")).to_have_count(2)


def _inbox_group(panel: Locator) -> None:
    button(panel, "Fetch").click()
    shows = panel.locator(".xk-inbox .xk-shows")
    expect(shows).to_have_count(1)
    expect(shows.nth(0)).to_have_text(re.compile(r"^signature verified; conversation key version \d+ unwrapped$"))
    expect(panel.locator(".xk-inbox")).to_contain_text(re.compile(r"g\d{19}"))


SHOWS: dict[str, Callable[[Locator], None]] = {
    "01-keys": _keys,
    "02-wrap": _wrap,
    "03-request": _request_built,
    "04-request": _request_sent,
    "05-trust": _trust,
    "05-inbox": _inbox_1to1,
    "06-inbox": _inbox_group,
}
assert list(SHOWS) == NAMES


# ------------------------------------------------------------------------------ the test


def test_every_try_it_panel_renders_answers_and_is_photographed(page: Page, base_url: str) -> None:
    open_and_run(page, f"{base_url}/lab/tree/panels.ipynb", TIMEOUT_MS, collapse_sidebars=True)
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    expect(cells).to_have_count(1 + len(CELLS))
    PANELS.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(NAMES, start=1):
        cell = cells.nth(index)
        panel = cell.locator(".jp-OutputArea-output .widget-vbox").first
        expect(panel).to_be_visible()
        expect(cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_have_count(0)
        SHOWS[name](panel)
        panel.scroll_into_view_if_needed()
        picture = PANELS / f"{name}.png"
        panel.screenshot(path=str(picture))
        assert picture.stat().st_size > 5_000, f"{picture} looks empty"


def test_every_try_it_of_01_to_06_shows_its_committed_picture() -> None:
    """Each "Try it" of 01–06 has the picture this file takes, with alt text, and the picture is committed."""
    shown: set[str] = set()
    for path in sorted((ROOT / "notebooks").glob("0[1-6]-*.ipynb")):
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        found = re.findall(r"!\[([^\]]{20,})\]\(\.\./docs/panels/([0-9a-z-]+)\.png\)", text)
        assert found, f"{path.name}: its Try it section shows no panel picture"
        for alt, name in found:
            assert name.startswith(path.name[:2]) and name in NAMES, f"{path.name}: {name}.png is not taken here"
            assert (ROOT / "docs" / "panels" / f"{name}.png").stat().st_size > 5_000
            shown.add(name)
    assert shown == set(NAMES)
