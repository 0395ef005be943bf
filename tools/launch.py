"""Start JupyterLab (`make lab`) or the Voila app (`make app`): the one place their command lines live.

    python tools/launch.py lab [--port N] [--no-browser]
    python tools/launch.py app [--port N] [--no-browser]

Both work as root (a Docker container, a cloud VM, a CI runner): `--allow-root` is passed only when
the user is root. On Linux without a display (`$DISPLAY`, `$WAYLAND_DISPLAY` and `$BROWSER` unset)
no browser is opened; on a laptop it is. The address to open is printed in a box before the
server's own log starts. `tests/test_launch.py` runs this same script and talks to the server.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_NOTEBOOK = "notebooks/00-index.ipynb"
APP_NOTEBOOK = "notebooks/app.ipynb"


def is_root() -> bool:
    """True when this process runs as the superuser (JupyterLab refuses to start then unless told)."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


def has_display(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether a browser can be opened: always on macOS and Windows, on Linux only with a display or $BROWSER."""
    if not sys.platform.startswith("linux"):
        return True
    return any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER"))


def command(what: str, *, port: int, open_browser: bool, root: bool) -> list[str]:
    """The command line for `lab` or `app` (the tests check its flags)."""
    if what == "lab":
        cmd = [
            sys.executable, "-m", "jupyterlab",
            f"--config={ROOT / 'tools' / 'jupyter_lab_config.py'}",
            f"--ServerApp.root_dir={ROOT}",  # the repository: notebooks link to ../docs
            f"--ServerApp.default_url=/lab/tree/{FIRST_NOTEBOOK}",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
        ]  # fmt: skip
    elif what == "app":
        cmd = [
            sys.executable, "-m", "voila", str(ROOT / APP_NOTEBOOK),
            f"--Voila.port={port}",
            "--Voila.port_retries=0",
            "--Voila.ip=127.0.0.1",  # the app runs code as you: only this machine may reach it
        ]  # fmt: skip
    else:
        raise ValueError(f"what must be 'lab' or 'app', got {what!r}")
    if not open_browser:
        cmd.append("--no-browser")
    if root and what == "lab":
        cmd.append("--allow-root")
    return cmd


def banner(what: str, url: str) -> str:
    """The box printed before the server starts, with the address to open."""
    title = "JupyterLab with the xchat-kit notebooks" if what == "lab" else "the xchat-kit app (Voila)"
    lines = [f"  {title}", f"  open: {url}", "  stop: Ctrl-C"]
    width = max(len(line) for line in lines) + 2
    return "\n".join(["+" + "-" * width + "+", *(f"|{line.ljust(width)}|" for line in lines), "+" + "-" * width + "+"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/launch.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["lab", "app"])
    parser.add_argument("--port", type=int, default=None, help="default 8888 for lab, 8866 for app")
    parser.add_argument("--no-browser", action="store_true", help="never open a browser")
    args = parser.parse_args(argv)
    port = args.port or (8888 if args.what == "lab" else 8866)
    open_browser = not args.no_browser and has_display()
    env = dict(os.environ)
    if args.what == "lab":
        # The login token travels in the environment (tools/jupyter_lab_config.py reads it), not on
        # the command line, where `ps` shows it.
        token = env.get("XCHAT_KIT_LAB_TOKEN") or secrets.token_hex(24)
        env["XCHAT_KIT_LAB_TOKEN"] = token
        url = f"http://127.0.0.1:{port}/lab/tree/{FIRST_NOTEBOOK}?token={token}"
    else:
        url = f"http://127.0.0.1:{port}/"
    cmd = command(args.what, port=port, open_browser=open_browser, root=is_root())
    if args.what == "app" and shutil.which("voila", path=str(Path(sys.executable).parent)) is None:
        try:
            import voila  # noqa: F401
        except ImportError:
            print("Voila is not installed: `make app` installs it (pip install 'xchat-kit[app]')", file=sys.stderr)
            return 2
    print(banner(args.what, url), flush=True)
    os.chdir(ROOT)
    os.execve(cmd[0], cmd, env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
