"""The Initialize Conversation Keys action, from both sides.

`prepare_key_init` is what a sender's client does before `POST /2/chat/conversations/{id}/keys`:
mint a fresh 32-byte conversation key, wrap it for every participant (the sender too), describe
the change as a Thrift event detail, sign the v7 action payload, and write the JSON body.

`read_key_change` is what a recipient does with the key-change event it fetches: find its own
entry, unwrap the key, and check the action signature with the sender's signing key.
"""

from __future__ import annotations

import os
import uuid
from binascii import b2a_base64 as _b2a
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from kit import signature as _sig
from kit.encoding import b64, from_b64
from kit.errors import KeyNotFoundError, SignatureError, WireFormatError
from kit.ids import ConversationId, check_version, new_version, version_key
from kit.keys import Identity, PublicKeys
from kit.trust import TrustStore
from kit.thrift import EventSignature, KeyChangeDetail, MessageEvent, ParticipantKey, read_message_event
from kit.wrap import wrap_all

__all__ = [
    "KeyChange",
    "KeyInit",
    "find_signing_key",
    "key_change_event",
    "prepare_key_init",
    "read_key_change",
]

#: Longest base64 event text the kit reads (an event with 10,000 participants is ~2.6 MB).
MAX_EVENT_CHARS = 16 * 1024 * 1024


@dataclass(frozen=True)
class KeyInit:
    """Everything `prepare_key_init` made. Only `body` goes to the server.

    `conversation_key` is the plaintext key: keep it, never send it.
    """

    conversation_key: bytes
    conversation_key_version: str
    conversation_id: str
    path_id: str
    message_id: str
    participants: tuple[PublicKeys, ...]
    detail: KeyChangeDetail
    encoded_detail: bytes
    signature: bytes
    body: dict[str, Any]

    def __repr__(self) -> str:
        return (
            f"KeyInit(conversation_id={self.conversation_id!r}, conversation_key_version="
            f"{self.conversation_key_version!r}, participants={len(self.participants)}, conversation_key=<hidden>)"
        )


@dataclass(frozen=True)
class KeyChange:
    """A key change read by a recipient; `signer` is the public keys its signature verified with.

    `verified` is False only for a change read with ``allow_departed=True`` whose signer's keys
    are no longer served (a member who left): its key opens old messages, but nothing vouches
    for who made it, so a `kit.Keyring` keeps it for reading and never adopts it as the latest.
    """

    conversation_key: bytes
    conversation_key_version: str
    sender_id: str
    conversation_id: str
    message_id: str
    sequence_id: str
    created_at_msec: str
    signer: PublicKeys | None = field(default=None, repr=False, compare=False)
    verified: bool = True

    def __repr__(self) -> str:
        unverified = "" if self.verified else ", verified=False (signer departed: key only, no signature check)"
        return (
            f"KeyChange(conversation_id={self.conversation_id!r}, conversation_key_version="
            f"{self.conversation_key_version!r}, sender_id={self.sender_id!r}{unverified}, conversation_key=<hidden>)"
        )


def _roster(sender: Identity, participants: Iterable[PublicKeys], verify_bindings: bool) -> list[PublicKeys]:
    best: dict[str, PublicKeys] = {}
    for pk in participants:
        if not isinstance(pk, PublicKeys):
            raise WireFormatError(f"participants must be kit.PublicKeys, got {type(pk).__name__}")
        # A user listed twice keeps the highest key version, as the SDK does.
        seen = best.get(pk.user_id)
        if seen is None or version_key(pk.version) > version_key(seen.version):
            best[pk.user_id] = pk
    mine = sender.public_keys
    if sender.user_id not in best or best[sender.user_id].version != sender.version:
        best[sender.user_id] = mine
    roster = list(best.values())
    for pk in roster:
        if pk is mine:
            continue
        if verify_bindings:
            pk.verify_binding()
    return roster


