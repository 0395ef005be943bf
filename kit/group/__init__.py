"""Groups, from both sides: create one with its signed roster, add members with a new key, read what happened.

`prepare_group_create` is what a creator's client does before `POST /2/chat/conversations/group`:
the group's first key change (`kit.prepare_key_init`) plus a second action signature over the
signed `GroupCreate` (members, admins, title). `prepare_members_change` is an admin's before
`POST /2/chat/conversations/{id}/members`: a fresh key wrapped to the whole new roster, plus the
signed member add. Each returns two action signatures, as the official SDK does.

`read_group_event` is what a member does with a group-change event: check its signature with
the actor's signing key and, given the conversation's key-change events, find the key that came
with it. A member who joined later finds no entry for them in the earlier key changes: they
cannot open what was said before they joined.

What each signature covers (tests/test_groups.py checks it against the SDK):

- ``GroupChangeEvent.GroupCreate,{message_id},{sender},{key version},{member ids...},{is_legacy|null},{title|null},{avatar|null}``:
  **not** the group id, the admins or the TTL;
- ``GroupChangeEvent.GroupMemberAddChange,{message_id},{sender},{group id},{new ids...},{current ids...},{admin ids...},{title|null},{avatar|null},{ttl|null},{key version},{screen capture|null}``:
  not the pending members, and not where one list ends and the next begins.

The package: `kit.group.payloads` (the signed texts), `kit.group.prepare` (creator and admin),
`kit.group.read` (member).
"""

from __future__ import annotations

from kit.group.payloads import UNSIGNED, group_create_payload, member_add_payload
from kit.group.prepare import GroupCreate, MembersChange, prepare_group_create, prepare_members_change
from kit.group.read import GroupEvent, read_group_event

__all__ = [
    "UNSIGNED",
    "GroupCreate",
    "GroupEvent",
    "MembersChange",
    "group_create_payload",
    "member_add_payload",
    "prepare_group_create",
    "prepare_members_change",
    "read_group_event",
]
