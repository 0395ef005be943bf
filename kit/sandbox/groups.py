"""Groups: initialize a group id, create the group with its signed roster and first key, add members with a new key."""

from __future__ import annotations

import json
import re
import secrets

from typing import Any

from kit.errors import APIError, KitError
from kit.ids import INT64_MAX, ConversationId, check_user_id
from kit.sandbox.calls import Call, Context, request_digest
from kit.sandbox.group_actions import (
    GroupAction,
    check_own_message_id,
    check_same,
    find_group_action,
    signing_record,
    verify_group_action,
    write_group_event,
)
from kit.sandbox.key_changes import KeyChanges
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.users import Users
from kit.thrift_group import GroupCreateDetail, MemberAddDetail

__all__ = ["GROUP_ID", "Groups"]

#: A group conversation id, as initializeChatGroup mints them (ASCII digits).
GROUP_ID = re.compile(r"g[0-9]{1,19}\Z")


class Groups:
    """Group conversations: initializeChatGroup, createChatConversation and addChatGroupMembers."""

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
        found = find_group_action(body, GroupCreateDetail)
        if found is not None:  # without one: the kit's older key-change-only create (a sandbox choice)
            self._check_create(found, body, caller, gid, members, admins)
        request = self.key_changes.check(body, caller, cid, members)
        if found is not None:
            check_own_message_id(found, request.action["message_id"])
        digest = request_digest(call)
        info = json.dumps({
            "group_name": body.get("group_name"), "admin_ids": admins,
            "group_avatar_url": body.get("group_avatar_url"), "ttl_msec": body.get("ttl_msec"),
        })  # fmt: skip
        with self.ctx.store.transaction() as db:
            (current,) = db.execute("SELECT kind FROM conversations WHERE id = ?", (gid,)).fetchone()
            if current != "group-pending":
                raise APIError.of(409, f"group {gid} already exists", parameter="$.conversation_id", value=gid)
            db.execute("UPDATE conversations SET kind = 'group', info = ? WHERE id = ?", (info, gid))
            for m in members:
                db.execute("INSERT OR IGNORE INTO members (conversation_id, user_id) VALUES (?, ?)", (gid, m))
            stored = self.key_changes.write(db, cid=cid, caller=caller, request=request, digest=digest)
            if found is not None:
                write_group_event(db, self.key_changes.events, cid=cid, caller=caller, found=found, digest=digest, now=stored.created_at)
        return json_reply(201, {"data": {"conversation_id": gid, "conversation_key_change_sequence_id": stored.sequence_id}})

    def _check_create(
        self, found: GroupAction, body: dict[str, Any], caller: str, gid: str, members: list[str], admins: list[str]
    ) -> None:
        """The signed GroupCreate asks for what the body asks for, and its signature verifies."""
        detail = found.detail
        assert isinstance(detail, GroupCreateDetail)
        check_same("$.group_members with the creator", members, detail.member_ids, found, parameter="$.group_members")
        check_same("$.group_admins", admins, detail.admin_ids, found, parameter="$.group_admins")
        check_same("$.group_name", body.get("group_name") or None, detail.title, found, parameter="$.group_name")
        check_same("$.group_avatar_url", body.get("group_avatar_url") or None, detail.avatar_url, found, parameter="$.group_avatar_url")
        ttl = None if detail.ttl_msec is None else str(detail.ttl_msec)
        check_same("$.ttl_msec", body.get("ttl_msec"), ttl, found, parameter="$.ttl_msec")
        check_same("$.conversation_key_version", body["conversation_key_version"], detail.conversation_key_version, found,
                   parameter="$.conversation_key_version")  # fmt: skip
        pkv = found.action["message_event_signature"]["public_key_version"]
        verify_group_action(found, caller=caller, conversation_id=gid, record=signing_record(self.ctx.store, caller, pkv))

    def add_members(self, call: Call) -> Reply:
        """addChatGroupMembers: an admin adds members, with a new key for the whole new roster and
        the signed member add; both are stored as events, or nothing is."""
        caller = call.caller or ""
        body = call.body
        cid = self.key_changes.conversations.resolve(call.params["id"], caller, must_exist=True)  # 403 for a non-member
        gid = cid.canonical
        if not cid.is_group:
            raise APIError.of(400, f"path parameter id: {cid.path} is a 1:1 conversation; members are added to groups (g…) only", parameter="id", value=call.params["id"])
        info = json.loads(self.ctx.store.read("SELECT info FROM conversations WHERE id = ?", (gid,))[0][0])
        admins = list(info.get("admin_ids") or [])
        if caller not in admins:
            raise APIError.of(403, f"user {caller} is not an admin of group {gid}: only its admins {admins} add members",
                              resource_type="conversation", resource_id=gid)  # fmt: skip
        digest = request_digest(call)
        events = self.key_changes.events
        for action in body.get("action_signatures") or []:  # the same request again: the same answer
            with self.ctx.store.transaction() as db:
                stored = events.replay(db, cid, action["message_id"], digest, caller)
            if stored is not None and stored.kind == "key_change":
                return json_reply(200, {"data": {"conversation_id": gid, "sequence_id": stored.sequence_id}})
        current = self.key_changes.conversations.members(cid)
        new = self._new_members(body.get("user_ids") or [], current)
        for name in ("conversation_key_version", "conversation_participant_keys", "action_signatures"):
            if name not in body:
                raise APIError.of(400, f"$.{name} is required: adding members rotates the conversation key (send both signed actions)", parameter=f"$.{name}")
        found = find_group_action(body, MemberAddDetail)
        if found is None:
            raise APIError.of(400, "$.action_signatures has no signed member add (GroupChangeEvent.GroupMemberAddChange): send both signed actions",
                              parameter="$.action_signatures")  # fmt: skip
        detail = found.detail
        assert isinstance(detail, MemberAddDetail)
        check_same("$.user_ids", new, detail.member_ids, found, parameter="$.user_ids")
        check_same(f"the members of {gid}", current, detail.current_member_ids, found, parameter=f"{found.where}.encoded_message_event_detail")
        check_same(f"the admins of {gid}", admins, detail.current_admin_ids, found, parameter=f"{found.where}.encoded_message_event_detail")
        check_same("$.conversation_key_version", body["conversation_key_version"], detail.conversation_key_version, found,
                   parameter="$.conversation_key_version")  # fmt: skip
        pkv = found.action["message_event_signature"]["public_key_version"]
        verify_group_action(found, caller=caller, conversation_id=gid, record=signing_record(self.ctx.store, caller, pkv))
        request = self.key_changes.check(body, caller, cid, current + new)  # the new key, wrapped to every member
        check_own_message_id(found, request.action["message_id"])
        with self.ctx.store.transaction() as db:
            stored = self.key_changes.write(db, cid=cid, caller=caller, request=request, digest=digest)
            write_group_event(db, events, cid=cid, caller=caller, found=found, digest=digest, now=stored.created_at)
            for m in new:
                db.execute("INSERT OR IGNORE INTO members (conversation_id, user_id) VALUES (?, ?)", (gid, m))
        return json_reply(200, {"data": {"conversation_id": gid, "sequence_id": stored.sequence_id}})

    def _new_members(self, user_ids: list[Any], current: list[str]) -> list[str]:
        """$.user_ids checked: at least one, each a user id once, not a member yet, existing, with registered keys."""
        if not user_ids:
            raise APIError.of(400, "$.user_ids must name at least one user to add", parameter="$.user_ids")
        for i, u in enumerate(user_ids):
            try:
                check_user_id(u, what=f"$.user_ids[{i}]")
            except KitError as exc:
                raise APIError.of(400, str(exc), parameter=f"$.user_ids[{i}]") from None
        if len(set(user_ids)) != len(user_ids):
            raise APIError.of(400, "$.user_ids lists a user more than once", parameter="$.user_ids")
        members = set(current)
        for i, u in enumerate(user_ids):
            if u in members:
                raise APIError.of(400, f"$.user_ids[{i}]: user {u} is already a member", parameter=f"$.user_ids[{i}]", value=u)
        unknown = self.users.missing(list(user_ids))
        if unknown:
            raise APIError.of(404, f"$.user_ids: user {unknown[0]!r} does not exist in this sandbox", resource_type="user",
                              resource_id=unknown[0], parameter="$.user_ids", value=unknown[0])  # fmt: skip
        with_keys = {u for u, _ in self.key_changes.public_keys.registered(set(user_ids))}
        for i, u in enumerate(user_ids):
            if u not in with_keys:
                raise APIError.of(
                    400, f"$.user_ids[{i}]: user {u} has no registered public keys: they register keys "
                    "(POST /2/users/{id}/public_keys) before anyone can add them", parameter=f"$.user_ids[{i}]", value=u,
                )  # fmt: skip
        return list(user_ids)
