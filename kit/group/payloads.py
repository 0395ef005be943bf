"""What each group action's signature covers: `group_create_payload`, `member_add_payload`, and what they leave out (`UNSIGNED`) (notebook 06)."""


from __future__ import annotations

from collections.abc import Sequence

from kit.errors import WireFormatError
from kit.thrift_group import GroupCreateDetail, MemberAddDetail

__all__ = [
    "UNSIGNED",
    "group_create_payload",
    "member_add_payload",
]

#: What each group action's signature leaves out (fields of the event a server could change unseen).
UNSIGNED = {
    "group_create": ("conversation_id", "admins", "ttl_msec"),
    "members_add": ("pending_members", "where the new, current and admin lists split"),
}


def _null(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _join(kind: str, parts: Sequence[tuple[str, str]]) -> bytes:
    for name, value in parts:
        if not isinstance(value, str):
            raise WireFormatError(f"{kind} payload: {name} must be a string, got {type(value).__name__}")
        if "," in value:
            raise WireFormatError(f"{kind} payload: {name} must not contain ',' (the payload has no escaping), got {value!r}")
    return ",".join((kind, *(v for _, v in parts))).encode("utf-8")


def group_create_payload(*, message_id: str, sender_id: str, detail: GroupCreateDetail) -> bytes:
    """The bytes a group-create action signature covers (no group id, admins or TTL among them)."""
    return _join(
        "GroupChangeEvent.GroupCreate",
        [
            ("message_id", message_id),
            ("sender_id", sender_id),
            ("conversation_key_version", detail.conversation_key_version),
            *((f"member_ids[{i}]", m) for i, m in enumerate(detail.member_ids)),
            ("is_legacy_group_upgrade", _null(detail.is_legacy_group_upgrade)),
            ("title", _null(detail.title)),
            ("avatar_url", _null(detail.avatar_url)),
        ],
    )


def member_add_payload(*, message_id: str, sender_id: str, conversation_id: str, detail: MemberAddDetail) -> bytes:
    """The bytes a member-add action signature covers (not the pending members)."""
    return _join(
        "GroupChangeEvent.GroupMemberAddChange",
        [
            ("message_id", message_id),
            ("sender_id", sender_id),
            ("conversation_id", conversation_id),
            *((f"member_ids[{i}]", m) for i, m in enumerate(detail.member_ids)),
            *((f"current_member_ids[{i}]", m) for i, m in enumerate(detail.current_member_ids)),
            *((f"current_admin_ids[{i}]", m) for i, m in enumerate(detail.current_admin_ids)),
            ("current_title", _null(detail.current_title)),
            ("current_avatar_url", _null(detail.current_avatar_url)),
            ("current_ttl_msec", _null(detail.current_ttl_msec)),
            ("conversation_key_version", detail.conversation_key_version),
            ("screen_capture_blocking_enabled", _null(detail.screen_capture_blocking_enabled)),
        ],
    )
