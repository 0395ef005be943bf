"""The group-change event structs on the wire: a group's creation and a member add, read and written.

A sibling of `kit.thrift` (same TBinaryProtocol, same reader: `kit.thrift.read_fields`), kept
apart because it holds a different concept: who is in a group, rather than keys and messages.
Writing matches the official SDK byte for byte (tests/test_groups.py).

Structs (from the SDK's ``event.thrift``; every field optional):

- ``MessageEventDetail`` union field 4: ``GroupChangeEvent``: 1 group_change (a union), 2 for_key_rotation
- ``GroupChange`` union: 1 group_create, 2 group_title_change, ..., 5 group_member_add, ...
- ``GroupCreate``: 1 member_ids, 2 admin_ids, 3 title, 4 avatar_url, 5 conversation_key_version,
  6 is_legacy_group_upgrade, 7 ttl_msec (i64)
- ``GroupMemberAddChange``: 1 member_ids (the new ones), 2 current_member_ids, 3 current_admin_ids,
  4 current_title, 5 current_avatar_url, 6 conversation_key_version, 7 current_ttl_msec (i64),
  8 current_pending_member_ids, 9 screen_capture_blocking_enabled
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kit.errors import WireFormatError
from kit.thrift import (
    BOOL,
    DETAIL_FIELDS,
    I64,
    STRING,
    STRUCT,
    Fields,
    Struct,
    field_bool,
    field_i64,
    field_list,
    field_string,
    read_fields,
    string_item,
)

__all__ = [
    "GROUP_CHANGE_FIELDS",
    "GroupCreateDetail",
    "MemberAddDetail",
    "OtherGroupChange",
    "is_group_change",
    "read_group_change",
]

#: Field ids of the `GroupChange` union, as named in the SDK's IDL.
GROUP_CHANGE_FIELDS = {
    1: "group_create",
    2: "group_title_change",
    3: "group_avatar_change",
    4: "group_admin_add",
    5: "group_member_add",
    6: "group_admin_remove",
    7: "group_member_remove",
    8: "group_invite_enable",
    9: "group_invite_disable",
    10: "group_join_request",
    11: "group_join_reject",
    12: "group_admin_settings_change",
}

_HEAD = struct.Struct(">bh")
_STOP = b"\x00"


# ----------------------------------------------------------------------------- writing


def _flist(fid: int, values: tuple[str, ...]) -> bytes:
    return field_list(fid, STRING, [string_item(v) for v in values])


def _detail(change_field: int, change: bytes, for_key_rotation: bool) -> bytes:
    """`MessageEventDetail{4: GroupChangeEvent{1: GroupChange{change_field: change}, 2: for_key_rotation}}`."""
    group_change = _HEAD.pack(STRUCT, change_field) + change + _STOP
    event = _HEAD.pack(STRUCT, 1) + group_change + field_bool(2, for_key_rotation) + _STOP
    return _HEAD.pack(STRUCT, 4) + event + _STOP


@dataclass(frozen=True)
class GroupCreateDetail:
    """`GroupCreate`: the signed roster of a new group (members, admins, title) and its first key version."""

    member_ids: tuple[str, ...]
    admin_ids: tuple[str, ...]
    conversation_key_version: str
    title: str | None = None
    avatar_url: str | None = None
    is_legacy_group_upgrade: bool | None = None
    ttl_msec: int | None = None
    for_key_rotation: bool = False

    def encode(self) -> bytes:
        """The whole `MessageEventDetail` union (field 4 set), as `encoded_message_event_detail` holds it."""
        out = _flist(1, self.member_ids) + _flist(2, self.admin_ids)
        if self.title is not None:
            out += field_string(3, self.title)
        if self.avatar_url is not None:
            out += field_string(4, self.avatar_url)
        out += field_string(5, self.conversation_key_version)
        if self.is_legacy_group_upgrade is not None:
            out += field_bool(6, self.is_legacy_group_upgrade)
        if self.ttl_msec is not None:
            out += field_i64(7, self.ttl_msec)
        return _detail(1, out + _STOP, self.for_key_rotation)


@dataclass(frozen=True)
class MemberAddDetail:
    """`GroupMemberAddChange`: the members added, the roster they join, and the new key version."""

    member_ids: tuple[str, ...]
    current_member_ids: tuple[str, ...]
    current_admin_ids: tuple[str, ...]
    conversation_key_version: str
    current_title: str | None = None
    current_avatar_url: str | None = None
    current_ttl_msec: int | None = None
    current_pending_member_ids: tuple[str, ...] = ()
    screen_capture_blocking_enabled: bool | None = None
    for_key_rotation: bool = False

    def encode(self) -> bytes:
        """The whole `MessageEventDetail` union (field 4 set). The pending list is always written, as the SDK does."""
        out = _flist(1, self.member_ids) + _flist(2, self.current_member_ids) + _flist(3, self.current_admin_ids)
        if self.current_title is not None:
            out += field_string(4, self.current_title)
        if self.current_avatar_url is not None:
            out += field_string(5, self.current_avatar_url)
        out += field_string(6, self.conversation_key_version)
        if self.current_ttl_msec is not None:
            out += field_i64(7, self.current_ttl_msec)
        out += _flist(8, self.current_pending_member_ids)
        if self.screen_capture_blocking_enabled is not None:
            out += field_bool(9, self.screen_capture_blocking_enabled)
        return _detail(5, out + _STOP, self.for_key_rotation)


@dataclass(frozen=True)
class OtherGroupChange:
    """A `GroupChange` of a kind the kit does not model (title change, admin add, ...)."""

    field_id: int
    name: str


# ----------------------------------------------------------------------------- reading


def _union(s: Struct, what: str, names: dict[int, str]) -> tuple[int, Struct]:
    if len(s.fields) != 1:
        raise WireFormatError(f"{what}: a union must set exactly one field, got fields {sorted(s.fields) or 'none'}")
    ((fid, (ttype, value)),) = s.fields.items()
    if ttype != STRUCT:
        raise WireFormatError(f"{what}: union field {fid} ({names.get(fid, 'unknown')}) must be a struct")
    return fid, value


def is_group_change(detail: bytes) -> bool:
    """Whether `detail` (a `MessageEventDetail`'s bytes) is a group change: union field 4, a struct.

    Looks at the first three bytes only; `read_group_change` checks the rest.
    """
    return len(detail) >= 3 and _HEAD.unpack_from(detail, 0) == (STRUCT, 4)


def read_group_change(
    data: bytes, *, what: str = "event detail"
) -> GroupCreateDetail | MemberAddDetail | OtherGroupChange:
    """Decode a `MessageEventDetail` that must be a group change (union field 4)."""
    s = read_fields(data, what=what)
    fid, event = _union(s, what, DETAIL_FIELDS)
    if fid != 4:
        raise WireFormatError(f"{what}: not a group change: its union field is {fid} ({DETAIL_FIELDS.get(fid, 'unknown')})")
    ev = Fields(event, f"{what} groupChangeEvent")
    change = ev.get(1, STRUCT, "group_change", required=True)
    rotation = bool(ev.get(2, BOOL, "for_key_rotation"))
    cfid, body = _union(change, f"{what} group_change", GROUP_CHANGE_FIELDS)
    name = GROUP_CHANGE_FIELDS.get(cfid, f"field {cfid}")
    g = Fields(body, f"{what} {name}")
    if cfid == 1:
        return GroupCreateDetail(
            member_ids=g.text_list(1, "member_ids"),
            admin_ids=g.text_list(2, "admin_ids"),
            title=g.text(3, "title"),
            avatar_url=g.text(4, "avatar_url"),
            conversation_key_version=g.text(5, "conversation_key_version", required=True) or "",
            is_legacy_group_upgrade=g.get(6, BOOL, "is_legacy_group_upgrade"),
            ttl_msec=g.get(7, I64, "ttl_msec"),
            for_key_rotation=rotation,
        )
    if cfid == 5:
        return MemberAddDetail(
            member_ids=g.text_list(1, "member_ids"),
            current_member_ids=g.text_list(2, "current_member_ids"),
            current_admin_ids=g.text_list(3, "current_admin_ids"),
            current_title=g.text(4, "current_title"),
            current_avatar_url=g.text(5, "current_avatar_url"),
            conversation_key_version=g.text(6, "conversation_key_version", required=True) or "",
            current_ttl_msec=g.get(7, I64, "current_ttl_msec"),
            current_pending_member_ids=g.text_list(8, "current_pending_member_ids"),
            screen_capture_blocking_enabled=g.get(9, BOOL, "screen_capture_blocking_enabled"),
            for_key_rotation=rotation,
        )
    return OtherGroupChange(cfid, name)
