"""Action signatures: the signed payload split at its commas and the r‖s byte map; notebook 03."""

from __future__ import annotations

from kit import signature as _sig
from kit.tables.bytemap import ByteMap, segments_of
from kit.tables.format import Table, preview

__all__ = ["payload_table", "signature_map"]


def payload_table(payload: bytes) -> Table:
    """A signed payload split at its commas: each part, where it starts, how long it is."""
    text = bytes(payload).decode("utf-8")
    kind = text.split(",", 1)[0]
    names = {
        "ConversationKeyChangeEvent": ["event type", "message_id", "sender_id", "conversation_id (canonical)",
                                       "conversation_key_version", "conversation key (base64, no padding)"],
        "MessageCreateEvent": ["event type", "message_id", "sender_id", "conversation_id (canonical)",
                               "conversation_key_version", "sealed message (base64, no padding)"],
    }.get(kind, [])  # fmt: skip
    rows, pos = [], 0
    for i, part in enumerate(text.split(",")):
        name = names[i] if i < len(names) else f"part {i}"
        rows.append((pos, len(part.encode("utf-8")), name, preview(part)))
        pos += len(part.encode("utf-8")) + 1
    return Table(rows, columns=["offset", "length", "part", "text"])


def signature_map(signature: bytes | str) -> ByteMap:
    """A raw ECDSA signature: ``r ‖ s``, 32 bytes each (base64 text is accepted)."""
    raw = _sig.decode_signature(signature) if isinstance(signature, str) else bytes(signature)
    if len(raw) != 64:
        raise ValueError(f"a raw P-256 signature is 64 bytes (r‖s), got {len(raw)}")
    return ByteMap(raw, segments_of([(32, "r"), (32, "s")]), title="signature r‖s")
