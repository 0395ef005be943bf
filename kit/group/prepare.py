"""A group from its creator's and an admin's side: `prepare_group_create`, `prepare_members_change` (two action signatures each) (notebook 06)."""


from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kit import signature as _sig
from kit.encoding import b64
from kit.errors import WireFormatError
from kit.group.payloads import group_create_payload, member_add_payload
from kit.ids import ConversationId, check_user_id, check_version, new_version
from kit.keys import Identity, PublicKeys
from kit.protocol import KeyInit, prepare_key_init
from kit.thrift_group import GroupCreateDetail, MemberAddDetail

__all__ = [
    "GroupCreate",
    "MembersChange",
    "prepare_group_create",
    "prepare_members_change",
]

# ----------------------------------------------------------------------------- preparing


@dataclass(frozen=True)
class GroupCreate:
    """Everything `prepare_group_create` made. Only `body` goes to the server.

    `key_init` is the group's first key change (its `conversation_key` is the plaintext key: keep
    it, never send it); `detail` is the signed `GroupCreate`; `action_signatures` holds both signed
    actions as the body does, the key change first.
    """

    key_init: KeyInit
    detail: GroupCreateDetail
    message_id: str
    signature: bytes
    action_signatures: tuple[dict[str, Any], ...]
    body: dict[str, Any]

    @property
    def conversation_id(self) -> str:
        return self.key_init.conversation_id

    @property
    def members(self) -> tuple[str, ...]:
        return self.detail.member_ids

    @property
    def admins(self) -> tuple[str, ...]:
        return self.detail.admin_ids

    @property
    def title(self) -> str | None:
        return self.detail.title

    @property
    def conversation_key(self) -> bytes:
        return self.key_init.conversation_key

    @property
    def conversation_key_version(self) -> str:
        return self.key_init.conversation_key_version

    def __repr__(self) -> str:
        return (
            f"GroupCreate(conversation_id={self.conversation_id!r}, members={list(self.members)}, "
            f"admins={list(self.admins)}, title={self.title!r}, conversation_key_version="
            f"{self.conversation_key_version!r}, action_signatures=2, conversation_key=<hidden>)"
        )


@dataclass(frozen=True)
class MembersChange:
    """Everything `prepare_members_change` made: a new key for the new roster and the signed member add.

    Only `body` goes to the server, at `path_id` (the group id).
    """

    key_init: KeyInit
    detail: MemberAddDetail
    message_id: str
    signature: bytes
    action_signatures: tuple[dict[str, Any], ...]
    body: dict[str, Any]

    @property
    def conversation_id(self) -> str:
        return self.key_init.conversation_id

    @property
    def path_id(self) -> str:
        return self.key_init.path_id

    @property
    def added(self) -> tuple[str, ...]:
        return self.detail.member_ids

    @property
    def members(self) -> tuple[str, ...]:
        """The roster after the add: the current members, then the new ones."""
        return self.detail.current_member_ids + self.detail.member_ids

    @property
    def admins(self) -> tuple[str, ...]:
        return self.detail.current_admin_ids

    @property
    def conversation_key(self) -> bytes:
        return self.key_init.conversation_key

    @property
    def conversation_key_version(self) -> str:
        return self.key_init.conversation_key_version

    def __repr__(self) -> str:
        return (
            f"MembersChange(conversation_id={self.conversation_id!r}, added={list(self.added)}, "
            f"members={list(self.members)}, conversation_key_version={self.conversation_key_version!r}, "
            "action_signatures=2, conversation_key=<hidden>)"
        )


def _group_id(conversation_id: object) -> ConversationId:
    cid = ConversationId.parse(conversation_id)
    if not cid.is_group:
        raise WireFormatError(f"conversation id must be a group id (g…, from initialize_group()), got {conversation_id!r}")
    return cid


