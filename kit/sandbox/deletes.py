"""Deletes: deleteChatMessages, the signed delete action checked like a key change, and what it hides.

A delete is a signed plaintext action (`kit.thrift.DeleteDetail`, field 7 of the event detail).
As for a key change, the sandbox checks what a server can check: the action holds a delete
detail that matches the body, its signature is well formed and names a registered key version
of the caller. Unlike a key change, nothing in a delete's signed bytes is secret, so the sandbox
also verifies the signature itself with the caller's registered signing key.

What a delete does to the events answer follows the OpenAPI description: "delete for all
removes a message you sent (or, in groups you administer, any message) for every participant;
delete for self removes any message only from your own view". The delete itself is stored as an
event and served like a message (to everyone for a delete for all, to its sender for a delete
for self): a sandbox choice, so clients can see that a delete, too, is a signed event.
"""

from __future__ import annotations

import json
from typing import Any

from kit import signature as _sig
from kit.encoding import from_b64
from kit.errors import APIError, KitError
from kit.ids import ConversationId
from kit.message.delete import verify_delete
from kit.sandbox.calls import Call, Context, request_digest
from kit.sandbox.conversations import Conversations
from kit.sandbox.events import EventLog
from kit.sandbox.key_changes import is_supported_signature_version
from kit.sandbox.limits import MAX_DELETE_IDS
from kit.sandbox.public_keys import PublicKeyDirectory
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import SEQUENCE_BASE, StoredEvent
from kit.thrift import DeleteDetail, EventSignature, MessageEvent, read_detail

__all__ = ["Deletes"]


def _read_action(body: dict[str, Any]) -> tuple[str, dict[str, Any], DeleteDetail, bytes]:
    """The body's signed delete action: its JSON path, the action, the decoded detail and its bytes."""
    actions = body.get("action_signatures") or []
    if not actions:
        raise APIError.of(400, "$.action_signatures must hold the signed delete (at least one entry)", parameter="$.action_signatures")
    for i, candidate in enumerate(actions):
        where = f"$.action_signatures[{i}]"
        try:
            raw = from_b64(candidate["encoded_message_event_detail"], what=f"{where}.encoded_message_event_detail", max_len=1 << 20)
            detail = read_detail(raw, what=f"{where}.encoded_message_event_detail")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter=f"{where}.encoded_message_event_detail") from None
        if isinstance(detail, DeleteDetail):
            return where, candidate, detail, raw
    raise APIError.of(
        400,
        "$.action_signatures has no messageDeleteEvent (MessageEventDetail field 7) among its event details",
        parameter="$.action_signatures[0].encoded_message_event_detail",
    )


