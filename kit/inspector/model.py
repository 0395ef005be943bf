"""What an inspection says: `Inspection` (kind, summary, field rows, notes, nested inspections) and `Field`.

Also the few ways a value is written as text (`hex_pairs`, `preview`, `utc_time`): the inspector, the
tables and the panels write bytes, long text and times the same way, so notebooks compare stably.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DESCRIPTIONS", "KINDS", "Field", "Inspection", "hex_pairs", "preview", "utc_time"]

#: What each kind is, in one line. `KINDS` lists them in this order; "unknown" is last.
DESCRIPTIONS: dict[str, str] = {
    "public-key-spki": "P-256 public key as SPKI DER (the API's form)",
    "public-key-sec1": "P-256 public key as a raw SEC1 point (the SDK's form)",
    "wrapped-conversation-key": "wrapped conversation key (ECIES: ephemeral point, AES-128-GCM ciphertext, tag)",
    "signature": "ECDSA P-256 signature, raw r‖s",
    "private-key-blob": "private key blob (identity scalar ‖ signing scalar): secret",
    "key-change-detail": "MessageEventDetail holding a key change (encoded_message_event_detail)",
    "message-event": "MessageEvent envelope as the server stores and serves it",
    "message-create-event": "MessageCreateEvent (encoded_message_create_event): a sealed message and its key version",
    "message-event-signature": "MessageEventSignature (encoded_message_event_signature)",
    "sealed-message": "sealed message: XSalsa20-Poly1305 nonce, tag, ciphertext",
    "signed-payload": "the text an action or message signature covers",
    "conversation-id": "conversation id",
    "key-version": "key version (decimal digits, usually a millisecond timestamp)",
    "init-request": "body of POST /2/chat/conversations/{id}/keys (Initialize Conversation Keys)",
    "public-keys-registration": "body of POST /2/users/{id}/public_keys (register public keys)",
    "public-keys-response": "answer of GET /2/users/{id}/public_keys or GET /2/users/public_keys",
    "events-response": "answer of GET /2/chat/conversations/{id}/events",
    "send-message-request": "body of POST /2/chat/conversations/{id}/messages",
    "problem": "an RFC 7807 problem (an API error answer)",
    # beyond the list of issue 15
    "message-detail": "MessageEventDetail holding a MessageCreateEvent (the detail of a message event)",
    "event-detail": "MessageEventDetail of another kind (group change, typing, delete, ...)",
    "message-plaintext": "decrypted message plaintext (MessageEntryHolder)",
    "conversation-key": "raw 32-byte conversation key: secret",
    "fingerprint": "public key fingerprint: base64url of SHA-256 over the identity SPKI",
    "keys-response": "answer of POST /2/chat/conversations/{id}/keys",
    "send-message-response": "answer of POST /2/chat/conversations/{id}/messages",
    "sdk-error": "an error message of the official SDK (chatxdk)",
    "group-create-request": "body of POST /2/chat/conversations/group (the key change and the signed GroupCreate)",
    "members-add-request": "body of POST /2/chat/conversations/{id}/members (a new key and the signed member add)",
    "delete-request": "body of POST /2/chat/conversations/{id}/messages/delete (a signed delete)",
    "unknown": "nothing the kit knows fits",
}
#: Every kind an inspection can have.
KINDS: tuple[str, ...] = tuple(DESCRIPTIONS)

_HEX_LIMIT = 16
_PREVIEW = 12
_SHORT_TEXT = 40
_VALUE_WIDTH = 64


def hex_pairs(data: bytes, limit: int | None = _HEX_LIMIT) -> str:
    """Spaced hex pairs; at most `limit` bytes, then an ellipsis."""
    data = bytes(data)
    if limit is not None and len(data) > limit:
        return data[:limit].hex(" ") + " …"
    return data.hex(" ")


def preview(text: str) -> str:
    """Short text as is (quoted); long text as its first characters and its length."""
    if len(text) <= _SHORT_TEXT:
        return repr(text)
    return f"{text[:_PREVIEW]!r}… ({len(text)} chars)"


def utc_time(ms: int | str) -> str:
    """A millisecond timestamp as ``YYYY-MM-DD HH:MM:SS.mmm UTC``."""
    ms = int(ms)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d} UTC"


@dataclass(frozen=True)
class Field:
    """One row of an inspection: where (byte `offset` and `length`, None for JSON and text parts),
    what (`name`), its `value` as text, and a `note` when something about it is worth knowing."""

    offset: int | None
    length: int | None
    name: str
    value: str
    note: str = ""


@dataclass(frozen=True, repr=False)
class Inspection:
    """What `kit.inspect` found: `kind` (one of `KINDS`), a one-line `summary`, the `fields`, the `notes`,
    the other kinds the same bytes could be (`alternatives`) and nested inspections (`inner`).

    `data` holds the decoded bytes the fields' offsets point into (empty for JSON, and for anything
    secret); `encoding` says how the input was written (base64, hex, JSON, ...); `where` names the
    place in the parent (a JSON path or a Thrift field); `decoded` is the kit object read, when any.
    """

    kind: str
    summary: str
    fields: tuple[Field, ...] = ()
    notes: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    inner: tuple[Inspection, ...] = ()
    data: bytes = b""
    encoding: str = ""
    where: str = ""
    secret: bool = False
    decoded: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in DESCRIPTIONS:
            raise ValueError(f"unknown inspection kind {self.kind!r}")

    @property
    def description(self) -> str:
        """What this kind is, in one line."""
        return DESCRIPTIONS[self.kind]

    def walk(self) -> Iterator[Inspection]:
        """This inspection, then every nested one, depth first."""
        yield self
        for sub in self.inner:
            yield from sub.walk()

    def find(self, kind: str) -> Inspection | None:
        """The first inspection of `kind` in this tree (this one included), or None."""
        return next((i for i in self.walk() if i.kind == kind), None)

    def all_notes(self) -> list[str]:
        """The notes of this inspection and of every nested one, each prefixed with where it is."""
        out: list[str] = []
        for i in self.walk():
            out.extend(f"{i.where}: {n}" if i.where and i is not self else n for n in i.notes)
        return out

    def segments(self) -> list[tuple[int, int, str]]:
        """``(offset, length, name)`` of the fields that lay out `data` byte by byte (for byte maps)."""
        if not self.data:
            return []
        out, pos = [], 0
        for f in self.fields:
            if f.offset is None or f.length is None or f.offset != pos or f.length <= 0:
                continue
            out.append((f.offset, f.length, f.name.strip()))
            pos += f.length
        return out if pos == len(self.data) else [(0, len(self.data), self.kind)]

    def rows(self) -> list[tuple[Any, Any, str, str, str]]:
        """The fields as plain tuples: offset, length, name, value, note (what the tables show)."""
        return [(f.offset, f.length, f.name, f.value, f.note) for f in self.fields]

    def text(self, *, inner: bool = True) -> str:
        """The whole inspection as text: summary, field table, notes, and the nested summaries."""
        lines = [self.summary]
        if self.fields:
            cut = [f.value if len(f.value) <= _VALUE_WIDTH else f.value[: _VALUE_WIDTH - 1] + "…" for f in self.fields]
            w_name = max(len("name"), *(len(f.name) for f in self.fields))
            w_value = max(len("value"), *(len(v) for v in cut))
            lines.append(f"  {'offset':>6}  {'length':>6}  {'name':<{w_name}}  {'value':<{w_value}}  note".rstrip())
            for f, value in zip(self.fields, cut):
                off = "" if f.offset is None else str(f.offset)
                length = "" if f.length is None else str(f.length)
                lines.append(f"  {off:>6}  {length:>6}  {f.name:<{w_name}}  {value:<{w_value}}  {f.note}".rstrip())
        if self.notes:
            lines.append("notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        if inner and self.inner:
            lines.append("inside:")
            for sub in self.inner:
                lines.extend("  " + line for line in _nested(sub))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()


def _nested(i: Inspection) -> list[str]:
    head = f"{i.where}: {i.summary}" if i.where else i.summary
    lines = [head]
    lines.extend(f"  - {n}" for n in i.notes)
    for sub in i.inner:
        lines.extend("  " + line for line in _nested(sub))
    return lines
