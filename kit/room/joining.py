"""`join()`: into a workshop room by name, the first time (a new account, sealed state) or again (resumed from the state file) (notebook 07)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import httpx

from kit.client import Client, SandboxUser, connect
from kit.errors import APIError, Conflict, NotFound, Unauthorized
from kit.keys import Identity
from kit.room.errors import NameTaken, RoomError, ServerUnreachable, room_reset, server_unreachable
from kit.room.learner import OFFLINE, Room
from kit.room.state import base_url, open_state, passphrase_or_ask, read_state, seal, state_file

__all__ = ["CONNECT_TIMEOUT_S", "join"]

#: Seconds to wait for a connection: a wrong address should fail in a few seconds, not thirty.
CONNECT_TIMEOUT_S = 5.0


def _post_join(root: Client, name: str, *, where: str, state: Path | None, fresh: bool = False) -> SandboxUser:
    try:
        data = root.request("POST", "/sandbox/join", json={"name": name})["data"]
    except Conflict as err:
        suggestion = err.problem.extra.get("suggestion")
        other = f", e.g. name={suggestion!r}" if suggestion else ""
        if state is None:
            mine = ""
        elif fresh:
            mine = "; if it is your old account's, ask the operator to free the name (Free name), then run this again"
        else:
            mine = (
                f"; if the name is yours from before, your state file {state.name} is not in this folder: "
                "restore it, or ask the operator to free the name"
            )
        detail = f"the name {name!r} is taken in the room at {where}: choose another{other}{mine}"
        problem = type(err.problem)(err.problem.type, err.problem.title, detail, 409, dict(err.problem.extra))
        taken = NameTaken(problem, suggestion=suggestion, response=err.response)
        taken.status = 409
        raise taken from None
    except NotFound:
        raise ServerUnreachable(
            f"{where} answers but has no room (404 on POST /sandbox/join): is it a kit sandbox new enough for "
            "workshops (python -m kit sandbox ...)? check the port"
        ) from None
    return SandboxUser(str(data["id"]), str(data["name"]), str(data["access_token"]))


def _health(root: Client, where: str) -> dict[str, Any]:
    try:
        return root.request("GET", "/sandbox/health")
    except httpx.TransportError as exc:
        raise server_unreachable(where, exc) from None
    except APIError as exc:
        raise ServerUnreachable(
            f"{where} answers, but not as a kit sandbox ({exc.status} on /sandbox/health): check the address and the port"
        ) from None


def join(
    url: str | None,
    *,
    name: str,
    state_dir: str | os.PathLike[str] | None = ".",
    passphrase: str | None = None,
    fresh: bool = False,
    sandbox: Any = None,
    demo_seed: str | None = None,
    quiet: bool = False,
) -> Room:
    """Join the workshop room at `url` as `name`, or resume where you left off.

    First time: the server makes your account (it assigns the user id; names are unique, ignoring case),
    fresh keys are made and registered, and a state file is saved in `state_dir` with the token and the
    identity sealed under `passphrase` (asked with getpass when not given). Again later (a new kernel):
    the same call opens that file and resumes as the same user with the same keys. `fresh=True` starts
    over with a new account (the old state file is replaced). `state_dir=None` saves nothing (no
    passphrase, no resuming: for scripts and load tests).

    `url=None`: offline, an in-process room that saves nothing (`sandbox=` joins another learner's
    in-process room: `room.client.sandbox`); `demo_seed` (offline only, DEMO ONLY) makes the keys from
    a public seed so a lesson shows the same fingerprints every run.
    """
    if not isinstance(name, str) or not name.strip():
        raise RoomError(f"name must be 1 to 32 printable characters, e.g. name='ada', got {name!r}")
    if url is None:
        return _join_offline(name, sandbox=sandbox, demo_seed=demo_seed, quiet=quiet)
    if demo_seed is not None:
        raise RoomError("demo_seed is for offline lessons only: in a room, keys made from a public seed are anybody's")
    base = base_url(url)
    root = connect(base_url=base, quiet=True)
    root.http.timeout = httpx.Timeout(30.0, connect=CONNECT_TIMEOUT_S)
    try:
        _health(root, base)
        if state_dir is None:
            room = _create(root, base, name, None, None)
            verb = "joined"
        elif (path := state_file(base, name, state_dir)).exists() and not fresh:
            room = _resume(root, base, name, path, passphrase)
            verb = "resumed"
        else:
            room = _create(root, base, name, path, passphrase, fresh=fresh)
            verb = "joined"
    except BaseException:
        root.close()
        raise
    root.close()  # the room's client has its own connection pool
    if not quiet:
        saved = (
            f"your state is in {room.state_path.name} (passphrase-protected)" if room.state_path else "nothing saved (state_dir=None)"
        )
        print(f"kit: {verb} the room at {base} as {room.name}; {saved}")
    return room


def _acting_as(root: Client, account: SandboxUser) -> Client:
    # Its own connection pool: `join` closes `root` (as_user would share, and so close, its transport).
    client = connect(base_url=str(root.http.base_url).rstrip("/"), token=account.access_token, user_id=account.id, quiet=True)
    client.http.timeout = root.http.timeout
    return client


def _create(root: Client, base: str, name: str, path: Path | None, passphrase: str | None, *, fresh: bool = False) -> Room:
    if path is None:  # state_dir=None: nothing saved, nothing sealed
        account = _post_join(root, name, where=base, state=None)
        room = Room(url=base, name=account.username, identity=Identity.generate(account.id), client=_acting_as(root, account))
        room.register()
        return room
    pw = passphrase_or_ask(passphrase, f"choose a passphrase for your room state ({path.name}): ")
    account = _post_join(root, name, where=base, state=path, fresh=fresh)
    identity = Identity.generate(account.id)
    sealed = {
        "identity_sealed": base64.b64encode(identity.export_protected(pw)).decode("ascii"),
        "token_sealed": seal(account.access_token.encode("utf-8"), pw),
    }
    room = Room(url=base, name=account.username, identity=identity, client=_acting_as(root, account), state_path=path, sealed=sealed)
    room.save()  # before registering: a failure below still leaves a state to resume from
    room.register()
    return room


def _resume(root: Client, base: str, name: str, path: Path, passphrase: str | None) -> Room:
    state = read_state(path, base, name)
    pw = passphrase_or_ask(passphrase, f"passphrase for {path.name}: ")
    identity, token, trust = open_state(state, path, pw, name)
    account = SandboxUser(identity.user_id, str(state["name"]), token)
    sealed = {"identity_sealed": state["identity_sealed"], "token_sealed": state["token_sealed"]}
    room = Room(url=base, name=account.username, identity=identity, client=_acting_as(root, account), trust=trust, state_path=path, sealed=sealed)
    try:
        room.register()  # checks the token too; registers the keys if an earlier join stopped before it
    except Unauthorized as err:
        room.close()
        raise room_reset(err, base, name, path) from None
    except httpx.TransportError as exc:
        room.close()
        raise server_unreachable(base, exc) from None
    return room


def _join_offline(name: str, *, sandbox: Any, demo_seed: str | None, quiet: bool) -> Room:
    root = connect(sandbox=sandbox, quiet=True)
    account = _post_join(root, name, where=OFFLINE, state=None)
    if demo_seed is not None:
        identity = Identity.from_seed(demo_seed, account.id, version="1")
    else:
        identity = Identity.generate(account.id)
    room = Room(url=None, name=account.username, identity=identity, client=root.as_user(account))
    room.register()
    if not quiet:
        print(f"kit: offline: {room.name} joined an in-process room (nothing is saved; set the address to join a workshop)")
    return room