class Deletes:
    """deleteChatMessages, and the rows that hide deleted messages from the events answer."""

    def __init__(
        self, context: Context, public_keys: PublicKeyDirectory, conversations: Conversations, events: EventLog
    ) -> None:
        self.ctx = context
        self.public_keys = public_keys
        self.conversations = conversations
        self.events = events

    def delete(self, call: Call) -> Reply:
        """deleteChatMessages: check the signed delete, then hide the messages (a replay answers the same)."""
        caller = call.caller or ""
        cid = self.conversations.resolve(call.params["id"], caller, must_exist=True)
        body = call.body
        if len(body["sequence_ids"]) > MAX_DELETE_IDS:
            raise APIError.of(
                400, f"$.sequence_ids names {len(body['sequence_ids'])} messages; one delete may name at most {MAX_DELETE_IDS}",
                parameter="$.sequence_ids",
            )  # fmt: skip
        where, action, detail, detail_bytes = _read_action(body)
        for_all = body["delete_message_action"] == "delete_for_all"
        if sorted(detail.sequence_ids) != sorted(body["sequence_ids"]) or detail.delete_for_all != for_all:
            raise APIError.of(
                400,
                f"{where}.encoded_message_event_detail says {list(detail.sequence_ids)} "
                f"{'for all' if detail.delete_for_all else 'for self'}, but the body says {body['sequence_ids']} "
                f"{body['delete_message_action']}: they must match",
                parameter="$.sequence_ids",
            )
        sig = action["message_event_signature"]
        if not is_supported_signature_version(sig["signature_version"]):
            raise APIError.of(
                400,
                f"{where}.message_event_signature.signature_version {sig['signature_version']!r} is not supported "
                f"(send {_sig.SIGNATURE_VERSION!r})",
                parameter=f"{where}.message_event_signature.signature_version",
            )
        signer = self.public_keys.registered_keys(caller, sig["public_key_version"])
        if signer is None:
            raise APIError.of(
                400,
                f"{where}.message_event_signature.public_key_version {sig['public_key_version']!r} is not a registered key version of user {caller}",
                parameter=f"{where}.message_event_signature.public_key_version",
            )
        try:
            verify_delete(
                signer, message_id=action["message_id"], sender_id=caller, conversation_id=cid.canonical, detail=detail,
                signature=sig["signature"], signature_version=sig["signature_version"],
            )  # fmt: skip
        except KitError as exc:
            raise APIError.of(400, f"{where}.message_event_signature: {exc}", parameter=f"{where}.message_event_signature.signature") from None
        targets = self._targets(cid, detail.sequence_ids, caller, for_all)
        digest = request_digest(call)
        with self.ctx.store.transaction() as db:
            stored = self.events.replay(db, cid, action["message_id"], digest, caller)
            if stored is None:
                self._write(db, cid, caller, action, detail_bytes, targets, "" if for_all else caller, digest)
        return json_reply(200, {"data": {"deleted": True}})

    def _targets(self, cid: ConversationId, sequence_ids: tuple[str, ...], caller: str, for_all: bool) -> list[int]:
        seqs = [int(s) - SEQUENCE_BASE for s in sequence_ids]
        marks = ",".join("?" * len(seqs))
        rows = self.ctx.store.read(
            f"SELECT seq, sender_id FROM events WHERE conversation_id = ? AND kind = 'message' AND seq IN ({marks})",
            (cid.canonical, *seqs),
        )
        senders = {int(r[0]): str(r[1]) for r in rows}
        for text, seq in zip(sequence_ids, seqs):
            if seq not in senders:
                raise APIError.of(
                    404, f"no message with sequence id {text} in {cid.path}", resource_type="message", resource_id=text,
                    parameter="$.sequence_ids", value=text,
                )  # fmt: skip
        if for_all:
            info = self.ctx.store.read("SELECT info FROM conversations WHERE id = ?", (cid.canonical,))
            admins = json.loads(info[0][0]).get("admin_ids") or [] if info else []
            others = [text for text, seq in zip(sequence_ids, seqs) if senders[seq] != caller]
            if others and not (cid.is_group and caller in admins):
                raise APIError.of(
                    403,
                    f"delete_for_all removes only messages you sent (or any message in a group you administer); "
                    f"{others[0]} was sent by user {senders[int(others[0]) - SEQUENCE_BASE]}: use delete_for_self",
                    resource_type="message", resource_id=others[0],
                )  # fmt: skip
        return seqs

    def _write(
        self, db: Any, cid: ConversationId, caller: str, action: dict[str, Any], detail: bytes, targets: list[int],
        for_user: str, digest: str,
    ) -> StoredEvent:
        """Store the delete as the next event and hide its targets (for everyone: `for_user` ``""``)."""
        now = self.ctx.now_ms()
        sig = action["message_event_signature"]
        cur = db.execute(
            "INSERT INTO events (conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at) "
            "VALUES (?, 'delete', ?, ?, '', ?, x'', ?)",
            (cid.canonical, action["message_id"], caller, digest, now),
        )
        seq = int(cur.lastrowid)
        event = MessageEvent(
            sequence_id=str(SEQUENCE_BASE + seq),
            message_id=action["message_id"],
            sender_id=caller,
            conversation_id=cid.canonical,
            created_at_msec=str(now),
            detail=detail,
            signature=EventSignature(sig["signature"], sig["public_key_version"], sig["signature_version"]),
        )
        encoded = event.encode()
        self.events.charge(db, cid, len(encoded))
        db.execute("UPDATE events SET encoded = ? WHERE seq = ?", (encoded, seq))
        for target in targets:
            db.execute(
                "INSERT OR IGNORE INTO deletions (conversation_id, seq, for_user, by_event) VALUES (?, ?, ?, ?)",
                (cid.canonical, target, for_user, seq),
            )
        return StoredEvent(seq, cid.canonical, "delete", action["message_id"], caller, "", digest, encoded, now)
