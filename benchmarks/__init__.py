"""xchat-kit benchmarks: the kit beside the official SDK (chatxdk 0.5.2) and the P-256 floor.

    make bench                  # = python -m benchmarks
    python -m benchmarks --quick
    python -m benchmarks --only init,crypto

One process measures everything in interleaved rounds (see `benchmarks.harness`), prints a
table with a ratio on every row and the goals as PASS/FAIL lines, and writes
`benchmarks/results.json` and `benchmarks/results.png`. Goals are checked here, never in the
unit tests (timings on a shared machine are not a test).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.cases import Config
from benchmarks.harness import Goal, Row

__all__ = ["GROUPS", "Config", "evaluate_goals", "run"]

OUT = Path(__file__).resolve().parent
#: Row groups, for --only.
GROUPS = ("keys", "init", "crossover", "crypto", "recipient", "sandbox", "process", "notebooks")


def _find(rows: list[Row], row_id: str) -> Row | None:
    return next((r for r in rows if r.id == row_id and r.status == "ok"), None)


def _ratio(rows: list[Row], row_id: str, name: str, *, cpu: bool = False) -> float | None:
    r = _find(rows, row_id)
    if r is None:
        return None
    return (r.cpu_ratios if cpu else r.ratios).get(name)


def evaluate_goals(rows: list[Row]) -> list[Goal]:
    """The issue's goals, from the rows measured (a goal whose row is missing is N/A)."""
    inits = sorted((r for r in rows if r.group == "init" and r.status == "ok"), key=lambda r: r.extra["n"])
    wrap_row = _find(rows, "init_1000") or (inits[-1] if inits else None)
    wrap_n = f"N={wrap_row.extra['n']:,}" if wrap_row else "N=1,000"
    def wrap_ratio(name: str, cpu: bool = False) -> float | None:
        return None if wrap_row is None else (wrap_row.cpu_ratios if cpu else wrap_row.ratios).get(name)

    goals = [
        Goal(
            f"wrap per participant at {wrap_n}, one core, vs floor",
            wrap_ratio("kit / floor"),
            1.3,
            "<=",
            "whole init, kit ÷ (keygen + ECDH via cryptography), median of per-round ratios",
            wrap_ratio("kit / floor", True),
        ),
        Goal(
            f"wrap per participant at {wrap_n}, one core, vs chatxdk",
            wrap_ratio("chatxdk / kit"),
            4.0,
            ">=",
            "whole init, chatxdk ÷ kit",
            wrap_ratio("chatxdk / kit", True),
        ),
    ]
    for name, row_id, ratio, limit, op, text in (
        ("unwrap vs one ECDH", "unwrap", "kit / one ECDH", 1.4, "<=", "kit ÷ one ECDH (parsed point)"),
        ("unwrap vs chatxdk", "unwrap", "chatxdk / kit", 2.0, ">=", "chatxdk ÷ kit"),
        ("sign vs chatxdk", "sign", "chatxdk / kit", 10.0, ">=", "chatxdk ÷ kit"),
    ):
        goals.append(Goal(name, _ratio(rows, row_id, ratio), limit, op, text, _ratio(rows, row_id, ratio, cpu=True)))
    one_to_one = _find(rows, "init_2")
    goals.append(
        Goal(
            "whole 1:1 init (ms)",
            one_to_one.extra["whole_kit_s"] * 1e3 if one_to_one else None,
            0.4,
            "<",
            "prepare_key_init for 2 participants, median",
            one_to_one.extra["whole_kit_cpu_s"] * 1e3 if one_to_one else None,
        )
    )
    goals.append(
        Goal(
            "in-process sandbox init call vs echo + validation",
            _ratio(rows, "sandbox_inprocess", "kit / (echo + validation)"),
            2.0,
            "<",
            "SandboxTransport call ÷ (httpx.MockTransport echo + crypto-free validation)",
            _ratio(rows, "sandbox_inprocess", "kit / (echo + validation)", cpu=True),
        )
    )
    goals.append(
        Goal(
            "loopback sandbox init req/s vs bare echo",
            _ratio(rows, "loopback_rps", "kit / bare echo"),
            0.6,
            ">=",
            "same uvicorn server, concurrent client threads",
        )
    )
    goals.append(
        Goal(
            "room: 30 learners pairing over loopback, p99 vs bare echo",
            _ratio(rows, "room_p99", "kit / bare echo"),
            5.0,
            "<=",
            "join, register, find, init, send, read; room rate limits on",
        )
    )
    imp = _find(rows, "import")
    goals.append(Goal("import kit (s)", imp.values.get("kit") if imp else None, 0.15, "<", "fresh interpreter, median"))
    return goals


