"""The text an action or message signature covers, inspected part by part: `read_signed_payload` (notebooks 03, 08)."""

from __future__ import annotations

import re

from kit.inspector.context import Context
from kit.inspector.model import Field, Inspection, preview
from kit.inspector.values import conversation_id_notes, version_notes

__all__ = ["PAYLOAD_PREFIXES", "read_signed_payload"]

_PAYLOAD_PARTS = {
    "ConversationKeyChangeEvent": ("message_id", "sender_id", "conversation_id", "conversation_key_version", "conversation_key"),
    "MessageCreateEvent": ("message_id", "sender_id", "conversation_id", "conversation_key_version", "sealed message"),
    "MessageDeleteEvent": ("message_id", "sender_id", "conversation_id", "delete kind"),
}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PAYLOAD_PREFIXES = ("ConversationKeyChangeEvent,", "MessageCreateEvent,", "MessageDeleteEvent,", "GroupChangeEvent.")


def read_signed_payload(text: str, ctx: Context) -> Inspection:
    """The comma-joined text an action or message signature covers, part by part."""
    parts = text.split(",")
    kind = parts[0]
    names = _PAYLOAD_PARTS.get(kind, ())
    fields, notes, pos = [], [], 0
    raw = text.encode("utf-8")
    secret = kind == "ConversationKeyChangeEvent"
    for i, part in enumerate(parts):
        size = len(part.encode("utf-8"))
        name = "event type" if i == 0 else (names[i - 1] if i - 1 < len(names) else f"part {i}")
        shown, note = preview(part), ""
        if name == "message_id" and not _UUID.fullmatch(part):
            note = "the SDK mints a lower-case UUID"
        elif name == "sender_id" and not part.isdigit():
            note = "must be the sender's numeric user id"
        elif name == "conversation_id":
            found = conversation_id_notes(part, canonical=True)
            notes += found
            note = "canonical min:max" if not found else "not canonical"
        elif name == "conversation_key_version":
            notes += version_notes(part, "conversation_key_version")
        elif name == "conversation_key":
            shown = f"(hidden: {len(part)} chars)"
            notes.append("this text holds the plaintext conversation key (its last part): it must never reach the server "
                         "(leave signature_payload empty for key changes); the key is not shown")  # fmt: skip
            note = _b64_part_note(part, 32, "the 32-byte key")
        elif name == "sealed message":
            note = _b64_part_note(part, None, "the whole sealed blob (nonce ‖ tag ‖ ciphertext)")
        fields.append(Field(pos, size, name, shown, note))
        pos += size
        if i < len(parts) - 1:
            fields.append(Field(pos, 1, ",", "','"))
            pos += 1
    if names and len(parts) != len(names) + 1:
        notes.append(f"{kind} signs {len(names) + 1} comma-separated parts, this has {len(parts)} "
                     "(no part may contain ',')")  # fmt: skip
    summary = f"signed text, {len(raw)} bytes: {kind}, {len(parts) - 1} parts" + (
        " (holds the plaintext key: hidden)" if secret else "")  # fmt: skip
    return Inspection("signed-payload", summary, tuple(fields), tuple(notes), data=b"" if secret else raw, secret=secret,
                      encoding="text")  # fmt: skip


def _b64_part_note(part: str, size: int | None, what: str) -> str:
    if part.endswith("="):
        return f"padded: the signed text has {what} in base64 without padding"
    if "-" in part or "_" in part:
        return f"URL-safe: the signed text has {what} in standard base64 ('+', '/')"
    if size is not None and len(part) != -(-size * 4 // 3):
        return f"{len(part)} chars: {what} is {-(-size * 4 // 3)} chars"
    return f"{what}, base64 without padding"
