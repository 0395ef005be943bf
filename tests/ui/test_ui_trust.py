"""kit.ui.trust headless: TrustPanel shows both sides and the code, Verify records a matching code only;
the Inbox shows each signer's trust state and refuses a key change signed with keys that changed."""

from __future__ import annotations

import kit
from kit import ui
from ui_helpers import ALICE_ID, BOB_ID, assert_no_secrets, plain


def test_trust_panel_shows_both_sides_and_verifies(registered, alice_client, bob_client, bob_user):
    alice, bob = registered
    trust = kit.TrustStore()
    panel = ui.TrustPanel(bob_client, bob, ALICE_ID, trust=trust)
    sides = plain(panel.sides.value)
    assert alice.fingerprint in sides and bob.fingerprint in sides
    assert kit.trust.signing_fingerprint(alice.public_keys) in sides
    code = kit.comparison_code(alice, bob)
    assert plain(panel.code.value) == f"comparison code{code}"
    assert plain(panel.trust_state.value) == f"user {ALICE_ID}: new"

    wrong = kit.comparison_code(alice, kit.Identity.from_seed("carol (demo only)", "1843439638876491776"))
    panel.heard.value = wrong
    panel.verify.click()
    assert plain(panel.result.value).startswith(f"TrustError: the comparison code for user {ALICE_ID} does not match")
    assert trust.check(alice.public_keys).state == "new"  # nothing changed

    panel.heard.value = code  # what alice reads out from her own screen
    panel.verify.click()
    assert plain(panel.result.value) == f"verified: the codes match; the keys of user {ALICE_ID} are verified"
    assert "xk-trust-verified" in panel.trust_state.value and trust.check(alice.public_keys).state == "verified"
    assert_no_secrets(panel, alice, bob, extra=(bob_user.access_token,))


def test_trust_panel_sees_a_lying_server_and_can_accept(registered, sandbox, bob_client):
    alice, bob = registered
    trust = kit.TrustStore()
    trust.pin(alice.public_keys)
    mallory = kit.Identity.from_seed("mallory (demo only)", ALICE_ID)
    sandbox.sandbox.lie(swap_keys_of=ALICE_ID, with_keys=mallory.public_keys)
    panel = ui.TrustPanel(bob_client, bob, ALICE_ID, trust=trust)
    assert mallory.fingerprint in plain(panel.sides.value)
    assert kit.comparison_code(alice, bob) not in plain(panel.code.value)  # alice's screen shows another code
    assert "xk-trust-changed" in panel.trust_state.value and not panel.accept.disabled
    panel.accept.click()
    assert plain(panel.trust_state.value) == f"user {ALICE_ID}: pinned" and panel.accept.disabled


def test_trust_panel_without_peer_keys(sandbox, bob_client, bob):
    panel = ui.TrustPanel(bob_client, bob, ALICE_ID)
    assert plain(panel.result.value).startswith("status 404 · type resource-not-found")
    panel.verify.click()  # nothing to verify: no error
    assert panel.peer_keys is None


def test_inbox_shows_signer_trust_and_refuses_changed_keys(registered, alice_client, bob_client):
    alice, bob = registered
    init = kit.prepare_key_init(alice, [bob.public_keys])
    alice_client.add_conversation_keys(init, path_id=BOB_ID)
    trust = kit.TrustStore()
    panel = ui.Inbox(bob_client, bob, trust=trust)
    panel.fetch.click()
    assert [(r["ok"], r["trust"]) for r in panel.rows] == [(True, "pinned")]
    assert "xk-trust-pinned" in panel.table.value

    impostor = kit.Identity.from_seed("impostor (demo only)", ALICE_ID, version="2")  # with alice's token
    alice_client.register_keys(impostor)
    forged = kit.prepare_key_init(impostor, [bob.public_keys], conversation_key=bytes(32))
    alice_client.add_conversation_keys(forged, path_id=BOB_ID)
    panel.fetch.click()
    assert [(r["ok"], r["trust"]) for r in panel.rows] == [(True, "pinned"), (False, "changed")]
    assert panel.rows[1]["shows"].startswith(f"TrustError: key change {forged.message_id} from user {ALICE_ID} refused")
    assert "xk-trust-changed" in panel.table.value
