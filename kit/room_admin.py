"""`python -m kit room status|revoke|free-name|reset`: the operator's commands, over HTTP.

    python -m kit room status --server http://127.0.0.1:8000 --db room.sqlite
    python -m kit room free-name ada           # a name or a user id
    python -m kit room revoke 1184708632380708485
    python -m kit room reset                   # asks you to type "reset" (or --yes)

The operator token is read from `--token-file`, by default the file the server wrote beside its
database (``room.sqlite.operator-token`` for ``--db room.sqlite``). It is sent only as a bearer
header and never printed. Imports load when a command runs: `python -m kit sandbox` builds its
parser from this module and must not load the sandbox before its server starts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

__all__ = ["RoomAdminError", "add_commands", "main", "run"]

DEFAULT_SERVER = "http://127.0.0.1:8000"
DEFAULT_DB = "room.sqlite"


class RoomAdminError(Exception):
    """A command that cannot be done, with what to do about it (printed as one line, exit status 2)."""


def add_commands(sub: Any) -> argparse.ArgumentParser:
    """Add `room` and its subcommands to the `python -m kit` parser's subparsers."""
    room = sub.add_parser("room", help="operate a served workshop room: status, revoke, free-name, reset")
    actions = room.add_subparsers(dest="action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", default=DEFAULT_SERVER, help=f"the room's address (default {DEFAULT_SERVER})")
    common.add_argument("--db", default=DEFAULT_DB, help=f"the server's --db, to find its token file (default {DEFAULT_DB})")
    common.add_argument("--token-file", default=None, help="the operator token file (default: the one beside --db)")
    actions.add_parser("status", parents=[common], help="who is in, and the counts")
    for name, what in (("revoke", "end a user's tokens for good"), ("free-name", "free a name: its learner joins again")):
        one = actions.add_parser(name, parents=[common], help=what)
        one.add_argument("user", help="a room name or a user id")
    reset = actions.add_parser("reset", parents=[common], help="remove every account, key and conversation (keeps the file)")
    reset.add_argument("--yes", action="store_true", help="do not ask for the confirmation")
    return room


def read_token(args: argparse.Namespace) -> str:
    """The operator token from `--token-file`, or from the file beside `--db`."""
    from kit.sandbox.operator import token_file_for

    path = Path(args.token_file) if args.token_file else token_file_for(args.db)
    if path is None:
        raise RoomAdminError(f"--db {args.db} is not a file, so there is no token file beside it: give --token-file")
    try:
        token = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise RoomAdminError(
            f"cannot read the operator token from {path} ({exc.__class__.__name__}): run this where the server runs, "
            "or give --token-file / --db"
        ) from None
    if not token:
        raise RoomAdminError(f"{path} is empty: the server writes its operator token there when it starts")
    return token


def _call(http: Any, method: str, path: str, token_file: str, **kwargs: Any) -> Any:
    import httpx

    try:
        r = http.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise RoomAdminError(f"cannot reach the room at {http.base_url} ({exc.__class__.__name__}): is the server running, and is --server right?") from None
    if r.status_code == 403:
        raise RoomAdminError(
            f"the server refused the operator token from {token_file}: it makes a new one at every start; "
            "use the token file of the server that runs now"
        )
    try:
        body = r.json()
    except ValueError:
        raise RoomAdminError(f"{method} {path} answered {r.status_code}, not JSON: is {http.base_url} a kit sandbox?") from None
    if r.status_code >= 400:
        raise RoomAdminError(f"{r.status_code}: {body.get('detail') or body}")
    return body["data"]


def _find(members: list[dict[str, Any]], who: str) -> dict[str, Any]:
    from kit.sandbox.room import name_key

    by_id = [m for m in members if m["id"] == who]
    by_name = [m for m in members if name_key(m["name"]) == name_key(who)]
    found = by_id or by_name
    if not found:
        raise RoomAdminError(f"nobody in the room is called or has the id {who!r}: see python -m kit room status")
    return found[0]


def _status_lines(data: dict[str, Any]) -> list[str]:
    lines = [f"{data['users']} users, {data['conversations']} conversations"]
    for m in data["members"]:
        flag = "  (revoked)" if m["revoked"] else ""
        fp = (m["fingerprint"] or "no keys yet")[:16]
        lines.append(f"  {m['name']:<32} {m['id']:>19}  {fp:<16}  versions {', '.join(m['key_versions']) or '-'}{flag}")
    return lines


def run(args: argparse.Namespace, *, out: TextIO | None = None, ask: Callable[[str], str] = input) -> int:
    """Do one `room` command; 0 on success (1 for a reset not confirmed), 2 with one line on
    stderr when it cannot be done. `out` is stdout by default; `ask` reads the confirmation."""
    out = out if out is not None else sys.stdout
    import httpx

    from kit.sandbox.operator import token_file_for

    try:
        token = read_token(args)
        token_file = args.token_file or str(token_file_for(args.db))
        with httpx.Client(base_url=args.server, headers={"authorization": f"Bearer {token}"}, timeout=30) as http:
            status = _call(http, "GET", "/sandbox/operator/status", token_file)
            if args.action == "status":
                print("\n".join(_status_lines(status)), file=out)
                return 0
            if args.action == "reset":
                if not args.yes and ask(f"Reset the room at {args.server}: every account, key and conversation goes. Type reset: ").strip() != "reset":
                    print("not reset", file=out)
                    return 1
                _call(http, "POST", "/sandbox/operator/reset", token_file, json={"confirm": "reset"})
                print(f"reset: the room at {args.server} is empty; learners run kit.join again", file=out)
                return 0
            member = _find(status["members"], args.user)
            action = "revoke" if args.action == "revoke" else "free-name"
            _call(http, "POST", f"/sandbox/operator/users/{member['id']}/{action}", token_file)
            done = "revoked" if action == "revoke" else "freed the name of"
            print(f"{done} {member['name']} ({member['id']}); they run kit.join again", file=out)
            return 0
    except RoomAdminError as exc:
        print(f"python -m kit room {args.action}: {exc}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    """`python -m kit room ...` on its own (the same as through `kit.__main__`)."""
    parser = argparse.ArgumentParser(prog="python -m kit")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(["room", *(argv if argv is not None else sys.argv[1:])]))
