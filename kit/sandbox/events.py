"""A conversation's event log: replays of a message id, and reading the events a page at a time."""

from __future__ import annotations

from typing import Any

from kit.encoding import b64
from kit.errors import APIError
from kit.ids import ConversationId
from kit.sandbox.calls import Call, Context, iso_time
from kit.sandbox.conversations import Conversations
from kit.sandbox.limits import is_ascii_number
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import SEQUENCE_BASE, Store, StoredEvent

__all__ = ["EventLog"]


class EventLog:
    """The events table: key changes, messages and deletes of each conversation, in sequence order."""

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

    def charge(self, db: Any, cid: ConversationId, size: int) -> None:
        """Count `size` more stored bytes against the conversation's quota, inside the write's
        transaction: over the quota, a 403 and the transaction (so the event) is rolled back."""
        row = db.execute("SELECT stored_bytes FROM conversations WHERE id = ?", (cid.canonical,)).fetchone()
        used, quota = (row[0] if row else 0), self.ctx.conversation_quota_bytes
        if used + size > quota:
            raise APIError.of(
                403,
                f"conversation {cid.path} holds {used} bytes of events and this one is {size}: the sandbox stores at most "
                f"{quota} bytes per conversation; nothing was stored",
                resource_type="conversation",
                resource_id=cid.path,
            )
        db.execute("UPDATE conversations SET stored_bytes = stored_bytes + ? WHERE id = ?", (size, cid.canonical))

    def list_events(self, call: Call) -> Reply:
        """getChatConversationEvents: messages, deletes and group changes newest first, a page at a time, with every key change.

        The page is read in SQL (``seq < token ORDER BY seq DESC LIMIT size + 1``): a read costs
        one page and the key changes, however many messages the conversation holds."""
        cid = self.conversations.resolve(call.params["id"], call.caller or "", must_exist=True)
        # The token is the sequence id to continue below, so pages stay right while new messages arrive.
        token = call.query.get("pagination_token")
        below = None
        if token is not None:
            if not is_ascii_number(token):  # ASCII digits only: "²".isdigit() is true, and int() fails on it
                raise APIError.of(400, "pagination_token is not one this sandbox issued", parameter="pagination_token", value=token)
            below = min(max(int(token) - SEQUENCE_BASE, 0), 2**62)
        size = int(call.query.get("max_results", 10))
        columns = "seq, conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at"
        keys = self.ctx.store.read(
            f"SELECT {columns} FROM events WHERE conversation_id = ? AND kind = 'key_change' ORDER BY seq", (cid.canonical,)
        )
        caller = call.caller or ""
        # Deleted messages leave the answer: for everyone (for_user ''), or for the user who deleted them
        # for self. A delete event is served to its sender, and to everyone when it deleted for all.
        rows = self.ctx.store.read(
            f"SELECT {columns} FROM events e WHERE conversation_id = ? AND kind IN ('message', 'delete', 'group_change') AND seq < ? AND ("
            "kind = 'group_change' OR "
            "(kind = 'message' AND NOT EXISTS (SELECT 1 FROM deletions d WHERE d.conversation_id = e.conversation_id "
            "AND d.seq = e.seq AND d.for_user IN ('', ?))) OR "
            "(kind = 'delete' AND (sender_id = ? OR EXISTS (SELECT 1 FROM deletions d WHERE d.conversation_id = e.conversation_id "
            "AND d.by_event = e.seq AND d.for_user = '')))"
            ") ORDER BY seq DESC LIMIT ?",
            (cid.canonical, below if below is not None else 2**62, caller, caller, size + 1),
        )
        key_events = [b64(Store.event_from(r).encoded) for r in keys]
        messages = [Store.event_from(r) for r in rows]  # newest first, one past the page
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
