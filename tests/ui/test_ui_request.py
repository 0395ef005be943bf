"""kit.ui.request headless: RequestBuilder builds and sends the init call and the first message."""

from __future__ import annotations

import html
import json
import re

import pytest

import kit
from kit import ui
from ui_helpers import ALICE_ID, BOB_ID, assert_no_secrets, plain


def test_request_builder_build_shows_the_body(registered, alice_client):
    alice, bob = registered
    panel = ui.RequestBuilder(alice_client, alice, bob.public_keys)
    assert panel.version.value.isdigit()
    panel.version.value = "1795545957000"
    panel.build.click()
    shown = json.loads(html.unescape(re.search(r"<pre[^>]*>(.*)</pre>", panel.body.value, re.S).group(1)))
    assert shown == panel.init.body
    assert shown["conversation_key_version"] == "1795545957000"
    assert plain(panel.url.value) == f"POST /2/chat/conversations/{BOB_ID}/keys"
    panel.path_form.value = "reversed"
    assert plain(panel.url.value) == f"POST /2/chat/conversations/{BOB_ID}-{ALICE_ID}/keys"
    assert_no_secrets(panel, alice, bob, extra=(panel.init.conversation_key,))


@pytest.mark.parametrize("form", ["bare", "pair", "reversed"])
def test_request_builder_send_reaches_the_recipient(registered, alice_client, bob_client, alice_user, form):
    alice, bob = registered
    panel = ui.RequestBuilder(alice_client, alice, bob_client.latest_public_keys(BOB_ID))
    panel.path_form.value = form
    panel.send.click()  # builds first when nothing was built
    assert panel.problem is None
    assert plain(panel.result.value) == (
        f"conversation_id: {ALICE_ID}-{BOB_ID} · sequence_id: {panel.response.sequence_id}"
    )
    page = bob_client.get_events(f"{ALICE_ID}-{BOB_ID}")
    assert len(page.key_changes) == 1
    change = kit.read_key_change(page.key_changes[0], recipient=bob, signing_keys=[alice.public_keys])
    assert change.conversation_key == panel.init.conversation_key
    assert change.sequence_id == panel.response.sequence_id
    assert_no_secrets(panel, alice, bob, extra=(panel.init.conversation_key, alice_user.access_token))


def test_request_builder_shows_problems(registered, alice_client):
    alice, bob = registered
    panel = ui.RequestBuilder(alice_client, alice, bob.public_keys)
    panel.send.click()
    first = panel.response.sequence_id
    panel.build.click()  # a new request with the same conversation key version
    panel.send.click()
    assert panel.response is None and panel.problem is not None
    text = plain(panel.result.value)
    assert text.startswith("status 409 · type ") and panel.problem.status == 409
    assert first

    panel.version.value = "seven"
    panel.build.click()
    assert plain(panel.result.value) == (
        "WireFormatError: conversation key version must be a string of decimal digits, got 'seven'"
    )
    assert panel.body.value == ""


def test_request_builder_unregistered_sender(alice, bob, alice_client, bob_client):
    bob_client.register_keys(bob)  # alice never registered
    panel = ui.RequestBuilder(alice_client, alice, bob.public_keys)
    panel.send.click()
    assert plain(panel.result.value).startswith("status 400 · type invalid-request")
    assert panel.send_message.disabled


def test_request_builder_first_message(registered, alice_client, bob_client):
    alice, bob = registered
    panel = ui.RequestBuilder(alice_client, alice, bob.public_keys)
    assert panel.send_message.disabled
    panel.send.click()
    assert not panel.send_message.disabled
    panel.message.value = "hi bob <3"
    panel.send_message.click()
    assert plain(panel.message_result.value).startswith("message sent: sequence_id ")
    assert len(bob_client.get_events(f"{ALICE_ID}-{BOB_ID}").messages) == 1
