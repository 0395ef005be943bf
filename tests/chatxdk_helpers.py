"""Helpers for the interop tests: chatxdk (the official SDK, `import chat_xdk`) as an oracle.

chatxdk is used only in tests. This module builds chatxdk instances and the dicts its calls
take, and turns its outputs into `MessageEvent` envelopes with the kit's own Thrift writer
(`kit.thrift.MessageEvent`), which is part of what the interop tests check. `raw_message_event`
is an independent hand-built envelope (the recipe that chatxdk verified, see the spec §3),
used only to cross-check the kit's writer.

Every chatxdk call wants `str` ids and versions and `bytes` (not bytearray) key blobs.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

from chat_xdk import Chat

import kit
from kit import thrift
from kit.keys import SPKI_PREFIX
from kit.protocol import key_change_event

#: Sequence ids at or above this make chatxdk enforce key-change signatures (a bad one is not adopted).
ENFORCED_SEQ = 2070276095283454002
SEQ = ENFORCED_SEQ + 98
CREATED_AT = "1795545957535"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def canonical_pair(a: str, b: str) -> str:
    lo, hi = sorted((a, b), key=int)
    return f"{lo}:{hi}"


# ----------------------------------------------------------------------------- chatxdk users


@dataclass
class SdkUser:
    """A chatxdk instance with generated keys, its user id and its registration payload."""

    user_id: str
    chat: Chat
    reg: Any  # chat_xdk.PublicKeyRegistrationPayload

    @property
    def version(self) -> str:
        return self.reg.version

    @property
    def public_keys(self) -> kit.PublicKeys:
        """The kit's view of this user's registered keys (all straight from the SDK's payload)."""
        p = self.reg.public_key
        return kit.PublicKeys(
            user_id=self.user_id,
            version=self.reg.version,
            public_key=p.public_key,
            signing_public_key=p.signing_public_key,
            identity_public_key_signature=p.identity_public_key_signature,
            signing_public_key_signature=p.signing_public_key_signature,
            fingerprint=p.public_key_fingerprint,
        )

    def export(self) -> bytes:
        return bytes(self.chat.export_keys())

    def as_kit_identity(self) -> kit.Identity:
        """The same private keys loaded into the kit."""
        return kit.Identity.import_keys(self.export(), user_id=self.user_id, version=self.version)


def sdk_user(user_id: str) -> SdkUser:
    """A fresh chatxdk instance with its own new keys (`generate_keypairs`) and identity set."""
    chat = Chat()
    reg = chat.generate_keypairs()
    chat.set_identity(user_id, reg.version)
    return SdkUser(user_id, chat, reg)


def sdk_from_identity(identity: kit.Identity) -> Chat:
    """A fresh chatxdk instance holding a kit identity's private keys, user id and key version."""
    chat = Chat()
    chat.import_keys(identity.export_keys(), version=identity.version)
    chat.set_identity(identity.user_id, identity.version)
    return chat


# ----------------------------------------------------------------------------- the dicts chatxdk takes


def encode_public_key(spki_b64: str, encoding: str) -> str:
    """An SPKI base64 public key re-encoded as 'spki' (unchanged), 'sec1' (65 bytes) or 'compressed' (33)."""
    raw = unb64(spki_b64)
    assert raw[:26] == SPKI_PREFIX and len(raw) == 91
    if encoding == "spki":
        return spki_b64
    point = raw[26:]
    if encoding == "sec1":
        return b64(point)
    if encoding == "compressed":
        return b64(bytes([2 + (point[-1] & 1)]) + point[1:33])
    raise ValueError(encoding)


def wrap_entry(pk: kit.PublicKeys, encoding: str = "spki") -> dict[str, str]:
    """One `public_keys` entry for `prepare_conversation_key_change` (note: 'key_version')."""
    return {"user_id": pk.user_id, "public_key": encode_public_key(pk.public_key, encoding), "key_version": pk.version}


def signing_entry(pk: kit.PublicKeys) -> dict[str, str]:
    """One signing-key entry for `decrypt_events` / `decrypt_event`."""
    return {
        "user_id": pk.user_id,
        "public_key_version": pk.version,
        "public_key": pk.signing_public_key,
        "identity_public_key": pk.public_key,
        "identity_public_key_signature": pk.identity_public_key_signature,
    }


# ----------------------------------------------------------------------------- envelopes (kit's writer)


def kit_key_change_envelope(
    init: kit.KeyInit, sender_id: str, *, seq: int = SEQ, conversation_id: str | None = None
) -> str:
    """The key-change `MessageEvent` for a kit init, built by `kit.protocol.key_change_event`; base64."""
    ev = key_change_event(
        init.body,
        sender_id=sender_id,
        conversation_id=conversation_id or init.conversation_id,
        sequence_id=str(seq),
        created_at_msec=CREATED_AT,
    )
    return b64(ev.encode())


def kit_message_envelope(
    pm: kit.PreparedMessage, sender_id: str, *, seq: int = SEQ + 1, conversation_id: str | None = None
) -> str:
    """The message `MessageEvent` for a kit-prepared message, from its request body; base64."""
    mce = thrift.read_message_create_event(unb64(pm.body["encoded_message_create_event"]))
    sig = thrift.read_event_signature(unb64(pm.body["encoded_message_event_signature"]))
    ev = thrift.MessageEvent(
        sequence_id=str(seq),
        message_id=pm.body["message_id"],
        sender_id=sender_id,
        conversation_id=conversation_id or pm.conversation_id,
        created_at_msec=CREATED_AT,
        detail=mce.encode_detail(),
        signature=sig,
    )
    return b64(ev.encode())


def sdk_key_change_event(
    res: dict[str, Any], sender_id: str, *, seq: int = SEQ, signature: str | None = None
) -> thrift.MessageEvent:
    """The `MessageEvent` a server would store for chatxdk's `prepare_*` output (first action signature)."""
    act = res["action_signatures"][0]
    return thrift.MessageEvent(
        sequence_id=str(seq),
        message_id=act["message_id"],
        sender_id=sender_id,
        conversation_id=res["conversation_id"],
        created_at_msec=CREATED_AT,
        detail=unb64(act["encoded_message_event_detail"]),
        signature=thrift.EventSignature(
            signature if signature is not None else act["signature"],
            act["public_key_version"],
            act["signature_version"],
        ),
    )


def sdk_message_event(sp: Any, sender_id: str, conversation_id: str, *, seq: int = SEQ + 1) -> thrift.MessageEvent:
    """The `MessageEvent` for chatxdk's `encrypt_message` output (a `SendPayload`).

    The detail is the SDK's own `MessageCreateEvent` bytes inside the union's field 1, unchanged.
    """
    return thrift.MessageEvent(
        sequence_id=str(seq),
        message_id=sp.message_id,
        sender_id=sender_id,
        conversation_id=conversation_id,
        created_at_msec=CREATED_AT,
        detail=struct.pack(">bh", 12, 1) + unb64(sp.encrypted_content) + b"\x00",
        signature=thrift.read_event_signature(unb64(sp.encoded_event_signature)),
    )


# ----------------------------------------------------------------------------- an independent envelope writer


def _t_str(fid: int, value: str) -> bytes:
    raw = value.encode("utf-8")
    return struct.pack(">bhi", 11, fid, len(raw)) + raw


def raw_message_event(
    *,
    seq: str,
    message_id: str,
    sender_id: str,
    conversation_id: str,
    created_at_msec: str,
    detail: bytes,
    signature_struct: bytes,
) -> bytes:
    """A `MessageEvent` written by hand (fields 1, 2, 3, 4, 6, 7, 9), independent of kit.thrift."""
    return (
        _t_str(1, seq)
        + _t_str(2, message_id)
        + _t_str(3, sender_id)
        + _t_str(4, conversation_id)
        + _t_str(6, created_at_msec)
        + struct.pack(">bh", 12, 7)
        + detail
        + struct.pack(">bh", 12, 9)
        + signature_struct
        + b"\x00"
    )


def raw_event_signature(signature: str, public_key_version: str, signature_version: str = "7") -> bytes:
    return _t_str(1, signature) + _t_str(2, public_key_version) + _t_str(3, signature_version) + b"\x00"


def flip_signature_bit(signature_b64: str, byte: int = 40) -> str:
    """The same signature text with one bit of the raw ``r‖s`` changed (still 64 bytes, unpadded base64)."""
    raw = bytearray(unb64(signature_b64))
    raw[byte] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii").rstrip("=")
