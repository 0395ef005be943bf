"""Key changes: the signed key-change body read without the store, checked against it, and stored as an event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kit import signature as _sig
from kit.encoding import from_b64
from kit.errors import APIError, KitError
from kit.ids import MAX_VERSION_SKEW_MS, ConversationId, check_user_id, check_version, version_key
from kit.sandbox.calls import Call, Context, request_digest
from kit.sandbox.conversations import Conversations
from kit.sandbox.events import EventLog
from kit.sandbox.public_keys import PublicKeyDirectory
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import StoredEvent
from kit.thrift import EventSignature, KeyChangeDetail, MessageEvent, read_detail

__all__ = [
    "SUPPORTED_SIGNATURE_VERSIONS",
    "KeyChangeRequest",
    "KeyChanges",
    "is_supported_signature_version",
    "read_key_change_request",
]

#: The action-signature versions the sandbox accepts.
SUPPORTED_SIGNATURE_VERSIONS = range(_sig.MIN_SIGNATURE_VERSION, int(_sig.SIGNATURE_VERSION) + 1)


def is_supported_signature_version(text: str) -> bool:
    """Whether `text` names a supported signature version, written as the SDK writes one
    (`kit.signature.signature_version_number`: canonical ASCII decimal) and in `SUPPORTED_SIGNATURE_VERSIONS`."""
    number = _sig.signature_version_number(text)
    return number is not None and number in SUPPORTED_SIGNATURE_VERSIONS


@dataclass(frozen=True)
class KeyChangeRequest:
    """A key-change body that passed every check needing no stored state."""

    action: dict[str, Any]
    detail: KeyChangeDetail
    detail_bytes: bytes  # the action's encoded_message_event_detail, decoded from base64 once
    where: str  # the action's JSON path, for messages
    triples: list[tuple[str, str, str]]  # (user_id, encrypted_conversation_key, public_key_version)


def read_key_change_request(body: dict[str, Any], *, now_ms: int | None = None) -> KeyChangeRequest:
    """Layer two's checks of a key-change body that need no stored state: the signed action
    holds a key-change detail, it matches the body entry for entry, versions and signature are
    well formed, each wrapped key is 113 bytes. (The store-backed checks are `KeyChanges.check`.)"""
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
        check_version(version, what="$.conversation_key_version", now_ms=now_ms)
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
    if not is_supported_signature_version(sv):
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
        try:
            check_user_id(e["user_id"], what=f"$.conversation_participant_keys[{i}].user_id")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter=f"$.conversation_participant_keys[{i}].user_id") from None
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


class KeyChanges:
    """Key-change events: the store-backed checks, the write, and addConversationKeys."""

    def __init__(
        self, context: Context, public_keys: PublicKeyDirectory, conversations: Conversations, events: EventLog
    ) -> None:
        self.ctx = context
        self.public_keys = public_keys
        self.conversations = conversations
        self.events = events

    def add(self, call: Call) -> Reply:
        """addConversationKeys: initialize or rotate a conversation's key (a replay answers the same)."""
        caller = call.caller or ""
        cid = self.conversations.resolve(call.params["id"], caller, must_exist=False)
        members = self.conversations.members(cid)
        request = self.check(call.body, caller, cid, members)
        digest = request_digest(call)
        with self.ctx.store.transaction() as db:
            stored = self.events.replay(db, cid, request.action["message_id"], digest, caller)
            if stored is None:
                stored = self.write(db, cid=cid, caller=caller, request=request, digest=digest)
        return json_reply(200, {"data": {"conversation_id": cid.path, "sequence_id": stored.sequence_id}})

    def check(
        self, body: dict[str, Any], caller: str, cid: ConversationId, members: list[str]
    ) -> KeyChangeRequest:
        """Layer two for a key change: the body's own checks, then the signer's and every
        participant's key versions are registered and the participants are the conversation's."""
        request = read_key_change_request(body, now_ms=self.ctx.now_ms())
        action, where, triples = request.action, request.where, request.triples
        sig = action["message_event_signature"]
        # the signer's and every participant's registered key versions, in one query
        registered = self.public_keys.registered({caller} | {t[0] for t in triples})
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

    def write(
        self, db: Any, *, cid: ConversationId, caller: str, request: KeyChangeRequest, digest: str
    ) -> StoredEvent:
        """Write the key change as the next event (creating the conversation on its first key),
        or a 409 when its version is not newer than the latest."""
        action, version = request.action, request.detail.conversation_key_version
        row = db.execute("SELECT latest_key_version FROM conversations WHERE id = ?", (cid.canonical,)).fetchone()
        latest = row[0] if row else None
        now = self.ctx.now_ms()
        # A latest version from the far future (stored before versions were bounded) blocks nothing.
        if latest is not None and version_key(version) <= int(latest) <= now + MAX_VERSION_SKEW_MS:
            raise APIError.of(
                409,
                f"conversation_key_version {version} is not newer than the latest key version {latest} of {cid.path}: "
                "rotate with a newer version (a millisecond timestamp)",
                parameter="$.conversation_key_version",
                value=version,
            )
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
        self.events.charge(db, cid, len(encoded))
        db.execute("UPDATE events SET encoded = ? WHERE seq = ?", (encoded, seq))
        db.execute("UPDATE conversations SET latest_key_version = ? WHERE id = ?", (version, cid.canonical))
        return StoredEvent(seq, cid.canonical, "key_change", action["message_id"], caller, version, digest, encoded, now)
