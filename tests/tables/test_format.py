"""kit.tables.format: a Table shows long text whole."""

from __future__ import annotations

import kit.tables as T


def test_table_shows_long_text_whole():
    text = "x" * 120
    table = T.Table([(text,)], columns=["detail"])
    assert text in repr(table)
    assert text in table._repr_html_()
    assert isinstance(table[table["detail"] == text], T.Table)
