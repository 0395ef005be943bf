"""A group-change event from a member's side: its signature checked, the key that came with it found: `read_group_event` (notebook 06)."""


from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kit import signature as _sig
from kit.encoding import from_b64
from kit.errors import KeyNotFoundError, SignatureError, WireFormatError
from kit.group.payloads import UNSIGNED, group_create_payload, member_add_payload
from kit.ids import check_version
from kit.keys import Identity, PublicKeys
from kit.protocol import MAX_EVENT_CHARS, KeyChange, find_signing_key, read_key_change
from kit.thrift import KeyChangeDetail, read_detail, read_message_event
from kit.thrift_group import GroupCreateDetail, MemberAddDetail, is_group_change, read_group_change
from kit.trust import TrustStore

__all__ = [
    "GroupEvent",
    "read_group_event",
]

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
