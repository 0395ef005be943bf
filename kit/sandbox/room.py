"""The workshop room: join by name, the room's members, the health page, and freeing a name.

- `POST /sandbox/join` ``{"name": "ada"}`` (no token): a new user with a server-assigned id
  (19 digits, a signed 64-bit integer) and an access token; the name is the learner's handle in
  the room. Counted in the per-address user-creation limit, with `POST /sandbox/users`.
- `GET /sandbox/room/members` (a learner's token), ``?name=`` for one: who is in, with the
  fingerprint and key versions of their registered keys.
- `GET /sandbox/health` (no token): is the server up, how many users and conversations.

Names are 1 to 32 printable characters once surrounding white space is stripped, and are
compared by `name_key`: NFKC-normalized and case-folded, so "Ada", " ada " and "ＡＤＡ" are one
name. A name belongs to one account until the operator frees it (`free_name`): that account
keeps its id and its conversations but loses its tokens and can no longer be found by the name.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any

from kit.errors import APIError
from kit.keys import PublicKeys, fingerprint
from kit.sandbox.calls import Context
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.users import Users

__all__ = ["MAX_NAME_CHARS", "Room", "check_name", "name_key"]

#: The longest room name, in characters (after stripping surrounding white space).
MAX_NAME_CHARS = 32


def check_name(value: Any, *, where: str = "$.name") -> str:
    """The name as the room keeps it (surrounding white space stripped), or a 400 stating the rule."""
    rule = f"1 to {MAX_NAME_CHARS} printable characters"
    if not isinstance(value, str):
        raise APIError.of(400, f"{where} must be a string of {rule}, got {type(value).__name__}", parameter=where)
    name = value.strip()
    if not name:
        raise APIError.of(400, f"{where} must be {rule}; it is empty once surrounding spaces are stripped", parameter=where)
    if len(name) > MAX_NAME_CHARS:
        raise APIError.of(400, f"{where} must be {rule}; it is {len(name)} characters", parameter=where)
    bad = next((c for c in name if not c.isprintable()), None)
    if bad is not None:
        raise APIError.of(
            400, f"{where} must be {rule}; character {name.index(bad)} is not printable (U+{ord(bad):04X})", parameter=where
        )
    return name


def name_key(name: str) -> str:
    """How names are compared: surrounding white space stripped, NFKC-normalized, case-folded."""
    return unicodedata.normalize("NFKC", name.strip()).casefold()


class Room:
    """The room_names table: which account holds which name."""

    def __init__(self, context: Context, users: Users, lies: Mapping[str, PublicKeys] | None = None) -> None:
        self.ctx = context
        self.users = users
        #: `Sandbox.lie`'s swapped keys (the directory's own dict): the members list lies the same way
        self.lies: Mapping[str, PublicKeys] = lies if lies is not None else {}

    def join(self, body: Any) -> Reply:
        """POST /sandbox/join: a new account holding `name`, or a 409 suggesting a free name."""
        if not isinstance(body, dict) or "name" not in body:
            raise APIError.of(400, f'the body must be {{"name": ...}}: $.name is required, {MAX_NAME_CHARS} characters at most', parameter="name")
        unknown = sorted(set(body) - {"name"})
        if unknown:
            raise APIError.of(400, f"$.{unknown[0]} is not a member of a join request; send only $.name", parameter=f"$.{unknown[0]}")
        name = check_name(body["name"])
        key = name_key(name)
        with self.ctx.store.transaction() as db:
            if db.execute("SELECT 1 FROM room_names WHERE name_key = ?", (key,)).fetchone():
                suggestion = self._suggest(db, name)
                raise APIError.of(
                    409,
                    f"the name {name!r} is taken in this room (names ignore case and surrounding spaces); "
                    f"pick another, e.g. {suggestion!r}",
                    parameter="name",
                    value=name,
                    suggestion=suggestion,
                )
            # The API username is not the room name ('-' is never in a POST /sandbox/users name: no clash).
            user_id, token = self.users.insert(db, "room-" + (new_id := Users.free_id(db)), new_id)
            db.execute(
                "INSERT INTO room_names (name_key, name, user_id, joined_at) VALUES (?, ?, ?, ?)",
                (key, name, user_id, self.ctx.now_ms()),
            )
        return json_reply(201, {"data": {"id": user_id, "name": name, "access_token": token}})

    @staticmethod
    def _suggest(db: Any, name: str) -> str:
        """The first free name of `name`2, `name`3, ... (shortened to fit)."""
        n = 2
        while True:
            tail = str(n)
            candidate = name[: MAX_NAME_CHARS - len(tail)].rstrip() + tail
            if not db.execute("SELECT 1 FROM room_names WHERE name_key = ?", (name_key(candidate),)).fetchone():
                return candidate
            n += 1

    def members(self, query: list[tuple[str, str]]) -> Reply:
        """GET /sandbox/room/members: everyone in the room (not revoked), or the one `?name=`."""
        names = [v for k, v in query if k == "name"]
        unknown = sorted({k for k, _ in query} - {"name"})
        if unknown:
            raise APIError.of(400, f"query parameter {unknown[0]!r} is not one of this endpoint's; it takes only ?name=", parameter=unknown[0])
        if len(names) > 1:
            raise APIError.of(400, "query parameter name is given more than once; give one name", parameter="name")
        if names:
            name = check_name(names[0], where="query parameter name")
            found = self.listing(name_key(name))
            if not found:
                raise APIError.of(
                    404, f"nobody in this room is called {name!r}", resource_type="user", parameter="name", value=name
                )
            return json_reply(200, {"data": found})
        return json_reply(200, {"data": self.listing()})

    def listing(self, key: str | None = None, *, include_revoked: bool = False) -> list[dict[str, Any]]:
        """The members in the order they joined: id, name, fingerprint of the newest key version
        (None before any), key versions newest first; with `include_revoked`, revoked ones too
        (each entry then says `revoked`)."""
        where = "" if include_revoked else " AND u.revoked = 0"
        args: tuple[Any, ...] = ()
        if key is not None:
            where += " AND r.name_key = ?"
            args = (key,)
        rows = self.ctx.store.read(
            "SELECT r.user_id, r.name, u.revoked FROM room_names r JOIN users u ON u.id = r.user_id "
            f"WHERE 1 = 1{where} ORDER BY r.joined_at, r.user_id",
            args,
        )
        if not rows:
            return []
        ids = [str(r[0]) for r in rows]
        keys: dict[str, list[tuple[str, str]]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for user_id, version, record in self.ctx.store.read(
                f"SELECT user_id, version, record FROM public_keys WHERE user_id IN ({marks}) ORDER BY version_num DESC",
                tuple(chunk),
            ):
                keys.setdefault(str(user_id), []).append((str(version), str(record)))
        out = []
        for user_id, name, revoked in rows:
            mine = keys.get(str(user_id), [])
            lie = self.lies.get(str(user_id))
            newest = (lie.public_key if lie is not None else json.loads(mine[0][1])["public_key"]) if mine else None
            entry: dict[str, Any] = {
                "id": str(user_id),
                "name": str(name),
                "fingerprint": fingerprint(newest) if newest is not None else None,
                "key_versions": [v for v, _ in mine],
            }
            if include_revoked:
                entry["revoked"] = bool(revoked)
            out.append(entry)
        return out

    def counts(self) -> tuple[int, int]:
        """(users, conversations) in the sandbox (pending groups not counted)."""
        users = self.ctx.store.read("SELECT COUNT(*) FROM users")[0][0]
        conversations = self.ctx.store.read("SELECT COUNT(*) FROM conversations WHERE kind != 'group-pending'")[0][0]
        return int(users), int(conversations)

    def health(self, version: str) -> Reply:
        """GET /sandbox/health: up, how many users and conversations, the kit's version."""
        users, conversations = self.counts()
        return json_reply(
            200, {"status": "ok", "users": users, "conversations": conversations, "version": version}, {"cache-control": "no-store"}
        )

    def free_name(self, user_id: str) -> str | None:
        """Free the name `user_id` holds: the account keeps its id and conversations, loses its
        tokens (a 401 tells it to join again) and is no longer found by the name. The freed name, or
        None when the user holds no name (a 404 for the caller to raise)."""
        with self.ctx.store.transaction() as db:
            row = db.execute("SELECT name FROM room_names WHERE user_id = ?", (user_id,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM room_names WHERE user_id = ?", (user_id,))
            self.users.end_access(db, user_id, "free-name")
        return str(row[0])
