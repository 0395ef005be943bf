"""Messages: check a signed, encrypted message against the conversation's keys and store it."""

from __future__ import annotations

from kit import signature as _sig
from kit.encoding import b64, from_b64
from kit.errors import APIError, KitError
from kit.sandbox.calls import Call, Context, request_digest
from kit.sandbox.conversations import Conversations
from kit.sandbox.events import EventLog
from kit.sandbox.key_changes import is_supported_signature_version
from kit.sandbox.limits import MAX_MESSAGE_BYTES, MAX_MESSAGE_CHARS
from kit.sandbox.public_keys import PublicKeyDirectory
from kit.sandbox.reply import Reply, json_reply
from kit.sandbox.store import StoredEvent
from kit.thrift import MessageEvent, read_event_signature, read_message_create_event

__all__ = ["Messages"]


class Messages:
    """Message events: sendChatMessage."""

    def __init__(
        self, context: Context, public_keys: PublicKeyDirectory, conversations: Conversations, events: EventLog
    ) -> None:
        self.ctx = context
        self.public_keys = public_keys
        self.conversations = conversations
        self.events = events

    def send(self, call: Call) -> Reply:
        """sendChatMessage: store a signed, encrypted message as the conversation's next event."""
        caller = call.caller or ""
        cid = self.conversations.resolve(call.params["id"], caller, must_exist=True)
        body = call.body
        mce_text = body["encoded_message_create_event"]
        if len(mce_text) > MAX_MESSAGE_CHARS:
            raise APIError.of(
                413,
                f"$.encoded_message_create_event is {len(mce_text)} characters of base64; a message may be at most "
                f"{MAX_MESSAGE_BYTES} bytes ({MAX_MESSAGE_CHARS} characters): X messages are 10,000 characters of text",
                parameter="$.encoded_message_create_event",
            )
        try:
            mce_bytes = from_b64(mce_text, what="$.encoded_message_create_event", max_len=MAX_MESSAGE_BYTES)
            mce = read_message_create_event(mce_bytes, what="$.encoded_message_create_event")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter="$.encoded_message_create_event") from None
        if "encoded_message_event_signature" not in body:
            raise APIError.of(
                400,
                "$.encoded_message_event_signature is required: recipients reject unsigned messages",
                parameter="$.encoded_message_event_signature",
            )
        try:
            mes_bytes = from_b64(body["encoded_message_event_signature"], what="$.encoded_message_event_signature", max_len=4096)
            mes = read_event_signature(mes_bytes, what="$.encoded_message_event_signature")
            _sig.decode_signature(mes.signature, what="$.encoded_message_event_signature signature")
        except KitError as exc:
            raise APIError.of(400, str(exc), parameter="$.encoded_message_event_signature") from None
        if not is_supported_signature_version(mes.signature_version):
            raise APIError.of(400, f"$.encoded_message_event_signature signature_version {mes.signature_version!r} is not supported", parameter="$.encoded_message_event_signature")
        if not self.public_keys.has_key(caller, mes.public_key_version):
            raise APIError.of(
                400,
                f"$.encoded_message_event_signature public_key_version {mes.public_key_version!r} is not a registered key version of user {caller}",
                parameter="$.encoded_message_event_signature",
            )
        if not self.ctx.store.read(
            "SELECT 1 FROM events WHERE conversation_id = ? AND kind = 'key_change' AND key_version = ?",
            (cid.canonical, mce.conversation_key_version),
        ):
            raise APIError.of(
                400,
                f"$.encoded_message_create_event uses conversation key version {mce.conversation_key_version!r}, "
                f"which no key change of {cid.path} introduced",
                parameter="$.encoded_message_create_event",
            )
        message_id = body["message_id"]
        digest = request_digest(call)
        now = self.ctx.now_ms()
        with self.ctx.store.transaction() as db:
            stored = self.events.replay(db, cid, message_id, digest, caller)
            if stored is None:
                cur = db.execute(
                    "INSERT INTO events (conversation_id, kind, message_id, sender_id, key_version, request_digest, encoded, created_at) "
                    "VALUES (?, 'message', ?, ?, ?, ?, x'', ?)",
                    (cid.canonical, message_id, caller, mce.conversation_key_version, digest, now),
                )
                seq = int(cur.lastrowid)
                event = MessageEvent(
                    sequence_id=StoredEvent(seq, "", "", "", "", "", "", b"", 0).sequence_id,
                    message_id=message_id,
                    sender_id=caller,
                    conversation_id=cid.canonical,
                    created_at_msec=str(now),
                    detail=b"\x0c\x00\x01" + mce_bytes + b"\x00",
                    signature=mes,
                )
                encoded = event.encode()
                self.events.charge(db, cid, len(encoded))
                db.execute("UPDATE events SET encoded = ? WHERE seq = ?", (encoded, seq))
                stored = StoredEvent(seq, cid.canonical, "message", message_id, caller, mce.conversation_key_version, digest, encoded, now)
        return json_reply(201, {"data": {"encoded_message_event": b64(stored.encoded)}})
