"""kit.tables.wrap: the wrapped-key map, the wrap steps, the tamper table."""

from __future__ import annotations

import pytest

import kit
import kit.tables as T
from kit.encoding import b64

from .samples import DEMO_KEY, tiles as _tiles


def test_wrapped_key_map_layout(bob):
    wrapped = kit.wrap.wrap(DEMO_KEY, bob.public_keys.public_key)
    table = T.wrapped_key_map(b64(wrapped)).table
    assert list(table["length"]) == [1, 32, 32, 32, 16]
    assert _tiles(table["offset"], table["length"], 113)
    assert table["hex"][0] == "04"
    with pytest.raises(ValueError, match="113 bytes"):
        T.wrapped_key_map(wrapped[:-1])


def test_wrap_steps_table_rows(bob):
    from cryptography.hazmat.primitives.asymmetric import ec

    steps = kit.wrap.wrap_steps(DEMO_KEY, bob.public_keys.public_key, ephemeral=ec.derive_private_key(7, ec.SECP256R1()))
    table = T.wrap_steps_table(steps)
    assert list(table["length"]) == [65, 32, 32, 16, 16, 32, 16, 113]
    assert all(len(h) <= 49 for h in table["hex"]), "at most 16 bytes of hex per cell"


def test_tamper_table_names_the_field_and_the_error(bob):
    wrapped = kit.wrap.wrap(DEMO_KEY, bob.public_keys.public_key)
    table = T.tamper_table(bob, wrapped, [0, 70, 100])
    assert list(table["field"]) == ["04: uncompressed-point prefix", "ciphertext (AES-128-GCM of the conversation key)", "GCM tag"]
    assert table["unwrap"][0].startswith("WireFormatError:")
    assert table["unwrap"][1].startswith("DecryptionError:")
    assert table["unwrap"][2].startswith("DecryptionError:")
