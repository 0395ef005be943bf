"""kit.ui.wrap headless: WrapExplorer wraps, flips a byte, unwraps."""

from __future__ import annotations

from kit import ui
from ui_helpers import BOB_ID, assert_no_secrets, plain


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
