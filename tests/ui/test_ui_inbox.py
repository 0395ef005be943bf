"""kit.ui.inbox headless: Inbox reads, as the recipient, what alice sent on an in-process sandbox."""

from __future__ import annotations

import kit
from kit import ui
from ui_helpers import ALICE_ID, BOB_ID, assert_no_secrets, plain


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
    assert [r["kind"] for r in panel.rows] == ["key change", "text"]
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


def test_inbox_shows_kinds_quotes_and_folds(registered, alice_client, bob_client):
    alice, bob = registered
    init = kit.prepare_key_init(alice, [bob.public_keys])
    alice_client.add_conversation_keys(init, path_id=bob.user_id)
    kw = {"conversation_key": init.conversation_key, "conversation_key_version": init.conversation_key_version}
    first = alice_client.send_message(kit.prepare_message(alice, bob.user_id, "lunch at noon?", **kw))
    alice_client.send_message(kit.prepare_reaction(alice, first, "🎉", **kw))
    bob_client.send_message(kit.prepare_message(bob, alice.user_id, "yes", reply_to=first, **kw))
    bob_client.send_message(kit.prepare_message(bob, alice.user_id, "ok", reply_to=first, quote="lunch is on me", **kw))
    alice_client.send_message(kit.prepare_edit(alice, first, "lunch at one?", **kw))
    gone = alice_client.send_message(kit.prepare_message(alice, bob.user_id, "oops", **kw))
    seq = kit.thrift.read_message_event(kit.encoding.from_b64(gone, what="event")).sequence_id
    alice_client.delete_messages(kit.prepare_delete(alice, bob.user_id, [seq], delete_for_all=True))
    panel = ui.Inbox(bob_client, bob)
    panel.fetch.click()
    assert [r["kind"] for r in panel.rows] == ["key change", "text", "reply", "reply", "delete"]
    text, valid, forged, delete = panel.rows[1:]
    assert text["shows"] == "lunch at one?" and text["reactions"] == "🎉 1" and "edited" in text["notes"]
    assert valid["quote"] == "valid" and forged["quote"] == "invalid" and forged["quoted"] == "lunch is on me"
    assert delete["shows"] == f"signed delete for all of {seq}" and all(r["ok"] for r in panel.rows)
    page = panel.table.value
    assert page.count("xk-forged") == 1 and "FORGED QUOTE" in page and "color:#b91c1c'>↩ &#x27;lunch is on me&#x27;" in page
