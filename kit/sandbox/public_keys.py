"""Users' public keys: register a version, read one user's or many users' keys."""

from __future__ import annotations

import json
from typing import Any

from kit.errors import APIError, KitError
from kit.ids import check_user_id, check_version
from kit.keys import PublicKeys, fingerprint, load_public_key
from kit.sandbox.calls import Call, Context
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.users import Users

__all__ = ["PublicKeyDirectory"]


def _path_user(text: str) -> str:
    """A user id from the path, or a 400: "0001" is no spelling of user "1"."""
    try:
        return check_user_id(text, what="path parameter id")
    except KitError as exc:
        raise APIError.of(400, str(exc), parameter="id", value=text) from None


class PublicKeyDirectory:
    """The public_keys table: each user's registered key versions and their records."""

    def __init__(self, context: Context, users: Users) -> None:
        self.ctx = context
        self.users = users
        #: user id -> the keys served instead of theirs (`Sandbox.lie`; in memory, never stored)
        self.lies: dict[str, PublicKeys] = {}

    def add(self, call: Call) -> Reply:
        """addUserPublicKey: register (or idempotently re-register) the caller's keys as a version."""
        user_id = _path_user(call.params["id"])
        if user_id != call.caller:
            raise APIError.of(
                403, f"user {call.caller} cannot register keys for user {user_id}", resource_type="user", resource_id=user_id
            )
        body = call.body
        version = body["version"]
        try:
            check_version(version, what="$.version", now_ms=self.ctx.now_ms())
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter="$.version", value=str(version)) from None
        reg = body["public_key"]
        for name in ("public_key", "signing_public_key", "identity_public_key_signature"):
            if not isinstance(reg.get(name), str) or not reg[name]:
                raise APIError.of(400, f"$.public_key.{name} is required", parameter=f"$.public_key.{name}")
        record = PublicKeys(
            user_id=user_id,
            version=version,
            public_key=reg["public_key"],
            signing_public_key=reg["signing_public_key"],
            identity_public_key_signature=reg["identity_public_key_signature"],
            signing_public_key_signature=reg.get("signing_public_key_signature") or "",
        )
        try:
            load_public_key(record.public_key, what="$.public_key.public_key")
            load_public_key(record.signing_public_key, what="$.public_key.signing_public_key")
            record.verify_binding()
            if reg.get("public_key_fingerprint") and reg["public_key_fingerprint"] != fingerprint(record.public_key):
                raise APIError.of(
                    400,
                    "$.public_key.public_key_fingerprint is not base64url(SHA-256(identity SPKI))",
                    parameter="$.public_key.public_key_fingerprint",
                )
        except KitError as exc:
            raise APIError.of(400, f"$.public_key: {exc}", parameter="$.public_key") from None
        stored = json.dumps(record.to_api(), sort_keys=True)
        with self.ctx.store.transaction() as db:
            row = db.execute("SELECT record FROM public_keys WHERE user_id = ? AND version = ?", (user_id, version)).fetchone()
            if row is not None and row[0] != stored:
                raise APIError.of(
                    409, f"user {user_id} already registered different keys as version {version}", parameter="$.version", value=version
                )
            if row is None:
                db.execute(
                    "INSERT INTO public_keys (user_id, version, version_num, record) VALUES (?, ?, ?, ?)",
                    (user_id, version, f"{int(version):030d}", stored),
                )
        return json_reply(200, {"data": {"public_key_version": version}})

    def get_one(self, call: Call) -> Reply:
        """getUsersPublicKey: one user's key versions, newest first."""
        user_id = _path_user(call.params["id"])
        if not self.users.exists(user_id):
            raise APIError.of(404, f"user {user_id} does not exist in this sandbox", resource_type="user", resource_id=user_id, parameter="id", value=user_id)
        return json_reply(200, {"data": self._fields(self._keys_of(user_id), call.query)})

    def get_many(self, call: Call) -> Reply:
        """getUsersPublicKeys: several users' key versions; unknown users are listed in `errors`."""
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for i, user_id in enumerate(call.query["ids"]):
            try:
                check_user_id(user_id, what=f"query parameter ids[{i}]")
            except KitError as exc:
                raise APIError.of(400, str(exc), parameter="ids") from None
        for user_id in dict.fromkeys(call.query["ids"]):
            if not self.users.exists(user_id):
                errors.append(
                    APIError.of(404, f"user {user_id} does not exist in this sandbox", resource_type="user", resource_id=user_id, parameter="ids", value=user_id).problem.to_dict()
                )
                continue
            # PublicKey objects carry no user id in the document; the sandbox adds one so a
            # client can tell whose keys these are.
            data.extend({**r, "user_id": user_id} for r in self._fields(self._keys_of(user_id), call.query))
        out: dict[str, Any] = {"data": data}
        if errors:
            out["errors"] = errors
        return json_reply(200, out)

    def registered(self, user_ids: set[str]) -> set[tuple[str, str]]:
        """Every registered (user id, key version) of these users, in a few queries, not one per entry."""
        ids = sorted(user_ids)
        out: set[tuple[str, str]] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out.update(
                (str(r[0]), str(r[1]))
                for r in self.ctx.store.read(f"SELECT user_id, version FROM public_keys WHERE user_id IN ({marks})", tuple(chunk))
            )
        return out

    def registered_keys(self, user_id: str, version: str) -> PublicKeys | None:
        """The keys the user registered as this version, as stored (never a `lie`), or None."""
        rows = self.ctx.store.read("SELECT record FROM public_keys WHERE user_id = ? AND version = ?", (user_id, version))
        return PublicKeys.from_api(json.loads(rows[0][0]), user_id=user_id) if rows else None

    def has_key(self, user_id: str, version: str) -> bool:
        """Whether the user registered this key version."""
        return bool(self.ctx.store.read("SELECT 1 FROM public_keys WHERE user_id = ? AND version = ?", (user_id, version)))

    def _keys_of(self, user_id: str) -> list[dict[str, Any]]:
        rows = self.ctx.store.read("SELECT record FROM public_keys WHERE user_id = ? ORDER BY version_num DESC", (user_id,))
        return self._as_served(user_id, [json.loads(r[0]) for r in rows])

    def _as_served(self, user_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # The lying-server hook: every registered version keeps its number but carries the swapped keys.
        lie = self.lies.get(user_id)
        if lie is None:
            return records
        swapped = {k: v for k, v in lie.to_api().items() if k != "public_key_version"}
        return [{**r, **swapped} for r in records]

    def _fields(self, records: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = query.get("public_key.fields")
        if not wanted:
            return records
        return [{k: v for k, v in r.items() if k in wanted or k == "public_key_version"} for r in records]