def prepare_key_init(
    sender: Identity,
    participants: Sequence[PublicKeys],
    conversation_id: str | None = None,
    version: str | None = None,
    *,
    message_id: str | None = None,
    conversation_key: bytes | None = None,
    verify_bindings: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> KeyInit:
    """Build the Initialize (or Rotate) Conversation Keys request.

    `participants` are the public keys to wrap to; the sender is added if missing. A 1:1
    conversation id is derived from exactly two users; pass `conversation_id` for a group
    (``g…``) or to use any spelling of a pair. `version` defaults to a fresh millisecond
    timestamp. Each participant's key binding is checked first (`verify_bindings`).
    `message_id` and `conversation_key` are for repeatable lessons and tests only.
    """
    roster = _roster(sender, participants, verify_bindings)
    if conversation_id is None:
        if len(roster) != 2:
            raise WireFormatError(
                f"cannot derive a conversation id from {len(roster)} users: pass conversation_id (a g… group id)"
            )
        cid = ConversationId.pair(roster[0].user_id, roster[1].user_id)
    else:
        cid = ConversationId.parse(conversation_id, caller=sender.user_id)
    if not cid.is_group:
        strangers = sorted({pk.user_id for pk in roster} - set(cid.members))
        if strangers:
            raise WireFormatError(f"conversation {cid.canonical} is 1:1 but participants include {strangers}")
    key_version = check_version(version, what="conversation key version") if version is not None else new_version()
    key = os.urandom(32) if conversation_key is None else bytes(conversation_key)
    if len(key) != 32:
        raise WireFormatError(f"conversation key must be exactly 32 bytes long, got {len(key)}")
    mid = message_id if message_id is not None else str(uuid.uuid4())

    # The hot loop. Each key is parsed once per PublicKeys object (cached), large rosters are
    # wrapped on every core (kit.wrap), and the per-participant Python work is one tuple entry.
    publics = [pk.identity_key for pk in roster]
    wrapped = wrap_all(
        key, publics, points=lambda a, b: [pk._identity_point for pk in roster[a:b]], progress=progress
    )
    entries = []
    body_keys = []
    add_entry, add_key, b2a = entries.append, body_keys.append, _b2a
    for pk, w in zip(roster, wrapped):
        text = b2a(w, newline=False).decode("ascii")
        user_id, pk_version = pk.user_id, pk.version
        add_entry(ParticipantKey(user_id, text, pk_version))
        add_key({"user_id": user_id, "encrypted_conversation_key": text, "public_key_version": pk_version})
    del wrapped  # the raw bytes are no longer needed: a lower peak for a large roster
    detail = KeyChangeDetail(key_version, tuple(entries))
    encoded = detail.encode()
    payload = _sig.key_change_payload(
        message_id=mid,
        sender_id=sender.user_id,
        conversation_id=cid.canonical,
        conversation_key_version=key_version,
        conversation_key=key,
    )
    signature = sender.sign(payload)
    body = {
        "conversation_key_version": key_version,
        "conversation_participant_keys": body_keys,
        "action_signatures": [
            {
                "message_id": mid,
                "encoded_message_event_detail": b64(encoded),
                "message_event_signature": {
                    "signature": _sig.encode_signature(signature),
                    "public_key_version": sender.version,
                    "signature_version": _sig.SIGNATURE_VERSION,
                },
            }
        ],
    }
    return KeyInit(
        conversation_key=key,
        conversation_key_version=key_version,
        conversation_id=cid.canonical,
        path_id=cid.path,
        message_id=mid,
        participants=tuple(roster),
        detail=detail,
        encoded_detail=encoded,
        signature=signature,
        body=body,
    )


def key_change_event(
    init_body: dict[str, Any], *, sender_id: str, conversation_id: str, sequence_id: str, created_at_msec: str
) -> MessageEvent:
    """The `MessageEvent` a server stores for an init request's first action signature.

    The detail bytes are kept exactly as sent; `conversation_id` must be canonical (``min:max``).
    """
    action = init_body["action_signatures"][0]
    sig = action["message_event_signature"]
    return MessageEvent(
        sequence_id=sequence_id,
        message_id=action["message_id"],
        sender_id=sender_id,
        conversation_id=conversation_id,
        created_at_msec=created_at_msec,
        detail=from_b64(action["encoded_message_event_detail"], what="encoded_message_event_detail"),
        signature=EventSignature(sig["signature"], sig["public_key_version"], sig["signature_version"]),
    )


def find_signing_key(signing_keys: Iterable[PublicKeys], user_id: str, public_key_version: str) -> PublicKeys:
    """The sender's public keys for a signature's `public_key_version`, binding checked."""
    for pk in signing_keys:
        if pk.user_id == user_id and pk.version == public_key_version:
            pk.verify_binding()
            return pk
    raise SignatureError(f"no signing key for user {user_id} at key version {public_key_version}: fetch their public keys")


def read_key_change(
    event_b64: str | bytes,
    *,
    recipient: Identity,
    signing_keys: Iterable[PublicKeys],
    trust: TrustStore | None = None,
    allow_departed: bool = False,
) -> KeyChange:
    """Read a key-change `MessageEvent` as `recipient`: unwrap my key, verify the action signature.

    Raises `WireFormatError` for bytes that are not a key-change event, `KeyNotFoundError`
    when there is no entry for my user id and key version, `DecryptionError` when my entry
    does not open, and `SignatureError` when the sender's signature does not verify.

    A verified signature proves which keys signed, not whose they are. With `trust` (a
    `kit.TrustStore`), keys that differ from the sender's pinned or verified keys raise
    `TrustError`; a sender seen for the first time is pinned (trust on first use).

    `allow_departed=True` is the path for a group key change whose signer has left: when
    `signing_keys` hold no key of the sender at the signature's key version, the key is still
    unwrapped and returned with ``verified=False`` (and no signer) instead of a `SignatureError`.
    A signature that is there to check and fails still raises.
    """
    raw = event_b64 if isinstance(event_b64, (bytes, bytearray)) else from_b64(event_b64, what="key-change event", max_len=MAX_EVENT_CHARS)
    event = read_message_event(bytes(raw), what="key-change event")
    detail = event.read_detail()
    if not isinstance(detail, KeyChangeDetail):
        kind = type(detail).__name__ if not hasattr(detail, "name") else detail.name
        raise WireFormatError(f"event {event.message_id} is not a key change: its detail is {kind}")
    check_version(detail.conversation_key_version, what="conversation_key_version in the event")
    mine = [p for p in detail.participant_keys if p.user_id == recipient.user_id]
    entry = next((p for p in mine if p.public_key_version == recipient.version), None)
    if entry is None:
        have = sorted(p.public_key_version for p in mine)
        raise KeyNotFoundError(
            f"key change {event.message_id} has no entry for user {recipient.user_id} at key version "
            f"{recipient.version}" + (f" (it has versions {have})" if have else " (the user is not a participant)")
        )
    key = recipient.unwrap(entry.encrypted_conversation_key)
    if event.signature is None:
        raise SignatureError(f"key change {event.message_id} carries no message_event_signature")
    # Before v6 a key-change signature covered the list of wrapped keys, a layout nobody can
    # rebuild; the SDK rejects those labels too ("ECDSA mismatch"). Only v6+ sign the plaintext key.
    _sig.check_signature_version(
        event.signature.signature_version, f"key change {event.message_id}", minimum=_sig.KEY_CHANGE_MIN_SIGNATURE_VERSION
    )
    signing_keys = list(signing_keys)
    if allow_departed and not any(
        pk.user_id == event.sender_id and pk.version == event.signature.public_key_version for pk in signing_keys
    ):
        return KeyChange(
            conversation_key=key,
            conversation_key_version=detail.conversation_key_version,
            sender_id=event.sender_id,
            conversation_id=event.conversation_id,
            message_id=event.message_id,
            sequence_id=event.sequence_id,
            created_at_msec=event.created_at_msec,
            signer=None,
            verified=False,
        )
    signer = find_signing_key(signing_keys, event.sender_id, event.signature.public_key_version)
    payload = _sig.key_change_payload(
        message_id=event.message_id,
        sender_id=event.sender_id,
        conversation_id=event.conversation_id,
        conversation_key_version=detail.conversation_key_version,
        conversation_key=key,
    )
    _sig.verify(
        signer.signing_key,
        _sig.decode_signature(event.signature.signature, what="action signature"),
        payload,
        what=f"action signature of key change {event.message_id} by user {event.sender_id}",
    )
    if trust is not None:
        trust.require(signer, what=f"key change {event.message_id} from user {event.sender_id}")
    return KeyChange(
        conversation_key=key,
        conversation_key_version=detail.conversation_key_version,
        sender_id=event.sender_id,
        conversation_id=event.conversation_id,
        message_id=event.message_id,
        sequence_id=event.sequence_id,
        created_at_msec=event.created_at_msec,
        signer=signer,
    )
