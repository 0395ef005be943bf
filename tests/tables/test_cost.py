"""kit.tables.cost: the progress bar, wrap_cost and its plot."""

from __future__ import annotations

import io

import pandas as pd
import pytest

import kit.tables as T


def test_progress_bar_ends_its_line_and_shows_no_time():
    out = io.StringIO()
    bar = T.progress_bar("wrapping", width=10, stream=out)
    for done in (256, 512, 600):
        bar(done, 600)
    text = out.getvalue()
    assert text.endswith("\rwrapping [##########] 600/600\n")
    assert text.count("\n") == 1


def test_wrap_cost_and_its_plot(alice):
    members = T.demo_members(12)
    assert len({pk.user_id for pk in members}) == 12
    calls = []
    cost = T.wrap_cost(alice, members, [1, 4, 12], progress=lambda d, t: calls.append((d, t)))
    assert isinstance(cost, pd.DataFrame)
    assert list(cost["participants"]) == [2, 5, 13]
    assert calls == [(1, 17), (5, 17), (17, 17)]
    assert (cost["seconds"] > 0).all()
    assert type(T.plot_wrap_cost(cost)).__name__ == "Figure"
    with pytest.raises(ValueError, match="needs 20 members"):
        T.wrap_cost(alice, members, [20])
