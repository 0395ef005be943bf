"""kit.tables.keys: the SPKI map, the public-keys table, a protected key blob (nothing secret)."""

from __future__ import annotations

import kit
import kit.tables as T

from .samples import secret_forms as _secret_forms


def test_spki_map_header_is_the_fixed_prefix(alice):
    bmap = T.spki_map(alice.public_keys.public_key)
    header = sum(s.length for s in bmap.segments[:8])
    assert bmap.data[:header] == kit.keys.SPKI_PREFIX
    assert bmap.data[header:] == kit.keys.sec1(alice.public_keys.identity_key)


def test_public_keys_table_shows_a_broken_binding(alice, bob):
    import dataclasses

    swapped = dataclasses.replace(alice.public_keys, public_key=bob.public_keys.public_key)
    assert T.public_keys_table([swapped])["binding"][0].startswith("SignatureError:")


def test_sealed_key_table_shows_no_secret_or_random_bytes(alice):
    sealed = alice.export_protected("pass phrase")
    table = T.sealed_key_table(sealed)
    assert list(table["length"]) == [5, 4, 4, 16, 24, 16, len(sealed) - 69]
    shown = repr(table) + table._repr_html_()
    assert sealed[13:29].hex() not in shown and sealed[13:29].hex(" ") not in shown
    for form in _secret_forms(alice):
        assert form not in shown