def run(cfg: Config | None = None, out_dir: Path | None = None) -> dict[str, Any]:
    """Measure every row `cfg` asks for; print the table and goals; write results.json and results.png."""
    from benchmarks import cases
    from benchmarks.harness import machine_info, render_table, write_json, write_plot

    cfg = cfg or Config()
    out_dir = out_dir or OUT
    say = cfg.progress
    started = time.perf_counter()
    machine = machine_info()
    if cfg.openssl_speed:
        say("openssl speed (system OpenSSL) ...")
        machine["openssl_speed"] = cases.openssl_speed()
    rows: list[Row] = []
    crossover: int | None = None

    def attempt(name: str, fn: Callable[[], Any]) -> None:
        say(f"measuring {name} ...")
        t0 = time.perf_counter()
        try:
            got = fn()
        except Exception as exc:  # a broken row is reported, the others still run
            traceback.print_exc(file=sys.stderr)
            rows.append(Row(name, "error", name, "s", status=f"error: {type(exc).__name__}: {exc}"[:200]))
            return
        rows.extend(got if isinstance(got, list) else [got])
        say(f"  {name}: {time.perf_counter() - t0:.1f} s")

    needs_world = any(cfg.wants(g) for g in ("keys", "init", "crossover", "crypto", "recipient", "process"))
    world = None
    if needs_world:
        n_max = max([*cfg.sizes, cfg.cold_n, cfg.memory_n if cfg.wants("process") else 1, 2])
        say(f"making {n_max:,} identities ...")
        world = cases.World(n_max)
    if cfg.wants("keys"):
        attempt("keygen", lambda: cases.row_keygen(cfg, world))
    if cfg.wants("init"):
        for n in cfg.sizes:
            attempt(f"init_{n}", lambda n=n: cases.row_init(cfg, world, n))
    if cfg.wants("keys"):
        attempt("init_cold", lambda: cases.row_init_cold(cfg, world))
    if cfg.wants("crossover"):

        def cross() -> list[Row]:
            nonlocal crossover
            got, crossover = cases.rows_crossover(cfg, world)
            return got

        attempt("crossover", cross)
    if cfg.wants("crypto"):
        attempt("unwrap", lambda: cases.row_unwrap(cfg, world))
        attempt("sign", lambda: cases.row_sign(cfg, world))
        attempt("verify", lambda: cases.row_verify(cfg, world))
    if cfg.wants("recipient"):
        attempt("read_key_change", lambda: cases.rows_read_key_change(cfg, world))
        attempt("catchup", lambda: cases.row_catchup(cfg, world))
    if cfg.wants("sandbox"):
        attempt("sandbox_inprocess", lambda: cases.row_sandbox_inprocess(cfg))
        attempt("loopback", lambda: cases.rows_loopback(cfg))
        from benchmarks import room

        attempt("room", lambda: room.rows_room(cfg))
    if cfg.wants("process"):
        attempt("import", lambda: cases.row_import(cfg))
        attempt("memory", lambda: cases.row_memory(cfg, world))
    if cfg.wants("notebooks"):
        attempt("nbval", lambda: cases.rows_nbval(cfg))

    import kit.wrap.workers

    goals = evaluate_goals(rows)
    elapsed = time.perf_counter() - started
    machine["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    payload = {
        "machine": machine,
        "config": {
            k: (str(v) if isinstance(v, Path) else sorted(v) if isinstance(v, frozenset) else v)
            for k, v in vars(cfg).items()
            if k != "progress"
        },
        "elapsed_s": elapsed,
        "parallel": {"crossover_measured": crossover, "kit.wrap.PARALLEL_MIN": kit.wrap.workers.PARALLEL_MIN},
        "rows": [r.to_dict() for r in rows],
        "goals": [g.to_dict() for g in goals],
    }

    print()
    print(render_table(rows))
    print()
    notes = [f"  {r.label}: {r.note}" for r in rows if r.note]
    if notes:
        print("notes:")
        print("\n".join(notes))
        print()
    mem = _find(rows, "memory")
    if mem is not None:
        k = mem.extra["kit"]
        print(
            f"INFO  peak RSS growth of the {k['participants']:,}-participant init: kit {k['peak_growth'] / 1e6:.1f} MB for "
            f"{k['output_bytes'] / 1e6:.1f} MB of output ({mem.ratios['kit growth / kit output']:.1f}×); chatxdk "
            f"{mem.extra['chatxdk']['peak_growth'] / 1e6:.1f} MB ({mem.ratios['chatxdk growth / chatxdk output']:.1f}×)"
        )
    if crossover is not None or any(r.group == "crossover" for r in rows):
        print(
            f"INFO  all-cores crossover (wrap only, warm helper): N ≈ {crossover if crossover is not None else 'not reached'}; "
            f"kit.wrap.workers.PARALLEL_MIN = {kit.wrap.workers.PARALLEL_MIN}"
        )
    load, load_end = machine["load_average_at_start"], machine["load_average_at_end"]
    if load and load_end and max(load[0], load_end[0]) > machine["usable_cores"] + 0.5:
        print(
            f"WARNING  the machine was busy (load average {load[0]:.1f} at start, "
            f"{load_end[0]:.1f} at end, {machine['usable_cores']} cores): wall-clock times are "
            "inflated and noisier; the CPU-time verdicts beside them leave other programs out"
        )
    for g in goals:
        print(g.line())
    print(f"\n{len(rows)} rows in {elapsed:.0f} s; machine: {machine['cpu']}, {machine['usable_cores']} usable cores")

    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "results.json", payload)
    try:
        write_plot(out_dir / "results.png", rows, machine)
    except Exception:  # pragma: no cover - the JSON is the record; the plot is a view of it
        traceback.print_exc(file=sys.stderr)
    print(f"wrote {out_dir / 'results.json'} and {out_dir / 'results.png'}")
    return payload
