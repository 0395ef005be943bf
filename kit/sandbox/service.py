"""The sandbox's rules: an offline X API for chat keys that validates like the real endpoint.

`Sandbox.handle(method, path, query, headers, body)` is the whole contract; the in-process
transport and the HTTP server are thin doors over it. Every failure is an `APIError`, turned
into an RFC 7807 problem; nothing a client sends can make it answer 500.

What it cannot do, and does not pretend to: verify an action signature. The signed payload
holds the plaintext conversation key, which only participants have.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kit import signature as _sig
from kit.encoding import b64, from_b64
from kit.errors import APIError, KitError
from kit.ids import ConversationId, check_version, version_key
from kit.keys import PublicKeys, fingerprint, load_public_key
from kit.sandbox.oauth import OAuthCodes
from kit.sandbox.schema import spec
from kit.sandbox.store import Store, StoredEvent, token_digest
from kit.thrift import (
    EventSignature,
    KeyChangeDetail,
    MessageEvent,
    read_detail,
    read_event_signature,
    read_message_create_event,
)

__all__ = ["MAX_BODY_BYTES", "Reply", "Sandbox"]

log = logging.getLogger("kit.sandbox")

#: Largest request body the sandbox reads (a 10,000-participant init is about 3 MB).
MAX_BODY_BYTES = 8 * 1024 * 1024
_SUPPORTED_SIGNATURE_VERSIONS = range(_sig.MIN_SIGNATURE_VERSION, int(_sig.SIGNATURE_VERSION) + 1)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers, body bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Reply(status, {"content-type": "application/json", **(headers or {})}, body)


def problem_reply(err: APIError) -> Reply:
    """The `application/problem+json` answer for an error."""
    body = json.dumps(err.problem.to_dict(), separators=(",", ":")).encode()
    return Reply(err.status, {"content-type": "application/problem+json", **err.headers}, body)


@dataclass
class _Call:
    op_id: str
    params: dict[str, str]
    query: dict[str, Any]
    body: Any
    raw_body: bytes
    caller: str | None = None


@dataclass
class RateLimit:
    """A per-user, per-endpoint window like the live API's (off unless configured)."""

    limit: int
    window_s: float = 900.0
    _hits: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def check(self, user: str, op_id: str, now: float) -> dict[str, str]:
        hits = [t for t in self._hits.get((user, op_id), []) if now - t < self.window_s]
        reset = int((hits[0] if hits else now) + self.window_s)
        if len(hits) >= self.limit:
            self._hits[(user, op_id)] = hits
            headers = {"x-rate-limit-limit": str(self.limit), "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)}
            raise APIError.of(
                429,
                f"rate limit of {self.limit} requests per {int(self.window_s)} s reached for {op_id}; retry after x-rate-limit-reset",
                headers=headers,
                resource_type="rate-limit",
            )
        hits.append(now)
        self._hits[(user, op_id)] = hits
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.limit - len(hits)),
            "x-rate-limit-reset": str(reset),
        }


@dataclass(frozen=True)
class KeyChangeRequest:
    """A key-change body that passed every check needing no stored state."""

    action: dict[str, Any]
    detail: KeyChangeDetail
    detail_bytes: bytes  # the action's encoded_message_event_detail, decoded from base64 once
    where: str  # the action's JSON path, for messages
    triples: list[tuple[str, str, str]]  # (user_id, encrypted_conversation_key, public_key_version)


