"""kit.tables.bytemap: a ByteMap tiles its bytes and shows them as text, HTML and a picture."""

from __future__ import annotations

import pytest

import kit.tables as T


def test_byte_map_refuses_segments_that_do_not_tile():
    with pytest.raises(ValueError, match="starts at 2, expected 1"):
        T.ByteMap(b"abc", [T.Segment(0, 1, "a"), T.Segment(2, 1, "c")], title="gap")
    with pytest.raises(ValueError, match="cover 2 bytes of 3"):
        T.ByteMap(b"abc", [T.Segment(0, 2, "ab")], title="short")


def test_byte_map_text_html_and_picture(alice):
    bmap = T.spki_map(alice.public_keys.public_key)
    text = repr(bmap)
    assert text.startswith("SPKI public key, 91 bytes")
    assert "30 59 30 13 06 07 2a 86 48 ce 3d 02 01" in text
    html_a = bmap._repr_html_()
    assert html_a == T.spki_map(alice.public_keys.public_key)._repr_html_(), "the same bytes give the same HTML"
    assert "background-color" in html_a and "prime256v1" in html_a
    assert T.spki_map(alice.public_keys.signing_public_key)._repr_html_() != html_a
    fig = bmap.plot()
    assert type(fig).__name__ == "Figure"
