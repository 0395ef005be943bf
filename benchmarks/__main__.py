"""`python -m benchmarks` (what `make bench` runs). See `benchmarks/__init__.py`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from benchmarks import GROUPS, OUT, Config, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller rosters and fewer rounds (about a minute)")
    parser.add_argument("--only", default="", help=f"comma-separated groups: {','.join(GROUPS)}")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per row (default 9)")
    parser.add_argument("--out", type=Path, default=OUT, help="where results.json and results.png go")
    parser.add_argument("--no-openssl", action="store_true", help="skip `openssl speed`")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table of an existing results.json as Markdown and exit"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        from benchmarks.harness import Row, render_markdown

        data = json.loads((args.out / "results.json").read_text())
        fields = {f.name for f in dataclasses.fields(Row)}
        rows = [Row(**{k: v for k, v in r.items() if k in fields}) for r in data["rows"]]
        print(render_markdown(rows))
        return 0
    only = frozenset(g.strip() for g in args.only.split(",") if g.strip())
    unknown = only - set(GROUPS)
    if unknown:
        parser.error(f"unknown groups {sorted(unknown)}; choose from {', '.join(GROUPS)}")
    cfg = Config(only=only)
    if args.quick:
        cfg = dataclasses.replace(
            cfg, sizes=(1, 2, 10, 100, 1000), rounds=5, target=0.015, memory_n=2000, import_runs=5,
            crossover_sizes=(64, 256, 1024), catchup_m=50, loopback_rounds=3, room_rounds=3, openssl_speed=False,
        )
    if args.rounds:
        cfg = dataclasses.replace(cfg, rounds=args.rounds)
    if args.no_openssl:
        cfg = dataclasses.replace(cfg, openssl_speed=False)
    payload = run(cfg, args.out)
    errors = [r for r in payload["rows"] if r["status"].startswith("error")]
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
