"""The room's errors, each one line saying what to do (`RoomError` and its tree in `kit.room`; notebook 07)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit.errors import APIError, Conflict, DecryptionError, KitError, Unauthorized

__all__ = [
    "NameTaken",
    "RoomError",
    "RoomReset",
    "RoomStateError",
    "ServerUnreachable",
    "WrongPassphrase",
    "room_reset",
    "server_unreachable",
]


class RoomError(KitError):
    """Base of the room's errors: each says in one line what happened and what to do."""


class ServerUnreachable(RoomError):
    """Nothing answers at the room's address, or what answers is not a kit sandbox."""


class NameTaken(RoomError, Conflict):
    """409: the name belongs to another account in this room; `.suggestion` is a free one."""

    def __init__(self, problem: Any, *, suggestion: str | None, response: Any = None) -> None:
        super().__init__(problem, response=response)
        self.suggestion = suggestion

    def __str__(self) -> str:
        return self.problem.detail


class RoomReset(RoomError, Unauthorized):
    """401: the server no longer accepts this account's token (the operator reset the room or the name)."""

    def __str__(self) -> str:
        return self.problem.detail


class RoomStateError(RoomError):
    """The saved room state cannot be used: damaged, edited, or for another server or name."""


class WrongPassphrase(RoomStateError, DecryptionError):
    """The passphrase does not open the saved room state."""


# ----------------------------------------------------------------------------- the errors as the room raises them


def server_unreachable(where: str, exc: Exception) -> ServerUnreachable:
    """The error for a server that does not answer at `where`: what to check, in one line."""
    why = type(exc).__name__
    return ServerUnreachable(
        f"cannot reach the room's server at {where} ({why}): check the address on the board (http://, the numbers, "
        "the port), that you are on the same Wi-Fi as the host, that the network does not isolate its guests "
        "(client isolation on guest networks: ask the host), and that the host's firewall lets the port in"
    )


def room_reset(err: APIError, room: str, name: str, state: Path | None) -> RoomReset:
    """The 401 `err` as a `RoomReset`: the room no longer accepts this account, and how to start over."""
    start_over = f"kit.join({room!r}, name={name!r}, fresh=True)"
    where = f" (or delete {state.name})" if state is not None else ""
    detail = (
        f"the room at {room} no longer accepts the account of {name!r} (401): the operator reset the room, freed your name "
        "or revoked your access. "
        f"Start over with {start_over}{where}: a new account and new keys (old messages stay unreadable)"
    )
    problem = type(err.problem)(err.problem.type, err.problem.title, detail, 401, dict(err.problem.extra))
    out = RoomReset(problem, response=err.response)
    out.status = 401
    return out
