"""Conversations: resolve a path id for the caller, list members, read one or the caller's list."""

from __future__ import annotations

import json
from typing import Any

from kit.errors import APIError, KitError
from kit.ids import ConversationId
from kit.sandbox.calls import Call, Context, iso_time, paginate
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.users import Users

__all__ = ["Conversations"]


class Conversations:
    """The conversations and members tables: who may act in which conversation."""

    def __init__(self, context: Context, users: Users) -> None:
        self.ctx = context
        self.users = users

    def resolve(self, path_id: str, caller: str, *, must_exist: bool) -> ConversationId:
        """Turn a path id into the conversation, checking the caller belongs to it."""
        store = self.ctx.store
        try:
            cid = ConversationId.parse(path_id, caller=caller)
        except KitError as exc:
            raise APIError.of(400, f"path parameter id: {exc}", parameter="id", value=path_id) from None
        if cid.is_group:
            rows = store.read("SELECT kind FROM conversations WHERE id = ?", (cid.canonical,))
            if not rows:
                raise APIError.of(404, f"group {cid.canonical} does not exist", resource_type="conversation", resource_id=cid.canonical, parameter="id", value=path_id)
            if rows[0][0] == "group-pending":
                raise APIError.of(
                    404,
                    f"group {cid.canonical} was initialized but not created yet: POST /2/chat/conversations/group first",
                    resource_type="conversation", resource_id=cid.canonical, parameter="id", value=path_id,
                )  # fmt: skip
            if not store.read("SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?", (cid.canonical, caller)):
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
        if not self.users.exists(other):
            raise APIError.of(404, f"user {other} does not exist in this sandbox", resource_type="user", resource_id=other, parameter="id", value=path_id)
        if must_exist and not store.read("SELECT 1 FROM conversations WHERE id = ?", (cid.canonical,)):
            raise APIError.of(
                404, f"conversation {cid.path} has no events yet: initialize its keys first", resource_type="conversation", resource_id=cid.path
            )
        return cid

    def members(self, cid: ConversationId) -> list[str]:
        """A pair's two users, or a group's stored members."""
        if not cid.is_group:
            return list(cid.members)
        return [r[0] for r in self.ctx.store.read("SELECT user_id FROM members WHERE conversation_id = ?", (cid.canonical,))]

    def describe(self, cid: ConversationId) -> dict[str, Any]:
        """The API's JSON for a stored conversation."""
        row = self.ctx.store.read("SELECT kind, created_at, info FROM conversations WHERE id = ?", (cid.canonical,))[0]
        kind, created_at, info = row
        members = self.members(cid)
        out: dict[str, Any] = {
            "id": cid.path,
            "type": "Group" if kind == "group" else "OneToOne",
            "created_at": iso_time(created_at),
            "participant_ids": members,
        }
        if kind == "group":
            extra = json.loads(info)
            out["member_ids"] = members
            out["admin_ids"] = extra.get("admin_ids") or []
            if extra.get("group_name"):
                out["group_name"] = extra["group_name"]
        return out

    def get(self, call: Call) -> Reply:
        """getChatConversation: one conversation the caller belongs to."""
        path_id = call.params["id"]
        try:
            cid = self.resolve(path_id, call.caller or "", must_exist=True)
        except KitError as exc:
            if isinstance(exc, APIError):
                raise
            raise APIError.of(400, f"path parameter id: {exc}", parameter="id", value=path_id) from None
        return json_reply(200, {"data": self.describe(cid)})

    def list_conversations(self, call: Call) -> Reply:
        """getChatConversations: the caller's conversations, newest first, a page at a time."""
        rows = self.ctx.store.read(
            "SELECT c.id FROM conversations c JOIN members m ON m.conversation_id = c.id "
            "WHERE m.user_id = ? AND c.kind != 'group-pending' ORDER BY c.created_at DESC, c.id",
            (call.caller,),
        )
        ids = [r[0] for r in rows]
        page, meta = paginate(ids, call.query)
        data = [self.describe(ConversationId(c)) for c in page]
        return json_reply(200, {"data": data, "meta": meta})
