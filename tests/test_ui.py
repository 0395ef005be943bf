"""kit.ui headless: build each panel on an in-process sandbox, set values, click, look at widgets and kit state."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from pathlib import Path

import ipywidgets
import pytest

import kit
from kit import ui

ALICE_ID = "1215441834412953600"
BOB_ID = "1603419180975409153"


# ------------------------------------------------------------------------------ fixtures and helpers


@pytest.fixture
def sandbox() -> kit.Client:
    return kit.connect(quiet=True)


@pytest.fixture
def alice_user(sandbox):
    return sandbox.create_sandbox_user("alice", user_id=ALICE_ID)


@pytest.fixture
def bob_user(sandbox):
    return sandbox.create_sandbox_user("bob", user_id=BOB_ID)


@pytest.fixture
def alice_client(sandbox, alice_user):
    return sandbox.as_user(alice_user)


@pytest.fixture
def bob_client(sandbox, bob_user):
    return sandbox.as_user(bob_user)


@pytest.fixture
def registered(alice, bob, alice_client, bob_client):
    """alice and bob (seeded demo identities from conftest) with their keys registered."""
    alice_client.register_keys(alice)
    bob_client.register_keys(bob)
    return alice, bob


def tree(widget) -> Iterator:
    yield widget
    for child in getattr(widget, "children", ()) or ():
        yield from tree(child)


def front_end_text(panel) -> str:
    """Everything the panel's widgets sync to the browser (values, descriptions, options, titles)."""
    return "\n".join(json.dumps(w.get_state(), default=repr) for w in tree(panel))


def secret_forms(*secrets: bytes | str) -> list[str]:
    forms: list[str] = []
    for s in secrets:
        if isinstance(s, str):
            forms.append(s)
            continue
        forms += [s.hex(), s.hex().upper(), base64.b64encode(s).decode(), base64.b64encode(s).decode().rstrip("=")]
        forms += [base64.urlsafe_b64encode(s).decode().rstrip("=")]
    return forms


def private_forms(identity: kit.Identity) -> list[str]:
    blob = identity.export_keys()
    return secret_forms(blob, blob[:32], blob[32:])


def assert_no_secrets(panel, *identities: kit.Identity, extra: tuple[bytes | str, ...] = ()) -> None:
    text = front_end_text(panel)
    for identity in identities:
        for form in private_forms(identity):
            assert form not in text, f"a private key of user {identity.user_id} reached the widget state"
    for form in secret_forms(*extra):
        assert form not in text, "a secret reached the widget state"


