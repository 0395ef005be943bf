"""The workshop room, from a learner's side: join by name, resume after a restart, find your neighbour.

    >>> import kit
    >>> room = kit.join(None, name="ada", quiet=True)        # offline: an in-process room, nothing saved
    >>> room.name, room.check().ok
    ('ada', True)

`kit.join(url, name=...)` creates the account on first use (`POST /sandbox/join`: the server assigns the
user id), makes fresh keys and registers them, and saves what it needs to resume in a small state file
in `state_dir` (one per server and name, `.xchat-room-<name>-<host>-<port>.json`, owner-only). The file
holds the access token and the identity only sealed under your passphrase (`kit.vault`, Argon2id), and
the trust store's public fingerprints. The same call after a kernel restart opens that file and resumes:
same user id, same keys, and old messages still readable (their key-change events stay on the server and
were wrapped to the same identity key; `Room.catch_up` reads them into `room.keyring` again).

Errors say what to do, in one line::

    RoomError                 base (a kit.KitError)
    ├── ServerUnreachable     nothing answers at the address (or it is not a kit sandbox)
    ├── NameTaken             409: someone holds the name (`.suggestion` is a free one); also a kit.Conflict
    ├── RoomReset             401: the operator reset the room or your name; also a kit.Unauthorized
    └── RoomStateError        the saved state file is damaged, or is for another server or name
        └── WrongPassphrase   the passphrase does not open the saved state; also a kit.DecryptionError

The room is the kit's teaching design for a workshop (the sandbox's `/sandbox/...` endpoints); X has no
such endpoint.

The package: `kit.room.errors` (the tree above), `kit.room.state` (the sealed state file),
`kit.room.learner` (`Room`), `kit.room.joining` (`join`).
"""

from __future__ import annotations

from kit.room.errors import NameTaken, RoomError, RoomReset, RoomStateError, ServerUnreachable, WrongPassphrase
from kit.room.joining import CONNECT_TIMEOUT_S, join
from kit.room.learner import Member, Room, RoomCheck
from kit.room.state import STATE_KIND, ask_passphrase, state_file

__all__ = [
    "CONNECT_TIMEOUT_S",
    "STATE_KIND",
    "Member",
    "NameTaken",
    "Room",
    "RoomCheck",
    "RoomError",
    "RoomReset",
    "RoomStateError",
    "ServerUnreachable",
    "WrongPassphrase",
    "ask_passphrase",
    "join",
    "state_file",
]
