"""kit.ui.app headless: the App runs the whole flow, and no secret reaches the widget state."""

from __future__ import annotations

import base64

import ipywidgets
import pytest

import kit
from kit import ui
from ui_helpers import ALICE_ID, BOB_ID, assert_no_secrets, plain


def test_app_runs_the_whole_flow():
    app = ui.App()
    assert list(app.tabs.titles) == ["1 · keys", "2 · wrap", "3 · init call", "4 · recipient", "5 · trust"]
    seeded = kit.Identity.from_seed("alice (demo only)", ALICE_ID, version="1")
    assert app.key_panel.fingerprint.value == seeded.fingerprint
    assert plain(app.key_panel.result.value) == "registered: key version 1"

    app.key_panel.generate.click()
    app.key_panel.register.click()
    fresh = app.key_panel.identity
    assert app.alice is fresh and app.request_builder.identity is fresh
    assert app.wrap_explorer.identities == [fresh, app.bob]

    app.wrap_explorer.wrap.click()
    app.wrap_explorer.unwrap.click()
    assert plain(app.wrap_explorer.result.value).startswith("opened: conversation key matches")

    app.request_builder.send.click()
    assert plain(app.request_builder.result.value).startswith(f"conversation_id: {ALICE_ID}-{BOB_ID} · sequence_id: ")
    app.request_builder.send_message.click()
    app.inbox.fetch.click()
    assert [r["shows"] for r in app.inbox.rows][1] == "hello from xchat-kit"
    assert all(r["ok"] for r in app.inbox.rows)
    key_change = app.inbox.rows[0]
    assert key_change["kind"] == "key change" and key_change["sender"] == ALICE_ID
    assert [r["trust"] for r in app.inbox.rows] == ["pinned", "pinned"]  # bob pinned alice's fresh keys

    app.tabs.selected_index = 4  # trust: each screen fetched its contact's keys again
    alice_code = plain(app.alice_trust.code.value).removeprefix("comparison code")
    assert alice_code == plain(app.bob_trust.code.value).removeprefix("comparison code")
    assert alice_code == kit.comparison_code(fresh, app.bob)
    assert plain(app.bob_trust.trust_state.value) == f"user {ALICE_ID}: pinned"
    app.bob_trust.heard.value = alice_code
    app.bob_trust.verify.click()
    assert app.trust.check(fresh.public_keys).state == "verified"
    app.inbox.fetch.click()
    assert [r["trust"] for r in app.inbox.rows] == ["verified", "verified"]
    assert_no_secrets(app, seeded, fresh, app.bob, extra=(app.request_builder.init.conversation_key,))


def test_app_has_no_access_token_in_widget_state():
    app = ui.App()
    tokens = [c.http.auth._token for c in (app.alice_client, app.bob_client)]  # private: read only to check
    assert_no_secrets(app, extra=tuple(tokens))


def test_the_secret_check_can_fail(alice):
    leaky = ipywidgets.VBox([ipywidgets.HBox([ipywidgets.Text(value=alice.export_keys()[32:].hex())])])
    with pytest.raises(AssertionError, match="private key"):
        assert_no_secrets(leaky, alice)
    with pytest.raises(AssertionError, match="a secret"):
        assert_no_secrets(ipywidgets.HTML(f"<b>{base64.b64encode(b'k' * 32).decode()}</b>"), extra=(b"k" * 32,))
