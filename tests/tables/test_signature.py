"""kit.tables.signature: the signature map (and the sealed-message map, its sibling in notebook 05)."""

from __future__ import annotations

import kit
import kit.tables as T

from .samples import DEMO_KEY


def test_signature_and_sealed_message_maps(alice):
    sig = alice.sign(b"payload")
    assert list(T.signature_map(kit.signature.encode_signature(sig)).table["field"]) == ["r", "s"]
    sealed = kit.message.seal_text("hello", DEMO_KEY, nonce=bytes(24))
    table = T.sealed_message_map(sealed).table
    assert list(table["length"]) == [24, 16, len(sealed) - 40]
