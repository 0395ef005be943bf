"""A conversation's event log: replays of a message id, and reading the events a page at a time."""

from __future__ import annotations

from typing import Any

from kit.encoding import b64
from kit.errors import APIError
from kit.ids import ConversationId
from kit.sandbox.calls import Call, Context, iso_time
from kit.sandbox.conversations import Conversations
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import Store, StoredEvent

__all__ = ["EventLog"]


class EventLog:
    """The events table: key changes and messages of each conversation, in sequence order."""

    def __init__(self, context: Context, conversations: Conversations) -> None:
        self.ctx = context
        self.conversations = conversations

    def replay(self, db: Any, cid: ConversationId, message_id: str, digest: str, caller: str) -> StoredEvent | None:
        """The event already stored for this message id (a replay), None if there is none, or a
        409 when the id was used for a different request or by another user."""
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

    def list_events(self, call: Call) -> Reply:
        """getChatConversationEvents: messages newest first, a page at a time, with every key change."""
        cid = self.conversations.resolve(call.params["id"], call.caller or "", must_exist=True)
        rows = self.ctx.store.read(
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
                "created_at": iso_time(e.created_at),
                "encoded_event": b64(e.encoded),
            }
            for e in page
        ]
        meta["conversation_key_events"] = key_events
        return json_reply(200, {"data": data, "meta": meta})
