"""The benchmark module runs (tiny sizes) and produces every row and every ratio; and the fast
paths it measures give the same results as the plain ones.

No timing is asserted here: the goals are checked by `make bench` itself (PASS/FAIL lines),
because a unit test on a shared machine cannot tell a slow kit from a busy neighbour.
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import warnings
from pathlib import Path

import pytest

import kit
import kit.wrap as kwrap
import kit.wrap.workers as kworkers
from kit.errors import SignatureError
from kit.keys import sec1

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `pytest` without `python -m`: the repo root holds benchmarks/
    sys.path.insert(0, str(REPO))

pytest.importorskip("chat_xdk")

from benchmarks import GROUPS, Config, evaluate_goals, run  # noqa: E402
from benchmarks import cases  # noqa: E402

#: Every row a tiny run makes (Config.tiny: sizes 1, 2, 10; crossover 64, 128; no notebooks folder).
TINY_ROWS = {
    "keygen",
    "init_1",
    "init_2",
    "init_10",
    "init_cold",
    "crossover_64",
    "crossover_128",
    "unwrap",
    "sign",
    "verify",
    "read_key_change",
    "read_key_change_cold",
    "catchup",
    "sandbox_inprocess",
    "loopback_rps",
    "loopback_p50",
    "loopback_p99",
    "room_rps",
    "room_p50",
    "room_p99",
    "import",
    "memory",
    "nbval",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    saved = (kworkers.PARALLEL_MIN, kworkers.WORKERS)
    payload = run(Config.tiny(), out)
    assert (kworkers.PARALLEL_MIN, kworkers.WORKERS) == saved  # the run leaves the kit as it found it
    return payload, out


@pytest.mark.timeout(600)
def test_tiny_run_has_every_row_and_ratio(tiny):
    payload, _ = tiny
    rows = {r["id"]: r for r in payload["rows"]}
    assert set(rows) == TINY_ROWS
    errors = {k: r["status"] for k, r in rows.items() if r["status"].startswith("error")}
    assert errors == {}
    for row_id, r in rows.items():
        if row_id == "nbval":
            assert r["status"].startswith("absent"), r["status"]  # no notebooks folder in the tiny run
            continue
        assert r["status"] == "ok"
        assert r["ratios"], f"{row_id} has no ratio"
        for name, value in r["ratios"].items():
            assert isinstance(value, float) and math.isfinite(value) and value > 0, (row_id, name, value)
        assert "kit" in r["values"] or row_id.startswith("crossover"), row_id
    for row_id in ("keygen", "init_1", "init_2", "init_10", "unwrap", "sign", "verify", "read_key_change", "catchup"):
        assert "chatxdk / kit" in rows[row_id]["ratios"], row_id
    for row_id in ("init_1", "init_2", "init_10"):
        assert "kit / floor" in rows[row_id]["ratios"]
    assert "kit / one ECDH" in rows["unwrap"]["ratios"]
    assert "kit / (echo + validation)" in rows["sandbox_inprocess"]["ratios"]
    assert "kit / bare echo" in rows["loopback_rps"]["ratios"]
    assert "kit / bare echo" in rows["room_p99"]["ratios"] and rows["room_rps"]["extra"]["learners"] == 4
    assert rows["memory"]["extra"]["kit"]["output_bytes"] > 0


def test_tiny_run_writes_json_and_plot(tiny):
    payload, out = tiny
    data = json.loads((out / "results.json").read_text())
    assert [r["id"] for r in data["rows"]] == [r["id"] for r in payload["rows"]]
    assert data["machine"]["usable_cores"] >= 1 and data["machine"]["chatxdk"]
    assert (out / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_goal_is_measured(tiny):
    payload, _ = tiny
    goals = payload["goals"]
    assert len(goals) == 10
    for g in goals:
        assert g["measured"] is not None, g["name"]
        assert g["passed"] in (True, False)


def test_goals_without_rows_are_not_applicable():
    assert all(g.passed is None for g in evaluate_goals([]))


def test_nbval_row_reports_missing_notebooks(tmp_path):
    (rows,) = [cases.rows_nbval(Config.tiny(notebooks=tmp_path))]
    assert len(rows) == 1 and rows[0].status.startswith("absent: no *.ipynb")
    assert cases.rows_nbval(Config.tiny(notebooks=None))[0].status == "absent: no notebooks folder"


def test_cli_rejects_unknown_group():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit):
        main(["--only", "nope"])
    assert "init" in GROUPS


# ----------------------------------------------------------------------------- the fast paths


KEY = bytes(range(32))


@pytest.fixture(scope="module")
def roster() -> list[kit.Identity]:
    return [kit.Identity.from_seed(f"bench {i}", str(5000 + i)) for i in range(150)]


@pytest.fixture
def force_parallel():
    saved = (kworkers.PARALLEL_MIN, kworkers.WORKERS)
    kworkers.PARALLEL_MIN, kworkers.WORKERS = 0, 1
    yield
    kworkers.PARALLEL_MIN, kworkers.WORKERS = saved


def test_parallel_wrap_is_ordered_and_opens(roster, force_parallel):
    publics = [r.public_keys.identity_key for r in roster]
    calls: list[tuple[int, int]] = []
    out = kwrap.wrap_all(KEY, publics, progress=lambda i, n: calls.append((i, n)))
    assert len(out) == len(roster)
    for identity, wrapped in zip(roster, out):
        assert len(wrapped) == kwrap.WRAPPED_KEY_SIZE
        assert identity.unwrap(wrapped) == KEY
    assert calls == [(150, 150)]
    calls.clear()
    kwrap.wrap_all(KEY, publics * 4, progress=lambda i, n: calls.append((i, n)))
    assert calls == [(256, 600), (512, 600), (600, 600)]  # the calls one core makes


def test_parallel_init_matches_serial_shape(roster, force_parallel):
    alice = roster[0]
    init = kit.prepare_key_init(alice, [r.public_keys for r in roster[1:]], "g7")
    users = [e["user_id"] for e in init.body["conversation_participant_keys"]]
    assert users == [r.user_id for r in roster[1:]] + [alice.user_id]
    for identity, entry in zip([*roster[1:], alice], init.body["conversation_participant_keys"]):
        assert identity.unwrap(entry["encrypted_conversation_key"]) == init.conversation_key
    kworkers.WORKERS = 0
    serial = kit.prepare_key_init(alice, [r.public_keys for r in roster[1:]], "g7")
    assert [e["user_id"] for e in serial.body["conversation_participant_keys"]] == users


def test_broken_helper_falls_back_to_one_core(roster, force_parallel, monkeypatch):
    helper = kworkers.Helper()

    def fail(self: kworkers.Helper) -> None:
        raise OSError("no processes here")

    monkeypatch.setattr(kworkers.Helper, "start", fail)
    monkeypatch.setattr(kworkers, "helpers", [helper])
    out = kwrap.wrap_all(KEY, [r.public_keys.identity_key for r in roster[:80]])
    assert [r.unwrap(w) for r, w in zip(roster, out)] == [KEY] * 80
    assert helper.broken


def test_identity_point_is_the_sec1_point(roster):
    pk = roster[3].public_keys
    fresh = kit.PublicKeys(**{f.name: getattr(pk, f.name) for f in dataclasses.fields(pk)})
    assert fresh._identity_point == sec1(fresh.identity_key) and len(fresh._identity_point) == 65


def test_binding_success_is_remembered_failure_is_not(roster):
    a, b = roster[1].public_keys, roster[2].public_keys
    fresh = dataclasses.replace(a)
    fresh.verify_binding()
    fresh.verify_binding()
    forged = dataclasses.replace(a, public_key=b.public_key)
    for _ in range(2):
        with pytest.raises(SignatureError):
            forged.verify_binding()


@pytest.mark.timeout(600)
def test_nbval_row_times_each_notebook(tmp_path):
    notebook = dict(cases._EMPTY_NOTEBOOK)
    notebook["cells"] = [{**cases._EMPTY_NOTEBOOK["cells"][0], "id": "one", "source": "x = 6 * 7"}]
    (tmp_path / "01-tiny.ipynb").write_text(json.dumps(notebook))
    (row,) = cases.rows_nbval(Config.tiny(notebooks=tmp_path))
    assert row.id == "nbval_01-tiny" and row.status == "ok", row.status
    assert row.extra["cells"] == 1 and row.extra["failed"] is False
    assert row.values["kit"] > 0 and row.values["empty notebook"] > 0
    assert math.isfinite(row.ratios["notebook / empty"])


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_forked_child_does_not_share_helpers(roster, force_parallel):
    import os

    kwrap.wrap_all(KEY, [r.public_keys.identity_key for r in roster[:70]])  # a helper now runs
    assert kworkers.helpers
    with warnings.catch_warnings():  # 3.12+ warns about fork() with threads alive; none is mid-call here
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: its own (new) helper, never the parent's pipes
        code = 1
        try:
            out = kwrap.wrap_all(KEY, [r.public_keys.identity_key for r in roster[:70]])
            ok = all(r.unwrap(w) == KEY for r, w in zip(roster, out))
            code = 0 if ok and not set(map(id, kworkers.helpers)) & set(map(id, kworkers.inherited)) else 1
        finally:
            kworkers.close_helpers()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    out = kwrap.wrap_all(KEY, [r.public_keys.identity_key for r in roster[:70]])  # the parent's helper still works
    assert all(r.unwrap(w) == KEY for r, w in zip(roster, out))
