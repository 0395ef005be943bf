"""Groups: initialize a group id, then create the group with its members, admins and first key."""

from __future__ import annotations

import json
import re
import secrets

from kit.errors import APIError, KitError
from kit.ids import INT64_MAX, ConversationId, check_user_id
from kit.sandbox.calls import Call, Context, request_digest
from kit.sandbox.key_changes import KeyChanges
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.users import Users

__all__ = ["GROUP_ID", "Groups"]

#: A group conversation id, as initializeChatGroup mints them (ASCII digits).
GROUP_ID = re.compile(r"g[0-9]{1,19}\Z")


class Groups:
    """Group conversations: initializeChatGroup and createChatConversation."""

    def __init__(self, context: Context, users: Users, key_changes: KeyChanges) -> None:
        self.ctx = context
        self.users = users
        self.key_changes = key_changes

    def initialize(self, call: Call) -> Reply:
        """initializeChatGroup: reserve a fresh group id for the caller to create."""
        now = self.ctx.now_ms()
        with self.ctx.store.transaction() as db:
            while True:
                gid = "g" + str(10**18 + secrets.randbelow(INT64_MAX - 10**18))
                if not db.execute("SELECT 1 FROM conversations WHERE id = ?", (gid,)).fetchone():
                    break
            db.execute(
                "INSERT INTO conversations (id, kind, created_by, created_at) VALUES (?, 'group-pending', ?, ?)",
                (gid, call.caller, now),
            )
        return json_reply(200, {"data": {"conversation_id": gid}})

    def create(self, call: Call) -> Reply:
        """createChatConversation: turn the caller's initialized group into a group with members,
        admins and its first key change."""
        caller = call.caller or ""
        body = call.body
        gid = body["conversation_id"]
        # The pattern first, then one 404 for everything that is not the caller's own group: no
        # answer may tell whether other users' conversations exist (a 409 for "A:B" said so).
        if not (isinstance(gid, str) and GROUP_ID.match(gid)):
            raise APIError.of(400, f"$.conversation_id must be a group id from POST /2/chat/conversations/group/initialize ('g' and 1 to 19 digits), got {gid!r}", parameter="$.conversation_id")
        row = self.ctx.store.read("SELECT kind, created_by FROM conversations WHERE id = ?", (gid,))
        if not row or row[0][1] != caller:
            raise APIError.of(404, f"group {gid} is not one you initialized: call POST /2/chat/conversations/group/initialize first", resource_type="conversation", resource_id=gid, parameter="$.conversation_id", value=gid)
        if row[0][0] != "group-pending":  # the caller's own group, created already: no one else learns anything
            raise APIError.of(409, f"group {gid} already exists", parameter="$.conversation_id", value=gid)
        members = list(dict.fromkeys([caller, *body["group_members"]]))
        for field in ("group_members", "group_admins"):
            for i, m in enumerate(body.get(field) or []):
                try:
                    check_user_id(m, what=f"$.{field}[{i}]")
                except KitError as exc:
                    raise APIError.of(400, str(exc), parameter=f"$.{field}[{i}]") from None
        unknown = self.users.missing(members)
        if unknown:
            m = unknown[0]
            raise APIError.of(404, f"$.group_members: user {m!r} does not exist in this sandbox", resource_type="user", resource_id=m, parameter="$.group_members", value=m)
        admins = body.get("group_admins") or [caller]
        strangers = sorted(set(admins) - set(members))
        if strangers:
            raise APIError.of(400, f"$.group_admins {strangers} are not group members", parameter="$.group_admins")
        cid = ConversationId.parse(gid)
        request = self.key_changes.check(body, caller, cid, members)
        digest = request_digest(call)
        info = json.dumps({"group_name": body.get("group_name"), "admin_ids": admins})
        with self.ctx.store.transaction() as db:
            (current,) = db.execute("SELECT kind FROM conversations WHERE id = ?", (gid,)).fetchone()
            if current != "group-pending":
                raise APIError.of(409, f"group {gid} already exists", parameter="$.conversation_id", value=gid)
            db.execute("UPDATE conversations SET kind = 'group', info = ? WHERE id = ?", (info, gid))
            for m in members:
                db.execute("INSERT OR IGNORE INTO members (conversation_id, user_id) VALUES (?, ?)", (gid, m))
            stored = self.key_changes.write(db, cid=cid, caller=caller, request=request, digest=digest)
        return json_reply(201, {"data": {"conversation_id": gid, "conversation_key_change_sequence_id": stored.sequence_id}})
