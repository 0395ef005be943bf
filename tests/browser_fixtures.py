"""Shared set-up for the real-browser tests: JupyterLab in the background, Debian's Chromium for Playwright.

Recipe: ../shared/recipes/browser-test.md. Playwright drives /usr/bin/chromium (``make chromium``
installs it); nothing here downloads a browser, and nothing is skipped when it is missing: the
test fails and says what to install. Lab and Chromium get a throwaway HOME.

A test file imports the fixtures it uses by name (``from browser_fixtures import base_url, ...``,
as the sandbox tests import ``sandbox_fixtures``) and overrides the ones that differ by defining a
fixture of the same name: ``lab_root`` (what Lab serves; every Lab user defines it), ``browser_home``
(extra Lab settings), ``browser_env`` (what Lab and Chromium see of the environment).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sandbox_fixtures import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
#: Lab's news and update checks off: no toast over the page.
NO_NEWS = {"apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False}}
#: What a learner's Lab kernel does not have: no sandbox server, no live token.
NO_LIVE_API = ("X_API_BASE_URL", "X_API_USER_TOKEN")
KERNEL_IDLE = "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
# Fired without returning its promise: page.evaluate has no timeout of its own.
RUN_ALL_CELLS = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"


def picture_path(name: str) -> Path:
    """Where a picture goes: the committed docs/<name> only on request (KIT_UPDATE_SCREENSHOT=1), else test-results/."""
    return ROOT / ("docs" if os.environ.get("KIT_UPDATE_SCREENSHOT") == "1" else "test-results") / name


# ------------------------------------------------------------------------------ HOME, environment, Lab


def make_home(home: Path, settings: Mapping[str, dict] = NO_NEWS) -> Path:
    """`home` with Lab user settings written under .jupyter/lab/user-settings/@jupyterlab/ (path -> JSON)."""
    for path, value in settings.items():
        target = home / ".jupyter/lab/user-settings/@jupyterlab" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
    return home


def lab_env(home: Path, drop: Iterable[str] = NO_LIVE_API) -> dict[str, str]:
    """This environment without Jupyter/IPython/XDG state or the names in `drop`, with HOME = `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "XDG_", "IPYTHON"))}
    env.update(HOME=str(home), PYTHONUNBUFFERED="1")
    for name in drop:
        env.pop(name, None)
    return env


@contextmanager
def running_lab(root: Path, env: Mapping[str, str], log_path: Path, *, timeout: float = 60) -> Iterator[str]:
    """JupyterLab from this venv (its kernel imports the kit) on a free port serving `root`; yields its URL.

    Waits until /api/status answers; at exit terminates the process by its handle (kills it after 10 s).
    """
    port = free_port()
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
            "--port-retries=0", f"--ServerApp.root_dir={root}", "--IdentityProvider.token=",
            "--LabApp.expose_app_in_browser=True",
        ],
        cwd=root,
        env=dict(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer on {url} within {timeout:g} s; see {log.name}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def chromium_launch_args(env: Mapping[str, str]) -> dict:
    """Debian's Chromium, headless, quiet: no downloads, no sync, no first-run pages."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make chromium` (apt-get install chromium)"
    return {"executable_path": CHROMIUM, "headless": True, "env": dict(env), "args": list(CHROMIUM_ARGS)}


# ------------------------------------------------------------------------------ fixtures (session-scoped)


@pytest.fixture(scope="session")
def browser_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A HOME for Lab and Chromium, with Lab's news and update checks off (no toast over the page)."""
    return make_home(tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="session")
def browser_env(browser_home: Path) -> dict[str, str]:
    """The environment of Lab (and its kernel) and of Chromium."""
    return lab_env(browser_home)


@pytest.fixture(scope="session")
def lab_url(tmp_path_factory: pytest.TempPathFactory, lab_root: Path, browser_env: dict[str, str]) -> Iterator[str]:
    """JupyterLab on a free port serving `lab_root` (a fixture of the test file)."""
    with running_lab(lab_root, browser_env, tmp_path_factory.mktemp("lab") / "lab.log") as url:
        yield url


@pytest.fixture(scope="session")
def base_url(lab_url: str) -> str:
    """pytest-playwright's base_url (overridden: its fallback warns under pytest 9)."""
    return lab_url


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_env: dict[str, str]) -> dict:
    """Debian's Chromium, headless, quiet: no downloads, no sync, no first-run pages."""
    return chromium_launch_args(browser_env)


# ------------------------------------------------------------------------------ page helpers


def set_timeouts(page: Page, timeout_ms: int) -> None:
    """The page's and expect()'s timeouts (expect has its own 5 s default that the page's does not change)."""
    page.set_default_timeout(timeout_ms)
    expect.set_options(timeout=timeout_ms)


def open_and_run(page: Page, url: str, timeout_ms: int, *, collapse_sidebars: bool = False) -> None:
    """Open a notebook in Lab, wait for an idle kernel, run all its cells (without waiting for them)."""
    set_timeouts(page, timeout_ms)
    page.goto(url)
    # Running cells before the kernel is idle opens "Select Kernel" and the command never resolves.
    page.wait_for_function(KERNEL_IDLE)
    if collapse_sidebars:
        page.evaluate("() => { window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight(); }")
    page.evaluate(RUN_ALL_CELLS)


def button(panel: Locator, name: str) -> Locator:
    return panel.get_by_role("button", name=name, exact=True)
