"""A pytest plugin for the nbval row: how long each notebook takes, inside one pytest run.

    python -m pytest --nbval ... -p benchmarks.nbval_timer a.ipynb b.ipynb

For each notebook file it adds up the time of its items (setup + call + teardown, so the
kernel start in the first cell's setup and the shutdown in the last cell's teardown are
counted) and whether any cell failed, and writes ``{path: {"seconds", "cells", "failed"}}`` as
JSON to the file named by the environment variable BENCH_NBVAL_TIMES at the end of the run.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

_times: dict[str, dict[str, Any]] = {}


def _entry(item: pytest.Item) -> dict[str, Any]:
    return _times.setdefault(str(item.path), {"seconds": 0.0, "cells": 0, "failed": False})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    t0 = time.perf_counter()
    yield
    entry = _entry(item)
    entry["seconds"] += time.perf_counter() - t0
    entry["cells"] += 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    if outcome.get_result().failed:
        _entry(item)["failed"] = True


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("BENCH_NBVAL_TIMES")
    if target:
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(_times, fh)
