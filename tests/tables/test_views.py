"""kit.tables as a whole: importing kit does not load it, and no view shows a private key."""

from __future__ import annotations

import subprocess
import sys

import kit
import kit.tables as T

from .samples import DEMO_KEY, key_change_event_b64 as _event, secret_forms as _secret_forms


def test_import_kit_does_not_load_pandas_or_matplotlib():
    code = "import sys, kit; assert 'pandas' not in sys.modules and 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_view_shows_a_private_key(init, alice, bob):
    views = [
        T.spki_map(alice.public_keys.public_key),
        T.signature_map(init.signature),
        T.thrift_table(init.encoded_detail),
        T.participants_table(init),
        T.request_table(init.body),
        T.public_keys_table([alice.public_keys, bob.public_keys]),
        T.key_changes_table([_event(init, alice.user_id)], recipient=bob, signing_keys=[alice.public_keys]),
    ]
    shown = "".join(repr(v) + (v._repr_html_() or "") for v in views)
    for form in _secret_forms(alice) + _secret_forms(bob):
        assert form not in shown
    assert DEMO_KEY.hex() not in shown


def test_inspection_views():
    import kit
    from kit.tables import inspection_map, inspection_table, notes_table

    alice = kit.Identity.from_seed("alice (demo only)", "1215441834412953600")
    i = kit.inspect(alice.public_keys.public_key.rstrip("="))
    t = inspection_table(i)
    assert list(t.columns) == ["offset", "length", "name", "value", "note"]
    assert t.iloc[0].tolist()[:3] == [0, 26, "DER header"]
    m = inspection_map(i)
    assert m is not None and len(m.data) == 91 and [s.field for s in m.segments] == ["DER header", "04 prefix", "x", "y"]
    assert "without padding" in notes_table(i).iloc[0]["note"]
    assert inspection_map(kit.inspect("{}")) is None