def plain(html_value: str) -> str:
    """The text a widget HTML value shows."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_value))


# ------------------------------------------------------------------------------ the module


def test_only_ui_imports_ipywidgets():
    root = Path(kit.__file__).parent
    importers = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if re.search(r"^\s*(import|from) ipywidgets", p.read_text(), re.M)
    )
    assert importers and {Path(p).parts[0] for p in importers} == {"ui"}  # the kit.ui package


def test_byte_map_marks_segments_and_flips():
    out = ui.byte_map(bytes(range(10)), [("header", 2), ("point", 8)], flipped=[3], selected=4)
    assert out.count('class="xk-byte"') == 10
    assert out.count('data-segment="header"') == 2 and out.count('data-segment="point"') == 8
    assert "line-through" in out and "outline" in out
    assert "header: bytes 0–1 (2)" in out


def test_problem_text_reads_as_one_line():
    err = kit.APIError.of(409, "version 5 is not newer than 7")
    assert ui.problem_text(err) == "status 409 · type invalid-request · version 5 is not newer than 7"
    assert ui.problem_text(kit.DecryptionError("nope")) == "DecryptionError: nope"


# ------------------------------------------------------------------------------ KeyPanel


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


# ------------------------------------------------------------------------------ WrapExplorer


def test_wrap_explorer_wrap_flip_unwrap(alice, bob):
    panel = ui.WrapExplorer([alice, bob])
    assert [label for label, _ in panel.participant.options][1].startswith(f"user {BOB_ID}")
    assert panel.flip.disabled and panel.unwrap.disabled
    panel.participant.value = 1
    panel.wrap.click()
    assert len(panel.wrapped) == 113
    html_map = panel.byte_map.value
    assert html_map.count('class="xk-byte"') == 113
    for segment, n in (("ephemeral point", 65), ("ciphertext", 32), ("tag", 16)):
        assert html_map.count(f'data-segment="{segment}"') == n
    assert panel.wrapped.hex()[:2] == "04"  # uncompressed ephemeral point

    panel.unwrap.click()
    assert plain(panel.result.value) == f"opened: conversation key matches (as user {BOB_ID})"

    panel.byte.value = 100  # in the tag
    panel.flip.click()
    assert panel.flipped == {100}
    assert "line-through" in panel.byte_map.value
    panel.unwrap.click()
    assert plain(panel.result.value).startswith("DecryptionError: wrapped conversation key does not open")

    panel.flip.click()  # flip it back: the original bytes open again
    assert panel.flipped == set()
    panel.unwrap.click()
    assert plain(panel.result.value).startswith("opened: conversation key matches")

    panel.participant.value = 0  # alice's key cannot open what was wrapped to bob
    panel.unwrap.click()
    assert plain(panel.result.value).startswith("DecryptionError:")
    assert_no_secrets(panel, alice, bob, extra=(panel.conversation_key,))


def test_wrap_explorer_flip_in_the_point_is_refused(bob):
    panel = ui.WrapExplorer([bob])
    panel.wrap.click()
    panel.byte.value = 0  # the 04 prefix: no longer an uncompressed point
    panel.flip.click()
    panel.unwrap.click()
    assert plain(panel.result.value).startswith("WireFormatError:")


def test_wrap_explorer_set_identities(alice, bob, carol):
    panel = ui.WrapExplorer([alice])
    panel.set_identities([bob, carol])
    assert len(panel.participant.options) == 2 and panel.participant.value == 0
    assert "key version 7" in panel.participant.options[1][0]


# ------------------------------------------------------------------------------ RequestBuilder


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


# ------------------------------------------------------------------------------ Inbox


def _alice_starts(alice, bob, alice_client, text="hello bob <b>"):
    init = kit.prepare_key_init(alice, [bob.public_keys])
    alice_client.add_conversation_keys(init, path_id=bob.user_id)
    msg = kit.prepare_message(
        alice,
        init.conversation_id,
        text,
        conversation_key=init.conversation_key,
        conversation_key_version=init.conversation_key_version,
    )
    alice_client.send_message(msg)
    return init


def test_inbox_reads_what_alice_sent(registered, alice_client, bob_client, bob_user):
    alice, bob = registered
    panel = ui.Inbox(bob_client, bob)
    panel.fetch.click()
    assert panel.rows == [] and "no events yet" in plain(panel.table.value)

    init = _alice_starts(alice, bob, alice_client)
    panel.fetch.click()
    assert [r["kind"] for r in panel.rows] == ["key change", "message"]
    assert all(r["ok"] and r["sender"] == ALICE_ID for r in panel.rows)
    assert panel.rows[0]["shows"] == (
        f"signature verified; conversation key version {init.conversation_key_version} unwrapped"
    )
    assert panel.rows[1]["shows"] == "hello bob <b>"
    assert "hello bob &lt;b&gt;" in panel.table.value  # message text is escaped, never rendered as HTML
    assert plain(panel.status.value) == f"2 events in 1 conversation, read as user {BOB_ID} (key version 1)"
    assert_no_secrets(panel, alice, bob, extra=(init.conversation_key, bob_user.access_token))


def test_inbox_errors_show_per_row(registered, alice_client, bob_client):
    alice, bob = registered
    _alice_starts(alice, bob, alice_client)
    rotated = kit.Identity.from_seed("bob again (demo only)", BOB_ID, version="2")  # no entry for this key version
    panel = ui.Inbox(bob_client, rotated)
    panel.fetch.click()
    assert [r["ok"] for r in panel.rows] == [False, False]
    assert panel.rows[0]["shows"].startswith("KeyNotFoundError: key change ")
    assert "at key version 2 (it has versions ['1'])" in panel.rows[0]["shows"]
    assert panel.rows[1]["shows"].startswith("KeyNotFoundError: message ")
    assert panel.table.value.count("class='xk-shows' style='padding:2px 8px;color:#b91c1c'") == 2


def test_inbox_problem_is_shown(sandbox, bob):
    stranger = kit.connect(quiet=True)  # no token: the sandbox answers 401
    panel = ui.Inbox(stranger, bob)
    panel.fetch.click()
    assert plain(panel.status.value).startswith("status 401 · type ")


# ------------------------------------------------------------------------------ App


def test_app_runs_the_whole_flow():
    app = ui.App()
    assert list(app.tabs.titles) == ["1 · keys", "2 · wrap", "3 · init call", "4 · recipient"]
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
