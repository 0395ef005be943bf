"""kit.ui.inspector headless: paste, pick a sample, see kind, byte map, fields, notes; explain an error."""

from __future__ import annotations

import base64

from kit import ui
from kit.inspector.sample_data import load
from kit.ui.inspector import SANDBOX_SAMPLE
from ui_helpers import ALICE_ID, BOB_ID, assert_no_secrets, plain


def test_inspector_shows_a_pasted_key(alice):
    panel = ui.Inspector()
    assert panel.explain_button.disabled
    panel.text.value = alice.public_keys.public_key
    panel.inspect_button.click()
    assert panel.inspection.kind == "public-key-spki"
    assert plain(panel.summary.value).startswith("public-key-spki · SPKI public key (the API's form), 91 bytes")
    assert panel.byte_map.value.count('class="xk-byte"') == 91
    assert panel.byte_map.value.count('data-segment="DER header"') == 26
    assert "fingerprint" in plain(panel.fields.value) and alice.fingerprint in panel.fields.value
    assert panel.part.layout.display == "none"
    assert_no_secrets(panel, alice)


def test_inspector_samples_cover_docs_sdk_errors_and_the_sandbox(alice, bob):
    panel = ui.Inspector()
    labels = [label for label, _ in panel.sample.options]
    assert SANDBOX_SAMPLE in labels
    assert any(label.startswith("X docs: the API reference's sample request") for label in labels)
    assert any(label.startswith("chatxdk error:") for label in labels)

    panel.sample.value = next(label for label in labels if label.startswith("X docs"))
    assert panel.inspection.kind == "init-request"
    assert "15 values are the placeholder '<string>'" in plain(panel.notes.value)

    panel.sample.value = next(label for label in labels if "signature mismatch" in label)
    assert panel.inspection.kind == "sdk-error" and not panel.explain_button.disabled
    panel.explain_button.click()
    text = plain(panel.explanation.value)
    assert text.startswith("cause: the signature does not match the text the verifier rebuilt")
    assert "see: 03-signing-and-describing.ipynb § The v7 payload" in text

    panel.sample.value = SANDBOX_SAMPLE  # made on the spot, read with bob's demo keys
    i = panel.inspection
    assert i.kind == "events-response" and "1 message(s) opened" in i.summary
    assert "signature verified and opened: 'hello from the sandbox'" in plain(panel.notes.value)
    assert len(panel.part.options) > 3 and panel.part.layout.display == "flex"
    event = next(n for n, (label, _) in enumerate(panel.part.options) if label.endswith(": message-event"))
    panel.part.value = event
    assert panel.byte_map.value.count('class="xk-byte"') > 300
    assert "sequence_id" in plain(panel.fields.value)
    assert_no_secrets(panel, alice, bob)


def test_inspector_explains_a_problem_and_hides_a_private_key(alice):
    panel = ui.Inspector()
    panel.show('{"type": "https://api.x.com/2/problems/invalid-request", "title": "Invalid Request", "status": 400, '
               f'"detail": "path parameter id: \'{ALICE_ID}:{BOB_ID}\' does not match"}}')  # fmt: skip
    assert panel.inspection.kind == "problem"
    panel.explain_button.click()
    assert "see: 04-the-init-call.ipynb § Which id goes where" in plain(panel.explanation.value)

    blob = alice.export_keys()
    for text in (base64.b64encode(blob).decode(), blob.hex()):
        panel.show(text)
        assert panel.inspection.secret
        assert plain(panel.byte_map.value) == "a secret: no byte of it is shown"
        assert "nothing of it is shown" in plain(panel.notes.value)
        panel.text.value = ""  # what the learner pasted is theirs; the panel's own output must not echo it
        assert_no_secrets(panel, alice)
    assert load("chatxdk")["errors"]


def test_inspector_never_raises_into_the_front_end():
    panel = ui.Inspector()
    for text in ("", "{", "[" * 100_000, "\x00\xff", "g1", "ConversationKeyChangeEvent,", "AAAA" * 1000):
        panel.show(text)
        assert panel.inspection is not None
