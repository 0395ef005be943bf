"""The signed group actions in a body: find the group create or the member add, check it, store it as an event.

Unlike a key change, a group action signs no secret (its payload is ids, a title and a key
version), so the sandbox verifies its signature with the caller's registered signing key, as
well as checking that what it signs is what the body asks for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kit import signature as _sig
from kit.encoding import from_b64
from kit.errors import APIError, KitError
from kit.group import group_create_payload, member_add_payload
from kit.ids import ConversationId
from kit.keys import PublicKeys
from kit.sandbox.events import EventLog
from kit.sandbox.key_changes import is_supported_signature_version
from kit.sandbox.store import StoredEvent
from kit.thrift import EventSignature, MessageEvent
from kit.thrift_group import GroupCreateDetail, MemberAddDetail, is_group_change, read_group_change

__all__ = ["GroupAction", "check_own_message_id", "check_same", "find_group_action", "signing_record", "verify_group_action", "write_group_event"]


@dataclass(frozen=True)
class GroupAction:
    """One signed group action of a body: the action object, its decoded detail and bytes, where it is."""

    action: dict[str, Any]
    detail: GroupCreateDetail | MemberAddDetail
    detail_bytes: bytes
    where: str


def find_group_action(body: dict[str, Any], kind: type, *, key_change_message_id: str | None = None) -> GroupAction | None:
    """The body's action signature holding a `kind` group change (None if there is none); a 400
    for a group-change detail that does not decode, a second one, or the key change's message id."""
    found: GroupAction | None = None
    for i, action in enumerate(body.get("action_signatures") or []):
        where = f"$.action_signatures[{i}]"
        try:
            raw = from_b64(action["encoded_message_event_detail"], what=f"{where}.encoded_message_event_detail")
            if not is_group_change(raw):
                continue
            detail = read_group_change(raw, what=f"{where}.encoded_message_event_detail")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter=f"{where}.encoded_message_event_detail") from None
        if not isinstance(detail, kind):
            name = getattr(detail, "name", type(detail).__name__)
            raise APIError.of(400, f"{where}.encoded_message_event_detail is a {name}, not what this endpoint takes", parameter=f"{where}.encoded_message_event_detail")
        if found is not None:
            raise APIError.of(400, f"$.action_signatures holds two group changes ({found.where} and {where}); send one", parameter="$.action_signatures")
        found = GroupAction(action, detail, raw, where)
    if found is not None and key_change_message_id is not None:
        check_own_message_id(found, key_change_message_id)
    return found


def check_own_message_id(found: GroupAction, key_change_message_id: str) -> None:
    """A 400 when the group action reuses the key change's message id (each signed action has its own)."""
    if found.action["message_id"] == key_change_message_id:
        raise APIError.of(
            400, f"{found.where}.message_id is the key change's message id too: each signed action needs its own",
            parameter=f"{found.where}.message_id", value=found.action["message_id"],
        )  # fmt: skip


def check_same(what: str, body_value: Any, signed: Any, action: GroupAction, *, parameter: str) -> None:
    """A 400 unless the body's value is the one the action signs (lists compared as sets)."""
    same = set(body_value) == set(signed) if isinstance(signed, tuple) else body_value == signed
    if not same:
        shown_body = sorted(body_value) if isinstance(signed, tuple) else body_value
        shown_signed = sorted(signed) if isinstance(signed, tuple) else signed
        raise APIError.of(
            400,
            f"{what} is {shown_body!r} but {action.where} signs {shown_signed!r}: the body must ask for what was signed",
            parameter=parameter,
        )


def verify_group_action(found: GroupAction, *, caller: str, conversation_id: str, record: dict[str, Any] | None) -> None:
    """The action's signature version and signature, checked with the caller's signing key at its
    `public_key_version` (`record`: that key version's stored record, or None when unregistered)."""
    sig = found.action["message_event_signature"]
    where = f"{found.where}.message_event_signature"
    if not is_supported_signature_version(sig["signature_version"]):
        raise APIError.of(400, f"{where}.signature_version {sig['signature_version']!r} is not supported; send {_sig.SIGNATURE_VERSION!r}",
                          parameter=f"{where}.signature_version", value=sig["signature_version"])  # fmt: skip
    if record is None:
        raise APIError.of(400, f"{where}.public_key_version {sig['public_key_version']!r} is not a registered key version of user {caller}",
                          parameter=f"{where}.public_key_version", value=sig["public_key_version"])  # fmt: skip
    mid, detail = found.action["message_id"], found.detail
    try:
        if isinstance(detail, GroupCreateDetail):
            payload = group_create_payload(message_id=mid, sender_id=caller, detail=detail)
        else:
            payload = member_add_payload(message_id=mid, sender_id=caller, conversation_id=conversation_id, detail=detail)
        signer = PublicKeys.from_api(record, user_id=caller)
        _sig.verify(signer.signing_key, _sig.decode_signature(sig["signature"], what=f"{where}.signature"), payload,
                    what=f"{where}.signature")  # fmt: skip
    except KitError as exc:
        raise APIError.of(400, str(exc), parameter=f"{where}.signature") from None


def signing_record(store: Any, user_id: str, version: str) -> dict[str, Any] | None:
    """The stored public-key record of one user's key version, or None."""
    rows = store.read("SELECT record FROM public_keys WHERE user_id = ? AND version = ?", (user_id, version))
    return json.loads(rows[0][0]) if rows else None


def write_group_event(
    db: Any, events: EventLog, *, cid: ConversationId, caller: str, found: GroupAction, digest: str, now: int
) -> StoredEvent:
    """Store the group action as the conversation's next event, its detail bytes as sent."""
    action = found.action
    if events.replay(db, cid, action["message_id"], digest, caller) is not None:  # pragma: no cover - a digest covers both ids
        raise APIError.of(409, f"message_id {action['message_id']} was already used in {cid.path}", parameter="message_id")
    version = found.detail.conversation_key_version
    cur = db.execute(
        "INSERT INTO events (conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at) "
        "VALUES (?, 'group_change', ?, ?, ?, ?, x'', ?)",
        (cid.canonical, action["message_id"], caller, version, digest, now),
    )
    seq = int(cur.lastrowid)
    sig = action["message_event_signature"]
    stored = StoredEvent(seq, cid.canonical, "group_change", action["message_id"], caller, version, digest, b"", now)
    encoded = MessageEvent(
        sequence_id=stored.sequence_id,
        message_id=action["message_id"],
        sender_id=caller,
        conversation_id=cid.canonical,
        created_at_msec=str(now),
        detail=found.detail_bytes,
        signature=EventSignature(sig["signature"], sig["public_key_version"], sig["signature_version"]),
    ).encode()
    events.charge(db, cid, len(encoded))
    db.execute("UPDATE events SET encoded = ? WHERE seq = ?", (encoded, seq))
    return StoredEvent(seq, cid.canonical, "group_change", action["message_id"], caller, version, digest, encoded, now)