def _keys_list(what: str, items: Iterable[PublicKeys]) -> list[PublicKeys]:
    if isinstance(items, (str, bytes, PublicKeys)):
        raise WireFormatError(f"{what} must be a list of kit.PublicKeys, got {type(items).__name__}")
    out = list(items)
    for pk in out:
        if not isinstance(pk, PublicKeys):
            raise WireFormatError(f"{what} must hold kit.PublicKeys (e.g. api.latest_public_keys(user_id)), got {type(pk).__name__}")
    return out


def _ids(what: str, items: Iterable[str]) -> tuple[str, ...]:
    if isinstance(items, str):
        raise WireFormatError(f"{what} must be a list of user ids, got the string {items!r}")
    out = tuple(dict.fromkeys(check_user_id(i, what=f"{what} entry") for i in items))
    return out


def _text(what: str, value: str | None) -> str | None:
    if value is None or value == "":  # the SDK writes an empty title as no title (signed as "null")
        return None
    if not isinstance(value, str):
        raise WireFormatError(f"{what} must be a string, got {type(value).__name__}")
    if "," in value:
        raise WireFormatError(f"{what} must not contain ',': group actions sign comma-joined text, got {value!r}")
    return value


def _ttl(what: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise WireFormatError(f"{what} must be a positive number of milliseconds, got {value!r}")
    return value


def _action(message_id: str, detail: bytes, signature: bytes, sender: Identity, payload: bytes | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "message_id": message_id,
        "encoded_message_event_detail": b64(detail),
        "message_event_signature": {
            "signature": _sig.encode_signature(signature),
            "public_key_version": sender.version,
            "signature_version": _sig.SIGNATURE_VERSION,
        },
    }
    if payload is not None:  # group actions hold no secret: the SDK sends their payload for the server's logs
        out["signature_payload"] = payload.decode("utf-8")
    return out


def prepare_group_create(
    sender: Identity,
    conversation_id: str,
    *,
    members: Sequence[PublicKeys],
    admins: Sequence[str] | None = None,
    title: str | None = None,
    avatar_url: str | None = None,
    ttl_msec: int | None = None,
    version: str | None = None,
    message_ids: tuple[str, str] | None = None,
    conversation_key: bytes | None = None,
    verify_bindings: bool = True,
) -> GroupCreate:
    """Build the Create Group request: the first key change and the signed `GroupCreate`.

    `conversation_id` is the ``g…`` id from `initialize_group()`; `members` are the other members'
    public keys (the sender is a member anyway); `admins` default to the sender. The signed roster
    is the sender first (unless listed), then `members` in order. `message_ids` (key change, create)
    and `conversation_key` are for repeatable lessons and tests only.
    """
    cid = _group_id(conversation_id)
    people = _keys_list("members", members)
    roster = _ids("members", [sender.user_id] * (sender.user_id not in {pk.user_id for pk in people}) + [pk.user_id for pk in people])
    admin_ids = _ids("admins", admins if admins is not None else [sender.user_id])
    strangers = [a for a in admin_ids if a not in roster]
    if strangers:
        raise WireFormatError(f"admins {strangers} are not members of the group: every admin must be a member")
    if not admin_ids:
        raise WireFormatError("admins must name at least one member (by default the sender)")
    key_version = check_version(version, what="conversation key version") if version is not None else new_version()
    kc_id, create_id = message_ids if message_ids is not None else (str(uuid.uuid4()), str(uuid.uuid4()))
    if kc_id == create_id:
        raise WireFormatError("the key change and the group create need two different message ids")
    init = prepare_key_init(
        sender, people, conversation_id=cid.canonical, version=key_version, message_id=kc_id,
        conversation_key=conversation_key, verify_bindings=verify_bindings,
    )  # fmt: skip
    detail = GroupCreateDetail(
        member_ids=roster,
        admin_ids=admin_ids,
        conversation_key_version=key_version,
        title=_text("title", title),
        avatar_url=_text("avatar_url", avatar_url),
        ttl_msec=_ttl("ttl_msec", ttl_msec),
    )
    payload = group_create_payload(message_id=create_id, sender_id=sender.user_id, detail=detail)
    signature = sender.sign(payload)
    actions = (init.body["action_signatures"][0], _action(create_id, detail.encode(), signature, sender, payload))
    body: dict[str, Any] = {
        "conversation_id": cid.canonical,
        "conversation_key_version": key_version,
        "conversation_participant_keys": init.body["conversation_participant_keys"],
        "action_signatures": list(actions),
        "group_members": list(roster),
        "group_admins": list(admin_ids),
    }
    if detail.title is not None:
        body["group_name"] = detail.title
    if detail.avatar_url is not None:
        body["group_avatar_url"] = detail.avatar_url
    if detail.ttl_msec is not None:
        body["ttl_msec"] = str(detail.ttl_msec)
    return GroupCreate(init, detail, create_id, signature, actions, body)


def prepare_members_change(
    sender: Identity,
    conversation_id: str,
    *,
    add: Sequence[PublicKeys],
    current: Sequence[PublicKeys],
    admins: Sequence[str],
    pending: Sequence[str] = (),
    title: str | None = None,
    avatar_url: str | None = None,
    ttl_msec: int | None = None,
    screen_capture_blocking: bool | None = None,
    version: str | None = None,
    message_ids: tuple[str, str] | None = None,
    conversation_key: bytes | None = None,
    verify_bindings: bool = True,
) -> MembersChange:
    """Build the Add Members request: a fresh key wrapped to every member old and new, and the signed add.

    `add` are the new members' public keys, `current` every current member's (the sender's own
    are added if missing), `admins` the current admins (the sender must be one). `title`,
    `avatar_url`, `ttl_msec` and `screen_capture_blocking` are the group's current settings, signed
    with the add. `message_ids` (key change, member add) and `conversation_key` are for repeatable
    lessons and tests only.
    """
    cid = _group_id(conversation_id)
    new = _keys_list("add", add)
    old = _keys_list("current", current)
    if not new:
        raise WireFormatError("add must name at least one new member")
    current_ids = _ids("current", [sender.user_id] * (sender.user_id not in {pk.user_id for pk in old}) + [pk.user_id for pk in old])
    new_ids = _ids("add", [pk.user_id for pk in new])
    already = [u for u in new_ids if u in current_ids]
    if already:
        raise WireFormatError(f"users {already} are already members: add names new members only")
    admin_ids = _ids("admins", admins)
    if sender.user_id not in admin_ids:
        raise WireFormatError(f"only an admin adds members: user {sender.user_id} is not in admins {list(admin_ids)}")
    strangers = [a for a in admin_ids if a not in current_ids]
    if strangers:
        raise WireFormatError(f"admins {strangers} are not current members")
    key_version = check_version(version, what="conversation key version") if version is not None else new_version()
    kc_id, add_id = message_ids if message_ids is not None else (str(uuid.uuid4()), str(uuid.uuid4()))
    if kc_id == add_id:
        raise WireFormatError("the key change and the member add need two different message ids")
    init = prepare_key_init(
        sender, [*old, *new], conversation_id=cid.canonical, version=key_version, message_id=kc_id,
        conversation_key=conversation_key, verify_bindings=verify_bindings,
    )  # fmt: skip
    detail = MemberAddDetail(
        member_ids=new_ids,
        current_member_ids=current_ids,
        current_admin_ids=admin_ids,
        conversation_key_version=key_version,
        current_title=_text("title", title),
        current_avatar_url=_text("avatar_url", avatar_url),
        current_ttl_msec=_ttl("ttl_msec", ttl_msec),
        current_pending_member_ids=_ids("pending", pending),
        screen_capture_blocking_enabled=screen_capture_blocking,
    )
    payload = member_add_payload(message_id=add_id, sender_id=sender.user_id, conversation_id=cid.canonical, detail=detail)
    signature = sender.sign(payload)
    actions = (init.body["action_signatures"][0], _action(add_id, detail.encode(), signature, sender, payload))
    body = {
        "user_ids": list(new_ids),
        "conversation_key_version": key_version,
        "conversation_participant_keys": init.body["conversation_participant_keys"],
        "action_signatures": list(actions),
    }
    return MembersChange(init, detail, add_id, signature, actions, body)