def read_key_change_request(body: dict[str, Any]) -> KeyChangeRequest:
    """Layer two's checks of a key-change body that need no stored state: the signed action
    holds a key-change detail, it matches the body entry for entry, versions and signature are
    well formed, each wrapped key is 113 bytes. (The store-backed checks are `Sandbox`'s.)"""
    actions = body.get("action_signatures") or []
    if not actions:
        raise APIError.of(400, "$.action_signatures must hold the signed key change (at least one entry)", parameter="$.action_signatures")
    action = None
    detail = None
    detail_bytes = b""
    for i, candidate in enumerate(actions):
        try:
            raw = from_b64(candidate["encoded_message_event_detail"], what=f"$.action_signatures[{i}].encoded_message_event_detail")
            decoded = read_detail(raw, what=f"$.action_signatures[{i}].encoded_message_event_detail")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter=f"$.action_signatures[{i}].encoded_message_event_detail") from None
        if isinstance(decoded, KeyChangeDetail):
            action, detail, detail_bytes = candidate, decoded, raw
            break
    if action is None or detail is None:
        raise APIError.of(
            400,
            "$.action_signatures has no conversationKeyChangeEvent (MessageEventDetail field 3) among its event details",
            parameter="$.action_signatures[0].encoded_message_event_detail",
        )
    where = f"$.action_signatures[{actions.index(action)}]"
    version = body["conversation_key_version"]
    try:
        check_version(version, what="$.conversation_key_version")
    except KitError as exc:
        raise APIError.of(400, str(exc), parameter="$.conversation_key_version", value=str(version)) from None
    if detail.conversation_key_version != version:
        raise APIError.of(
            400,
            f"{where}.encoded_message_event_detail says conversation_key_version {detail.conversation_key_version!r} "
            f"but $.conversation_key_version is {version!r}",
            parameter="$.conversation_key_version",
        )
    sig = action["message_event_signature"]
    sv = sig["signature_version"]
    if not _small_number(sv) or int(sv) not in _SUPPORTED_SIGNATURE_VERSIONS:
        raise APIError.of(
            400,
            f"{where}.message_event_signature.signature_version {sv!r} is not supported "
            f"({_sig.MIN_SIGNATURE_VERSION} to {_sig.SIGNATURE_VERSION}; send {_sig.SIGNATURE_VERSION!r})",
            parameter=f"{where}.message_event_signature.signature_version",
            value=sv,
        )
    try:
        _sig.decode_signature(sig["signature"], what=f"{where}.message_event_signature.signature")
    except KitError as exc:
        raise APIError.of(400, str(exc), parameter=f"{where}.message_event_signature.signature") from None
    entries = body["conversation_participant_keys"]
    triples = []
    for i, e in enumerate(entries):
        missing = [k for k in ("user_id", "encrypted_conversation_key", "public_key_version") if not isinstance(e.get(k), str)]
        if missing:
            raise APIError.of(400, f"$.conversation_participant_keys[{i}].{missing[0]} is required", parameter=f"$.conversation_participant_keys[{i}].{missing[0]}")
        triples.append((e["user_id"], e["encrypted_conversation_key"], e["public_key_version"]))
    body_set = sorted(triples)
    detail_set = sorted((p.user_id, p.encrypted_conversation_key, p.public_key_version) for p in detail.participant_keys)
    if body_set != detail_set:
        raise APIError.of(
            400,
            f"$.conversation_participant_keys differ from the participants in {where}.encoded_message_event_detail "
            "(user_id, encrypted_conversation_key and public_key_version must match, in any order)",
            parameter="$.conversation_participant_keys",
        )
    seen: set[str] = set()
    dupes: list[str] = []
    for user, _, _ in triples:  # a set, not list.count: a 10,000-participant body stays linear
        if user in seen:
            dupes.append(user)
        seen.add(user)
    dupes.sort()
    if dupes:
        raise APIError.of(400, f"$.conversation_participant_keys lists user {dupes[0]} more than once", parameter="$.conversation_participant_keys")
    for i, (_, wrapped, _) in enumerate(triples):
        try:
            raw = from_b64(wrapped, what=f"$.conversation_participant_keys[{i}].encrypted_conversation_key", max_len=400)
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter=f"$.conversation_participant_keys[{i}].encrypted_conversation_key") from None
        if len(raw) != 113 or raw[0] != 4:
            raise APIError.of(
                400,
                f"$.conversation_participant_keys[{i}].encrypted_conversation_key must decode to 113 bytes starting 0x04 "
                f"(ephemeral point, ciphertext, tag), got {len(raw)} bytes",
                parameter=f"$.conversation_participant_keys[{i}].encrypted_conversation_key",
            )
    return KeyChangeRequest(action, detail, detail_bytes, where, triples)


