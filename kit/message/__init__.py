"""Messages, every kind, from both sides: the modules of this package, in the order they build on each other.

- `cipher`: XSalsa20-Poly1305 sealing under the conversation key;
- `verify`: check a message event's signature, then open it (every kind is signed the same way);
- `reply`: a reply's preview and checking it against the raw original it embeds;
- `read`: `Message` and `read_message`, any kind;
- `prepare`: `prepare_message` (text, entities, quick replies, replies), `prepare_edit`, `prepare_reaction`;
- `delete`: `prepare_delete` and reading a delete: a signed plaintext action, no key involved;
- `batch`: `read_events`, the batch reader (key changes anywhere in the batch, errors by index);
- `fold`: edits, reactions and deletes applied to the messages they point at (what tables and the inbox show).

The plaintext structs themselves are in `kit.content`; the envelopes in `kit.thrift`.
"""

from __future__ import annotations

from kit.message.batch import EventBatch, read_events
from kit.message.cipher import open_content, open_sealed, open_text, seal, seal_text
from kit.message.delete import Deletion, PreparedDelete, prepare_delete, read_delete
from kit.message.fold import Entry, fold
from kit.message.prepare import PreparedMessage, prepare_edit, prepare_message, prepare_reaction
from kit.message.read import KINDS, Message, read_message
from kit.message.reply import ReplyPreview, check_preview

__all__ = [
    "KINDS",
    "Deletion",
    "Entry",
    "EventBatch",
    "Message",
    "PreparedDelete",
    "PreparedMessage",
    "ReplyPreview",
    "check_preview",
    "fold",
    "open_content",
    "open_sealed",
    "open_text",
    "prepare_delete",
    "prepare_edit",
    "prepare_message",
    "prepare_reaction",
    "read_delete",
    "read_events",
    "read_message",
    "seal",
    "seal_text",
]
