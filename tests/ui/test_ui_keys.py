"""kit.ui.keys headless: KeyPanel generates, shows and registers an identity on an in-process sandbox."""

from __future__ import annotations

import kit
from kit import ui
from ui_helpers import ALICE_ID, BOB_ID, assert_no_secrets, plain


def test_key_panel_generate_and_register(sandbox, alice_client, alice_user):
    panel = ui.KeyPanel(alice_client)
    assert panel.user_id.value == ALICE_ID  # taken from the client
    assert panel.register.disabled
    panel.generate.click()
    ident = panel.identity
    assert ident is not None and ident.user_id == ALICE_ID
    assert panel.fingerprint.value == ident.fingerprint
    assert "SPKI 91 bytes" in plain(panel.sizes.value) and "SEC1 65 bytes" in plain(panel.sizes.value)
    assert panel.byte_map.value.count('class="xk-byte"') == 91
    assert panel.byte_map.value.count('data-segment="header"') == 26
    assert plain(panel.result.value) == "not registered yet"
    assert not panel.register.disabled

    panel.register.click()
    assert plain(panel.result.value) == f"registered: key version {ident.version}"
    assert panel.registered_version == ident.version
    stored = sandbox.as_user(alice_user).get_public_keys(ALICE_ID)
    assert [k.version for k in stored] == [ident.version]
    assert stored[0].fingerprint == "" and kit.fingerprint(stored[0].public_key) == panel.fingerprint.value
    assert_no_secrets(panel, ident, extra=(alice_user.access_token,))


def test_key_panel_bad_user_id(alice_client):
    panel = ui.KeyPanel(alice_client, user_id="12ab")
    panel.generate.click()
    assert panel.identity is None
    assert plain(panel.result.value).startswith("WireFormatError: user id must be 1 to 19 decimal digits")
    assert panel.register.disabled


def test_key_panel_register_for_someone_else_shows_the_problem(alice_client, bob_user):
    panel = ui.KeyPanel(alice_client, user_id=BOB_ID)
    panel.generate.click()
    panel.register.click()
    assert plain(panel.result.value) == (
        f"status 403 · type not-authorized-for-resource · user {ALICE_ID} cannot register keys for user {BOB_ID}"
    )
    assert panel.registered_version is None
    assert 'class="xk-error"' in panel.result.value


def test_key_panel_without_client_cannot_register():
    panel = ui.KeyPanel(user_id="42")
    panel.generate.click()
    assert panel.fingerprint.value == panel.identity.fingerprint
    assert panel.register.disabled
    assert "no client" in plain(panel.result.value)
    panel.register.click()  # disabled in the browser; a direct click does nothing
    assert panel.registered_version is None
