"""Deleting messages: a signed plaintext action, not a message.

A delete names sequence ids in a `MessageDeleteEvent` (`kit.thrift.DeleteDetail`) and is
signed as ``MessageDeleteEvent,{message_id},{sender_id},{min:max},{1|2},{sequence_id},...``
(1 delete for self, 2 delete for all). Nothing in it is encrypted and no conversation key
is involved, so anyone holding the sender's public keys (the server too) can check it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kit import signature as _sig
from kit.encoding import b64
from kit.errors import SignatureError, WireFormatError
from kit.ids import ConversationId
from kit.keys import Identity, PublicKeys
from kit.message.verify import parse_event
from kit.protocol import find_signing_key
from kit.thrift import DeleteDetail, MessageEvent

__all__ = ["Deletion", "PreparedDelete", "prepare_delete", "read_delete", "verify_delete"]


@dataclass(frozen=True)
class PreparedDelete:
    """A delete ready to send; `body` is the `DeleteChatMessagesRequest` JSON for `…/messages/delete`."""

    message_id: str
    conversation_id: str
    path_id: str
    sequence_ids: tuple[str, ...]
    delete_for_all: bool
    detail: DeleteDetail
    payload: bytes
    signature: bytes
    body: dict[str, Any]


@dataclass(frozen=True)
class Deletion:
    """A delete event read and verified: who deleted which sequence ids, for whom."""

    sender_id: str
    message_id: str
    conversation_id: str
    sequence_id: str
    created_at_msec: str
    sequence_ids: tuple[str, ...]
    delete_for_all: bool


def _sequence_ids(sequence_ids: Iterable[str]) -> tuple[str, ...]:
    if isinstance(sequence_ids, str):
        raise WireFormatError("sequence_ids must be a list of sequence ids, got one str")
    out = tuple(sequence_ids)
    if not out:
        raise WireFormatError("sequence_ids must name at least one message")
    for seq in out:
        if not isinstance(seq, str) or not (seq.isascii() and seq.isdigit()):
            raise WireFormatError(f"each sequence id must be a string of digits, got {seq!r}")
    return out


def prepare_delete(
    sender: Identity,
    conversation_id: str,
    sequence_ids: Iterable[str],
    delete_for_all: bool = False,
    *,
    message_id: str | None = None,
) -> PreparedDelete:
    """Sign the delete action for `POST /2/chat/conversations/{id}/messages/delete`.

    `delete_for_all=True` removes the messages for every participant (your own messages);
    `False` removes them from your own view only. `message_id` is for repeatable tests only.
    """
    cid = ConversationId.parse(conversation_id, caller=sender.user_id)
    seqs = _sequence_ids(sequence_ids)
    mid = message_id if message_id is not None else str(uuid.uuid4())
    detail = DeleteDetail(seqs, bool(delete_for_all))
    payload = _sig.delete_payload(
        message_id=mid, sender_id=sender.user_id, conversation_id=cid.canonical,
        delete_for_all=detail.delete_for_all, sequence_ids=seqs,
    )  # fmt: skip
    signature = sender.sign(payload)
    body = {
        "sequence_ids": list(seqs),
        "delete_message_action": "delete_for_all" if detail.delete_for_all else "delete_for_self",
        "action_signatures": [
            {
                "message_id": mid,
                "encoded_message_event_detail": b64(detail.encode()),
                "message_event_signature": {
                    "signature": _sig.encode_signature(signature),
                    "public_key_version": sender.version,
                    "signature_version": _sig.SIGNATURE_VERSION,
                },
                "signature_payload": payload.decode("utf-8"),
            }
        ],
    }
    return PreparedDelete(mid, cid.canonical, cid.path, seqs, detail.delete_for_all, detail, payload, signature, body)


def verify_delete(
    signing_key: PublicKeys, *, message_id: str, sender_id: str, conversation_id: str, detail: DeleteDetail,
    signature: str, signature_version: str,
) -> None:
    """Check a delete action's signature; `SignatureError` if it does not verify. The sandbox uses it too."""
    _sig.check_signature_version(signature_version, f"delete {message_id}")
    _sig.verify(
        signing_key.signing_key,
        _sig.decode_signature(signature, what="delete signature"),
        _sig.delete_payload(
            message_id=message_id, sender_id=sender_id, conversation_id=conversation_id,
            delete_for_all=detail.delete_for_all, sequence_ids=detail.sequence_ids,
        ),
        what=f"signature of delete {message_id} by user {sender_id}",
    )  # fmt: skip


def read_delete(event_b64: str | bytes | MessageEvent, *, signing_keys: Iterable[PublicKeys]) -> Deletion:
    """Verify a delete `MessageEvent` with its sender's signing key and say what it deletes."""
    event = event_b64 if isinstance(event_b64, MessageEvent) else parse_event(event_b64, what="delete event")[1]
    detail = event.read_detail()
    if not isinstance(detail, DeleteDetail):
        kind = getattr(detail, "name", type(detail).__name__)
        raise WireFormatError(f"event {event.message_id} is not a delete: its detail is {kind}")
    if event.signature is None:
        raise SignatureError(f"delete {event.message_id} carries no message_event_signature")
    signer = find_signing_key(signing_keys, event.sender_id, event.signature.public_key_version)
    verify_delete(
        signer, message_id=event.message_id, sender_id=event.sender_id, conversation_id=event.conversation_id,
        detail=detail, signature=event.signature.signature, signature_version=event.signature.signature_version,
    )  # fmt: skip
    return Deletion(
        sender_id=event.sender_id,
        message_id=event.message_id,
        conversation_id=event.conversation_id,
        sequence_id=event.sequence_id,
        created_at_msec=event.created_at_msec,
        sequence_ids=detail.sequence_ids,
        delete_for_all=detail.delete_for_all,
    )