class Sandbox:
    """An offline X API for chat keys: users, public keys, conversations, key changes, messages.

    `db` is a SQLite path (``":memory:"`` by default). `rate_limit` (requests per user and
    endpoint per 15 minutes) is off unless given.
    """

    def __init__(
        self,
        *,
        db: str = ":memory:",
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.store = Store(db)
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.rate_limit = RateLimit(rate_limit) if rate_limit else None
        self._spec = spec()
        self._oauth = OAuthCodes()

    def __repr__(self) -> str:
        return f"Sandbox(db={self.store.path!r})"

    # ------------------------------------------------------------------ the door

    def handle(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Mapping[str, str], body: bytes
    ) -> Reply:
        """Answer one HTTP request. Never raises; every failure is a problem reply."""
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            return self._dispatch(method.upper(), path, query, lowered, body)
        except APIError as err:
            return _without_token(problem_reply(err), lowered)
        except KitError as err:  # input the rules did not catch earlier: still the client's, a 400
            return _without_token(problem_reply(APIError.of(400, str(err))), lowered)
        except Exception:  # a bug in the sandbox: log it (no request data), answer without a trace
            log.exception("sandbox error on %s %s", method, path.split("?")[0])
            return problem_reply(APIError.of(500, "the sandbox hit an internal error; the request was not stored"))

    def _dispatch(self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes) -> Reply:
        if len(body) > self.max_body_bytes:
            raise APIError.of(413, f"request body is {len(body)} bytes; the sandbox accepts at most {self.max_body_bytes}")
        if path == "/sandbox/oauth2/authorize" and method == "GET":
            status, head, payload = self._oauth.authorize(self._authenticate(headers), query, self.clock())
            return Reply(status, head, payload)
        if path == "/2/oauth2/token" and method == "POST":
            user_id, scope = self._oauth.token(body, self.clock())
            return Reply(200, {"content-type": "application/json"}, OAuthCodes.token_reply(self._issue_token(user_id), scope))
        if path == "/sandbox/users":
            if method != "POST":
                raise APIError.of(405, f"{method} is not allowed on /sandbox/users; use POST", headers={"allow": "POST"})
            return self._create_user(self._json_body(body, headers, required=True))
        found = self._spec.find(method, path)
        if found is None:
            raise APIError.of(404, f"no endpoint {method} {path} in the sandbox", resource_type="endpoint", value=path)
        op, params = found
        caller = self._authenticate(headers)
        op.validate_path(params)
        parsed_query = op.validate_query(query)
        parsed_body = None
        if op.body_validator is not None:
            parsed_body = self._json_body(body, headers, required=op.body_required)
            op.validate_body(parsed_body)
        limit_headers = self.rate_limit.check(caller, op.operation_id, self.clock()) if self.rate_limit else {}
        handler = getattr(self, "_op_" + op.operation_id, None)
        if handler is None:
            raise APIError.of(
                404, f"{op.operation_id} is in the X API but not in the sandbox", resource_type="endpoint", value=path
            )
        reply: Reply = handler(_Call(op.operation_id, params, parsed_query, parsed_body, body, caller))
        if limit_headers:
            reply.headers.update(limit_headers)
        return reply

    def _json_body(self, body: bytes, headers: dict[str, str], *, required: bool) -> Any:
        if not body:
            if required:
                raise APIError.of(400, "request body is required (JSON)", parameter="body")
            return None
        ctype = headers.get("content-type", "")
        if ctype and "json" not in ctype:
            raise APIError.of(400, f"request body must be application/json, got content-type {ctype!r}", parameter="body")
        try:
            parsed = json.loads(body)
        except RecursionError:
            raise APIError.of(400, "request body is not valid JSON here: nested too deeply", parameter="body") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise APIError.of(400, f"request body is not valid JSON: {exc}", parameter="body") from None
        if _depth(parsed) > _MAX_JSON_DEPTH:
            raise APIError.of(
                400, f"request body is nested more than {_MAX_JSON_DEPTH} levels deep; no X API body is", parameter="body"
            )
        return parsed

    def _authenticate(self, headers: dict[str, str]) -> str:
        auth = headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if not auth:
            raise APIError.of(401, "no Authorization header: send 'Authorization: Bearer <access token>'", resource_type="user")
        if scheme.lower() != "bearer" or not token.strip():
            raise APIError.of(401, "Authorization header must be 'Bearer <access token>'", resource_type="user")
        rows = self.store.read("SELECT id FROM users WHERE token_digest = ? AND revoked = 0", (token_digest(token.strip()),))
        if not rows:
            raise APIError.of(401, "the access token is not one this sandbox issued (or it was revoked)", resource_type="user")
        return str(rows[0][0])

    # ------------------------------------------------------------------ sandbox-only

    def _create_user(self, body: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("username"), str):
            raise APIError.of(400, "$.username is required: a string of 1 to 15 letters, digits or '_'", parameter="username")
        username = body["username"]
        if not (1 <= len(username) <= 15) or not all(c.isascii() and (c.isalnum() or c == "_") for c in username):
            raise APIError.of(
                400, f"$.username must be 1 to 15 letters, digits or '_', got {username!r}", parameter="username", value=username
            )
        user_id = body.get("id")
        if user_id is not None and (not isinstance(user_id, str) or not user_id.isdigit() or not 1 <= len(user_id) <= 19):
            raise APIError.of(400, f"$.id must be 1 to 19 digits, got {user_id!r}", parameter="id")
        token = secrets.token_urlsafe(32)
        with self.store.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
                raise APIError.of(409, f"username {username!r} is taken in this sandbox", parameter="username", value=username)
            if user_id is None:
                while True:
                    user_id = str(secrets.randbelow(9 * 10**18) + 10**18)
                    if not db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                        break
            elif db.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone():
                raise APIError.of(409, f"user id {user_id} is taken in this sandbox", parameter="id", value=user_id)
            db.execute("INSERT INTO users (id, username, token_digest) VALUES (?, ?, ?)", (user_id, username, token_digest(token)))
        return _json(201, {"data": {"id": user_id, "username": username, "access_token": token}})

    def _issue_token(self, user_id: str) -> str:
        """A fresh access token for an existing user (the OAuth token endpoint's answer).

        A sandbox user has one live token at a time: issuing a new one replaces the old."""
        token = secrets.token_urlsafe(32)
        with self.store.transaction() as db:
            db.execute("UPDATE users SET token_digest = ?, revoked = 0 WHERE id = ?", (token_digest(token), user_id))
        return token

    def revoke(self, user_id: str) -> None:
        """Revoke a user's access token (the sandbox's admin side; not an HTTP endpoint)."""
        with self.store.transaction() as db:
            db.execute("UPDATE users SET revoked = 1 WHERE id = ?", (user_id,))

    # ------------------------------------------------------------------ public keys

    def _user_exists(self, user_id: str) -> bool:
        return bool(self.store.read("SELECT 1 FROM users WHERE id = ?", (user_id,)))

    def _op_addUserPublicKey(self, call: _Call) -> Reply:
        user_id = call.params["id"]
        if user_id != call.caller:
            raise APIError.of(
                403, f"user {call.caller} cannot register keys for user {user_id}", resource_type="user", resource_id=user_id
            )
        body = call.body
        version = body["version"]
        try:
            check_version(version, what="$.version")
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
        with self.store.transaction() as db:
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
        return _json(200, {"data": {"public_key_version": version}})

    def _keys_of(self, user_id: str) -> list[dict[str, Any]]:
        rows = self.store.read("SELECT record FROM public_keys WHERE user_id = ? ORDER BY version_num DESC", (user_id,))
        return [json.loads(r[0]) for r in rows]

    def _fields(self, records: list[dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
        wanted = query.get("public_key.fields")
        if not wanted:
            return records
        return [{k: v for k, v in r.items() if k in wanted or k == "public_key_version"} for r in records]

    def _op_getUsersPublicKey(self, call: _Call) -> Reply:
        user_id = call.params["id"]
        if not self._user_exists(user_id):
            raise APIError.of(404, f"user {user_id} does not exist in this sandbox", resource_type="user", resource_id=user_id, parameter="id", value=user_id)
        return _json(200, {"data": self._fields(self._keys_of(user_id), call.query)})

    def _op_getUsersPublicKeys(self, call: _Call) -> Reply:
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for user_id in dict.fromkeys(call.query["ids"]):
            if not self._user_exists(user_id):
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
        return _json(200, out)

    # ------------------------------------------------------------------ conversations

    def _resolve(self, path_id: str, caller: str, *, must_exist: bool) -> ConversationId:
        """Turn a path id into the conversation, checking the caller belongs to it."""
        try:
            cid = ConversationId.parse(path_id, caller=caller)
        except KitError as exc:
            raise APIError.of(400, f"path parameter id: {exc}", parameter="id", value=path_id) from None
        if cid.is_group:
            rows = self.store.read("SELECT kind FROM conversations WHERE id = ?", (cid.canonical,))
            if not rows:
                raise APIError.of(404, f"group {cid.canonical} does not exist", resource_type="conversation", resource_id=cid.canonical, parameter="id", value=path_id)
            if rows[0][0] == "group-pending":
                raise APIError.of(
                    404,
                    f"group {cid.canonical} was initialized but not created yet: POST /2/chat/conversations/group first",
                    resource_type="conversation", resource_id=cid.canonical, parameter="id", value=path_id,
                )  # fmt: skip
            if not self.store.read("SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?", (cid.canonical, caller)):
                raise APIError.of(403, f"user {caller} is not a member of group {cid.canonical}", resource_type="conversation", resource_id=cid.canonical)
            return cid
        if cid.members[0] == cid.members[1]:
            raise APIError.of(
                400, f"path parameter id: {path_id!r} pairs user {cid.members[0]} with themself; a 1:1 conversation needs two users",
                parameter="id", value=path_id,
            )  # fmt: skip
        if caller not in cid.members:
            raise APIError.of(
                403, f"user {caller} is not a participant of conversation {cid.path}", resource_type="conversation", resource_id=cid.path
            )
        other = next((m for m in cid.members if m != caller), caller)
        if not self._user_exists(other):
            raise APIError.of(404, f"user {other} does not exist in this sandbox", resource_type="user", resource_id=other, parameter="id", value=path_id)
        if must_exist and not self.store.read("SELECT 1 FROM conversations WHERE id = ?", (cid.canonical,)):
            raise APIError.of(
                404, f"conversation {cid.path} has no events yet: initialize its keys first", resource_type="conversation", resource_id=cid.path
            )
        return cid

    def _members(self, cid: ConversationId) -> list[str]:
        if not cid.is_group:
            return list(cid.members)
        return [r[0] for r in self.store.read("SELECT user_id FROM members WHERE conversation_id = ?", (cid.canonical,))]

    def _check_key_change(
        self, body: dict[str, Any], caller: str, cid: ConversationId, members: list[str]
    ) -> KeyChangeRequest:
        """Layer two for a key change: the body's own checks, then the signer's and every
        participant's key versions are registered and the participants are the conversation's."""
        request = read_key_change_request(body)
        action, where, triples = request.action, request.where, request.triples
        sig = action["message_event_signature"]
        # the signer's and every participant's registered key versions, in one query
        registered = self._registered({caller} | {t[0] for t in triples})
        if (caller, sig["public_key_version"]) not in registered:
            raise APIError.of(
                400,
                f"{where}.message_event_signature.public_key_version {sig['public_key_version']!r} is not a registered key version of user {caller}",
                parameter=f"{where}.message_event_signature.public_key_version",
                value=sig["public_key_version"],
            )
        users = [t[0] for t in triples]
        if sorted(users) != sorted(members):
            missing_users = sorted(set(members) - set(users))
            extra = sorted(set(users) - set(members))
            detail_text = "; ".join(
                part
                for part in (
                    f"missing participants {missing_users}" if missing_users else "",
                    f"users who are not participants {extra}" if extra else "",
                )
                if part
            )
            raise APIError.of(
                400,
                f"$.conversation_participant_keys must wrap the key for every participant of {cid.path}: {detail_text}",
                parameter="$.conversation_participant_keys",
            )
        for i, (user, _, kv) in enumerate(triples):
            if (user, kv) not in registered:
                raise APIError.of(
                    400,
                    f"$.conversation_participant_keys[{i}].public_key_version {kv!r} is not a registered key version of user {user}",
                    parameter=f"$.conversation_participant_keys[{i}].public_key_version",
                    value=kv,
                )
        return request

    def _registered(self, user_ids: set[str]) -> set[tuple[str, str]]:
        """Every registered (user id, key version) of these users, in a few queries, not one per entry."""
        ids = sorted(user_ids)
        out: set[tuple[str, str]] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out.update(
                (str(r[0]), str(r[1]))
                for r in self.store.read(f"SELECT user_id, version FROM public_keys WHERE user_id IN ({marks})", tuple(chunk))
            )
        return out

    def _has_key(self, user_id: str, version: str) -> bool:
        return bool(self.store.read("SELECT 1 FROM public_keys WHERE user_id = ? AND version = ?", (user_id, version)))

    def _store_key_change(
        self, db: Any, *, cid: ConversationId, caller: str, request: KeyChangeRequest, digest: str
    ) -> StoredEvent:
        action, version = request.action, request.detail.conversation_key_version
        row = db.execute("SELECT latest_key_version FROM conversations WHERE id = ?", (cid.canonical,)).fetchone()
        latest = row[0] if row else None
        if latest is not None and version_key(version) <= version_key(latest):
            raise APIError.of(
                409,
                f"conversation_key_version {version} is not newer than the latest key version {latest} of {cid.path}: "
                "rotate with a newer version (a millisecond timestamp)",
                parameter="$.conversation_key_version",
                value=version,
            )
        now = int(self.clock() * 1000)
        if row is None:
            db.execute(
                "INSERT INTO conversations (id, kind, created_by, created_at) VALUES (?, ?, ?, ?)",
                (cid.canonical, "group" if cid.is_group else "pair", caller, now),
            )
            for member in cid.members:
                db.execute("INSERT OR IGNORE INTO members (conversation_id, user_id) VALUES (?, ?)", (cid.canonical, member))
        sig = action["message_event_signature"]
        cur = db.execute(
            "INSERT INTO events (conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at) "
            "VALUES (?, 'key_change', ?, ?, ?, ?, x'', ?)",
            (cid.canonical, action["message_id"], caller, version, digest, now),
        )
        seq = int(cur.lastrowid)
        event = MessageEvent(
            sequence_id=StoredEvent(seq, "", "", "", "", "", "", b"", 0).sequence_id,
            message_id=action["message_id"],
            sender_id=caller,
            conversation_id=cid.canonical,
            created_at_msec=str(now),
            detail=request.detail_bytes,
            signature=EventSignature(sig["signature"], sig["public_key_version"], sig["signature_version"]),
        )
        encoded = event.encode()
        db.execute("UPDATE events SET encoded = ? WHERE seq = ?", (encoded, seq))
        db.execute("UPDATE conversations SET latest_key_version = ? WHERE id = ?", (version, cid.canonical))
        return StoredEvent(seq, cid.canonical, "key_change", action["message_id"], caller, version, digest, encoded, now)

    def _replay(self, db: Any, cid: ConversationId, message_id: str, digest: str, caller: str) -> StoredEvent | None:
        row = db.execute(
            "SELECT seq, conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at "
            "FROM events WHERE conversation_id = ? AND message_id = ?",
            (cid.canonical, message_id),
        ).fetchone()
        if row is None:
            return None
        stored = Store.event_from(row)
        if stored.request_digest != digest or stored.sender_id != caller:  # a replay is the same request by the same user
            raise APIError.of(
                409,
                f"message_id {message_id} was already used in {cid.path} for a different request; mint a fresh message_id",
                parameter="message_id",
                value=message_id,
            )
        return stored

    @staticmethod
    def _digest(call: _Call) -> str:
        return hashlib.sha256(json.dumps(call.body, sort_keys=True).encode()).hexdigest()

    def _op_addConversationKeys(self, call: _Call) -> Reply:
        caller = call.caller or ""
        cid = self._resolve(call.params["id"], caller, must_exist=False)
        members = self._members(cid)
        request = self._check_key_change(call.body, caller, cid, members)
        digest = self._digest(call)
        with self.store.transaction() as db:
            stored = self._replay(db, cid, request.action["message_id"], digest, caller)
            if stored is None:
                stored = self._store_key_change(db, cid=cid, caller=caller, request=request, digest=digest)
        return _json(200, {"data": {"conversation_id": cid.path, "sequence_id": stored.sequence_id}})

    def _op_initializeChatGroup(self, call: _Call) -> Reply:
        now = int(self.clock() * 1000)
        with self.store.transaction() as db:
            while True:
                gid = "g" + str(secrets.randbelow(9 * 10**18) + 10**18)
                if not db.execute("SELECT 1 FROM conversations WHERE id = ?", (gid,)).fetchone():
                    break
            db.execute(
                "INSERT INTO conversations (id, kind, created_by, created_at) VALUES (?, 'group-pending', ?, ?)",
                (gid, call.caller, now),
            )
        return _json(200, {"data": {"conversation_id": gid}})

    def _op_createChatConversation(self, call: _Call) -> Reply:
        caller = call.caller or ""
        body = call.body
        gid = body["conversation_id"]
        row = self.store.read("SELECT kind, created_by FROM conversations WHERE id = ?", (gid,))
        if not row:
            raise APIError.of(404, f"group {gid!r} was not initialized: call POST /2/chat/conversations/group/initialize first", resource_type="conversation", resource_id=str(gid), parameter="$.conversation_id", value=str(gid))
        kind, creator = row[0]
        if kind != "group-pending":
            raise APIError.of(409, f"group {gid} already exists", parameter="$.conversation_id", value=gid)
        if creator != caller:
            raise APIError.of(403, f"group {gid} was initialized by another user", resource_type="conversation", resource_id=gid)
        members = list(dict.fromkeys([caller, *body["group_members"]]))
        for m in members:
            if not (m.isdigit() and self._user_exists(m)):
                raise APIError.of(404, f"$.group_members: user {m!r} does not exist in this sandbox", resource_type="user", resource_id=m, parameter="$.group_members", value=m)
        admins = body.get("group_admins") or [caller]
        strangers = sorted(set(admins) - set(members))
        if strangers:
            raise APIError.of(400, f"$.group_admins {strangers} are not group members", parameter="$.group_admins")
        cid = ConversationId.parse(gid)
        request = self._check_key_change(body, caller, cid, members)
        digest = self._digest(call)
        info = json.dumps({"group_name": body.get("group_name"), "admin_ids": admins})
        with self.store.transaction() as db:
            (current,) = db.execute("SELECT kind FROM conversations WHERE id = ?", (gid,)).fetchone()
            if current != "group-pending":
                raise APIError.of(409, f"group {gid} already exists", parameter="$.conversation_id", value=gid)
            db.execute("UPDATE conversations SET kind = 'group', info = ? WHERE id = ?", (info, gid))
            for m in members:
                db.execute("INSERT OR IGNORE INTO members (conversation_id, user_id) VALUES (?, ?)", (gid, m))
            stored = self._store_key_change(db, cid=cid, caller=caller, request=request, digest=digest)
        return _json(201, {"data": {"conversation_id": gid, "conversation_key_change_sequence_id": stored.sequence_id}})

    def _conversation_json(self, cid: ConversationId) -> dict[str, Any]:
        row = self.store.read("SELECT kind, created_at, info FROM conversations WHERE id = ?", (cid.canonical,))[0]
        kind, created_at, info = row
        members = self._members(cid)
        out: dict[str, Any] = {
            "id": cid.path,
            "type": "Group" if kind == "group" else "OneToOne",
            "created_at": _iso(created_at),
            "participant_ids": members,
        }
        if kind == "group":
            extra = json.loads(info)
            out["member_ids"] = members
            out["admin_ids"] = extra.get("admin_ids") or []
            if extra.get("group_name"):
                out["group_name"] = extra["group_name"]
        return out

    def _op_getChatConversation(self, call: _Call) -> Reply:
        path_id = call.params["id"]
        try:
            cid = self._resolve(path_id, call.caller or "", must_exist=True)
        except KitError as exc:
            if isinstance(exc, APIError):
                raise
            raise APIError.of(400, f"path parameter id: {exc}", parameter="id", value=path_id) from None
        return _json(200, {"data": self._conversation_json(cid)})

    def _op_getChatConversations(self, call: _Call) -> Reply:
        rows = self.store.read(
            "SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id "
            "WHERE m.user_id = ? AND c.kind != 'group-pending' ORDER BY c.created_at DESC, c.id",
            (call.caller,),
        )
        ids = [r[0] for r in rows]
        page, meta = _paginate(ids, call.query)
        data = [self._conversation_json(ConversationId(c)) for c in page]
        return _json(200, {"data": data, "meta": meta})

    def _op_getChatConversationEvents(self, call: _Call) -> Reply:
        cid = self._resolve(call.params["id"], call.caller or "", must_exist=True)
        rows = self.store.read(
            "SELECT seq, conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at "
            "FROM events WHERE conversation_id = ? ORDER BY seq DESC",
            (cid.canonical,),
        )
        events = [Store.event_from(r) for r in rows]
        key_events = [b64(e.encoded) for e in reversed(events) if e.kind == "key_change"]
        messages = [e for e in events if e.kind == "message"]  # newest first
        # The token is the sequence id to continue below, so pages stay right while new messages arrive.
        token = call.query.get("pagination_token")
        if token is not None:
            if not (token.isdigit() and len(token) <= 20):
                raise APIError.of(400, "pagination_token is not one this sandbox issued", parameter="pagination_token", value=token)
            messages = [e for e in messages if int(e.sequence_id) < int(token)]
        size = int(call.query.get("max_results", 10))
        page = messages[:size]
        meta: dict[str, Any] = {"result_count": len(page), "has_more": len(messages) > size}
        if meta["has_more"]:
            meta["next_token"] = page[-1].sequence_id
        data = [
            {
                "id": e.sequence_id,
                "conversation_id": cid.path,
                "sender_id": e.sender_id,
                "created_at": _iso(e.created_at),
                "encoded_event": b64(e.encoded),
            }
            for e in page
        ]
        meta["conversation_key_events"] = key_events
        return _json(200, {"data": data, "meta": meta})

    def _op_sendChatMessage(self, call: _Call) -> Reply:
        caller = call.caller or ""
        cid = self._resolve(call.params["id"], caller, must_exist=True)
        body = call.body
        try:
            mce_bytes = from_b64(body["encoded_message_create_event"], what="$.encoded_message_create_event", max_len=MAX_BODY_BYTES)
            mce = read_message_create_event(mce_bytes, what="$.encoded_message_create_event")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter="$.encoded_message_create_event") from None
        if "encoded_message_event_signature" not in body:
            raise APIError.of(
                400,
                "$.encoded_message_event_signature is required: recipients reject unsigned messages",
                parameter="$.encoded_message_event_signature",
            )
        try:
            mes_bytes = from_b64(body["encoded_message_event_signature"], what="$.encoded_message_event_signature", max_len=4096)
            mes = read_event_signature(mes_bytes, what="$.encoded_message_event_signature")
            _sig.decode_signature(mes.signature, what="$.encoded_message_event_signature signature")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter="$.encoded_message_event_signature") from None
        if not _small_number(mes.signature_version) or int(mes.signature_version) not in _SUPPORTED_SIGNATURE_VERSIONS:
            raise APIError.of(400, f"$.encoded_message_event_signature signature_version {mes.signature_version!r} is not supported", parameter="$.encoded_message_event_signature")
        if not self._has_key(caller, mes.public_key_version):
            raise APIError.of(
                400,
                f"$.encoded_message_event_signature public_key_version {mes.public_key_version!r} is not a registered key version of user {caller}",
                parameter="$.encoded_message_event_signature",
            )
        if not self.store.read(
            "SELECT 1 FROM events WHERE conversation_id = ? AND kind = 'key_change' AND key_version = ?",
            (cid.canonical, mce.conversation_key_version),
        ):
            raise APIError.of(
                400,
                f"$.encoded_message_create_event uses conversation key version {mce.conversation_key_version!r}, "
                f"which no key change of {cid.path} introduced",
                parameter="$.encoded_message_create_event",
            )
        message_id = body["message_id"]
        digest = self._digest(call)
        now = int(self.clock() * 1000)
        with self.store.transaction() as db:
            stored = self._replay(db, cid, message_id, digest, caller)
            if stored is None:
                cur = db.execute(
                    "INSERT INTO events (conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at) "
                    "VALUES (?, 'message', ?, ?, ?, ?, x'', ?)",
                    (cid.canonical, message_id, caller, mce.conversation_key_version, digest, now),
                )
                seq = int(cur.lastrowid)
                event = MessageEvent(
                    sequence_id=StoredEvent(seq, "", "", "", "", "", "", b"", 0).sequence_id,
                    message_id=message_id,
                    sender_id=caller,
                    conversation_id=cid.canonical,
                    created_at_msec=str(now),
                    detail=b"\x0c\x00\x01" + mce_bytes + b"\x00",
                    signature=mes,
                )
                encoded = event.encode()
                db.execute("UPDATE events SET encoded = ? WHERE seq = ?", (encoded, seq))
                stored = StoredEvent(seq, cid.canonical, "message", message_id, caller, mce.conversation_key_version, digest, encoded, now)
        return _json(201, {"data": {"encoded_message_event": b64(stored.encoded)}})


#: Deepest JSON nesting a body may have (the X API bodies here are at most 5 levels deep).
_MAX_JSON_DEPTH = 32


def _depth(value: Any) -> int:
    """How deeply `value` nests (a scalar or an empty container is 1), counted level by level up
    to one past the limit: never recursing, so a hostile body cannot exhaust the stack."""
    level = 1
    frontier = [value] if type(value) in (dict, list) else []
    while frontier and level <= _MAX_JSON_DEPTH:
        inner = []
        has_child = False
        for node in frontier:
            for v in node.values() if type(node) is dict else node:
                has_child = True
                if type(v) is dict or type(v) is list:
                    inner.append(v)
        level += has_child
        frontier = inner
    return level


def _without_token(reply: Reply, headers: Mapping[str, str]) -> Reply:
    """A problem never echoes the caller's bearer token (pasted into a path id or a parameter)."""
    token = headers.get("authorization", "").partition(" ")[2].strip()
    if len(token) < 8 or token.encode("utf-8", "replace") not in reply.body:
        return reply
    return Reply(reply.status, reply.headers, reply.body.replace(token.encode("utf-8", "replace"), b"<token hidden>"))


def _small_number(text: str) -> bool:
    """ASCII digits only and at most 9 of them: safe to pass to int() (no Unicode digits, no
    4,300-digit strings that int() refuses)."""
    return 0 < len(text) <= 9 and text.isascii() and text.isdigit()


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _paginate(items: list[Any], query: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    size = int(query.get("max_results", 10))
    token = query.get("pagination_token")
    start = 0
    if token is not None:
        try:
            start = int(from_b64(token, what="pagination_token", max_len=40).decode("ascii"))
        except (KitError, ValueError, UnicodeDecodeError):
            raise APIError.of(400, "pagination_token is not one this sandbox issued", parameter="pagination_token", value=str(token)) from None
        if not 0 <= start <= len(items):
            raise APIError.of(400, "pagination_token is out of range", parameter="pagination_token", value=str(token))
    page = items[start : start + size]
    meta: dict[str, Any] = {"result_count": len(page), "has_more": start + size < len(items)}
    if meta["has_more"]:
        meta["next_token"] = b64(str(start + size).encode())
    return page, meta
