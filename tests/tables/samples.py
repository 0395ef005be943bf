"""Fixed demo values and small readers shared by the kit.tables tests (demo only: nothing here is secret)."""

from __future__ import annotations

import base64

import kit
from kit.encoding import b64
from kit.protocol import key_change_event

__all__ = ["DEMO_KEY", "DEMO_MID", "DEMO_VERSION", "key_change_event_b64", "secret_forms", "tiles"]

DEMO_KEY = bytes(range(32))
DEMO_MID = "5b0b8f0e-8c1f-4d7e-9a51-3f5c2b9d7e10"
DEMO_VERSION = "1795545957535"


def key_change_event_b64(init: kit.KeyInit, sender: str, seq: str = "2070276095283454101") -> str:
    """The key-change `MessageEvent` the server would relay for `init`, as base64."""
    event = key_change_event(
        init.body, sender_id=sender, conversation_id=init.conversation_id, sequence_id=seq, created_at_msec="1795545957535"
    )
    return b64(event.encode())


def tiles(offsets, lengths, total: int) -> bool:
    """Whether runs at `offsets` with `lengths` cover 0..total exactly, in order."""
    pos = 0
    for offset, length in zip(offsets, lengths):
        if offset != pos:
            return False
        pos += length
    return pos == total


def secret_forms(identity: kit.Identity) -> list[str]:
    """Every form a view could show `identity`'s private scalars in: hex, spaced hex, base64."""
    blob = identity.export_keys()
    forms = []
    for part in (blob[:32], blob[32:]):
        forms += [part.hex(), part.hex(" "), base64.b64encode(part).decode().rstrip("=")]
    return forms
