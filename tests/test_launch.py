"""tools/launch.py: the command lines of `make lab` and `make app`, and both servers really starting.

The smoke tests run the same script the Makefile runs, on a free port, without a display (as in CI,
a container or a cloud VM; as root when the tests run as root), and talk to the server over HTTP.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "launch.py"

spec = importlib.util.spec_from_file_location("launch", SCRIPT)
assert spec is not None and spec.loader is not None
launch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(launch)


def test_allow_root_only_for_root() -> None:
    as_root = launch.command("lab", port=1, open_browser=False, root=True)
    as_user = launch.command("lab", port=1, open_browser=False, root=False)
    assert "--allow-root" in as_root and "--allow-root" not in as_user
    assert as_root[:3] == [sys.executable, "-m", "jupyterlab"]


def test_no_browser_without_a_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch.sys, "platform", "linux")
    assert not launch.has_display({})
    assert launch.has_display({"DISPLAY": ":0"}) and launch.has_display({"BROWSER": "firefox"})
    assert launch.has_display({"WAYLAND_DISPLAY": "wayland-0"})
    monkeypatch.setattr(launch.sys, "platform", "darwin")
    assert launch.has_display({})  # a laptop opens the browser
    assert "--no-browser" in launch.command("app", port=1, open_browser=False, root=False)
    assert "--no-browser" not in launch.command("app", port=1, open_browser=True, root=False)


def test_unknown_target() -> None:
    with pytest.raises(ValueError, match="'lab' or 'app'"):
        launch.command("notebook", port=1, open_browser=False, root=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(what: str, port: int, env: dict[str, str], tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = tmp_path / f"{what}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPT), what, "--port", str(port)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return proc, log


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, *, params: dict[str, str] | None = None) -> httpx.Response:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server stopped with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            r = httpx.get(url, params=params, timeout=60)
            if r.status_code == 200:
                return r
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    pytest.fail(f"{url} did not answer 200 within 120 s:\n{log.read_text(errors='replace')[-3000:]}")


def _headless_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY", "BROWSER"}}


def test_make_lab_serves_the_notebooks(tmp_path: Path) -> None:
    port = _free_port()
    env = _headless_env()
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    env["XCHAT_KIT_LAB_TOKEN"] = token = "t" + os.urandom(16).hex()
    proc, log = _start("lab", port, env, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        status = _wait(f"{base}/api/status", proc, log, params={"token": token}).json()
        assert "started" in status
        assert httpx.get(f"{base}/api/status").status_code == 403  # the token is required
        listing = httpx.get(f"{base}/api/contents/notebooks", params={"token": token}).json()
        names = {item["name"] for item in listing["content"]}
        assert {"00-index.ipynb", "01-identities.ipynb", "app.ipynb"} <= names
        first = httpx.get(f"{base}/api/contents/notebooks/00-index.ipynb", params={"token": token}).json()
        assert first["type"] == "notebook" and first["content"]["cells"]
        text = log.read_text(errors="replace")
        assert f"open: http://127.0.0.1:{port}/lab/tree/notebooks/00-index.ipynb?token={token}" in text
        assert "Running as root is not recommended" not in text
    finally:
        _stop(proc)


def test_make_app_serves_the_voila_app(tmp_path: Path) -> None:
    port = _free_port()
    env = _headless_env()
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    proc, log = _start("app", port, env, tmp_path)
    try:
        page = _wait(f"http://127.0.0.1:{port}/", proc, log).text
        assert "<title>xchat-kit app</title>" in page
        assert f"open: http://127.0.0.1:{port}/" in log.read_text(errors="replace")
    finally:
        _stop(proc)
