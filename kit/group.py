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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kit import signature as _sig
from kit.encoding import b64, from_b64
from kit.errors import KeyNotFoundError, SignatureError, WireFormatError
from kit.ids import ConversationId, check_user_id, check_version, new_version
from kit.keys import Identity, PublicKeys
from kit.protocol import MAX_EVENT_CHARS, KeyChange, KeyInit, find_signing_key, prepare_key_init, read_key_change
from kit.thrift import KeyChangeDetail, read_detail, read_message_event
from kit.thrift_group import GroupCreateDetail, MemberAddDetail, is_group_change, read_group_change
from kit.trust import TrustStore

__all__ = [
    "GroupCreate",
    "GroupEvent",
    "MembersChange",
    "group_create_payload",
    "member_add_payload",
    "prepare_group_create",
    "prepare_members_change",
    "read_group_event",
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


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class GroupEvent:
    """A group-change event read and verified by a member.

    `kind` is ``"group_create"`` or ``"members_add"``; `members` is the roster after the event and
    `added` who joined with it; `actor_id` made the change (its signature verified with `signer`).
    `key_change` is the key that came with it, read as the recipient, or None when the recipient
    has no entry in it (they joined later) or no key change of its version was given.
    `unsigned` names what the event carries that its signature does not cover.
    """

    kind: str
    conversation_id: str
    message_id: str
    sequence_id: str
    created_at_msec: str
    actor_id: str
    members: tuple[str, ...]
    added: tuple[str, ...]
    admins: tuple[str, ...]
    title: str | None
    avatar_url: str | None
    ttl_msec: int | None
    conversation_key_version: str
    key_change: KeyChange | None
    wrapped_to: tuple[str, ...]
    unsigned: tuple[str, ...]
    detail: GroupCreateDetail | MemberAddDetail = field(repr=False)
    signer: PublicKeys | None = field(default=None, repr=False, compare=False)

    @property
    def actor_is_admin(self) -> bool:
        """Whether the actor is among the admins the event names (the SDK does not check this; the server must)."""
        return self.actor_id in self.admins

    def __repr__(self) -> str:
        key = "none for this recipient" if self.key_change is None else "<hidden>"
        return (
            f"GroupEvent(kind={self.kind!r}, conversation_id={self.conversation_id!r}, actor_id={self.actor_id!r}, "
            f"members={list(self.members)}, added={list(self.added)}, admins={list(self.admins)}, title={self.title!r}, "
            f"conversation_key_version={self.conversation_key_version!r}, conversation_key={key})"
        )


def _key_change_for(
    key_changes: Iterable[str | bytes], version: str, conversation_id: str, *, recipient: Identity,
    signing_keys: list[PublicKeys], trust: TrustStore | None,
) -> tuple[KeyChange | None, tuple[str, ...]]:  # fmt: skip
    for item in key_changes:
        raw = item if isinstance(item, (bytes, bytearray)) else from_b64(item, what="key-change event", max_len=MAX_EVENT_CHARS)
        event = read_message_event(bytes(raw), what="key-change event")
        detail = event.read_detail()
        if not isinstance(detail, KeyChangeDetail) or detail.conversation_key_version != version:
            continue
        if event.conversation_id != conversation_id:
            continue
        wrapped = tuple(p.user_id for p in detail.participant_keys)
        try:
            change = read_key_change(bytes(raw), recipient=recipient, signing_keys=signing_keys, trust=trust)
        except KeyNotFoundError:
            return None, wrapped  # no entry for me: I was not in the roster this key was wrapped to
        return change, wrapped
    return None, ()


def read_group_event(
    event_b64: str | bytes,
    *,
    recipient: Identity,
    signing_keys: Iterable[PublicKeys],
    trust: TrustStore | None = None,
    key_changes: Iterable[str | bytes] = (),
) -> GroupEvent:
    """Read a group-change `MessageEvent` (a group create or a member add) as `recipient`.

    Verifies the action signature with the actor's signing key (`SignatureError` when it does not
    verify or no key matches), checks the actor's keys against `trust` when given, and reads the
    key change of the event's key version from `key_changes` (e.g. ``page.key_changes``) as
    `recipient`. Raises `WireFormatError` for an event that is not a group create or member add.
    """
    raw = event_b64 if isinstance(event_b64, (bytes, bytearray)) else from_b64(event_b64, what="group event", max_len=MAX_EVENT_CHARS)
    event = read_message_event(bytes(raw), what="group event")
    if not is_group_change(event.detail):
        kind = read_detail(event.detail)
        name = getattr(kind, "name", type(kind).__name__)
        raise WireFormatError(f"event {event.message_id} is not a group change: its detail is {name}")
    detail = read_group_change(event.detail, what=f"group event {event.message_id} detail")
    if isinstance(detail, GroupCreateDetail):
        kind = "group_create"
        payload = group_create_payload(message_id=event.message_id, sender_id=event.sender_id, detail=detail)
        members, added, admins = detail.member_ids, detail.member_ids, detail.admin_ids
        title, avatar, ttl = detail.title, detail.avatar_url, detail.ttl_msec
    elif isinstance(detail, MemberAddDetail):
        kind = "members_add"
        payload = member_add_payload(
            message_id=event.message_id, sender_id=event.sender_id, conversation_id=event.conversation_id, detail=detail
        )
        members = tuple(dict.fromkeys(detail.current_member_ids + detail.member_ids))
        added, admins = detail.member_ids, detail.current_admin_ids
        title, avatar, ttl = detail.current_title, detail.current_avatar_url, detail.current_ttl_msec
    else:
        raise WireFormatError(f"event {event.message_id} is a group change the kit does not read: {detail.name}")
    check_version(detail.conversation_key_version, what="conversation_key_version in the group event")
    if event.signature is None:
        raise SignatureError(f"group event {event.message_id} carries no message_event_signature")
    _sig.check_signature_version(event.signature.signature_version, f"group event {event.message_id}")
    keys = list(signing_keys)
    signer = find_signing_key(keys, event.sender_id, event.signature.public_key_version)
    _sig.verify(
        signer.signing_key,
        _sig.decode_signature(event.signature.signature, what="action signature"),
        payload,
        what=f"action signature of group event {event.message_id} by user {event.sender_id}",
    )
    if trust is not None:
        trust.require(signer, what=f"group event {event.message_id} from user {event.sender_id}")
    change, wrapped = _key_change_for(
        key_changes, detail.conversation_key_version, event.conversation_id,
        recipient=recipient, signing_keys=keys, trust=trust,
    )  # fmt: skip
    return GroupEvent(
        kind=kind,
        conversation_id=event.conversation_id,
        message_id=event.message_id,
        sequence_id=event.sequence_id,
        created_at_msec=event.created_at_msec,
        actor_id=event.sender_id,
        members=members,
        added=added,
        admins=admins,
        title=title,
        avatar_url=avatar,
        ttl_msec=ttl,
        conversation_key_version=detail.conversation_key_version,
        key_change=change,
        wrapped_to=wrapped,
        unsigned=UNSIGNED[kind],
        detail=detail,
        signer=signer,
    )
