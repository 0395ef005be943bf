"""The measuring machinery: interleaved rounds, robust statistics, rows, goals, table, JSON, plot.

Every row times its contenders (the kit, the official SDK chatxdk, and a floor or a baseline)
in *rounds*: in each round every contender runs one batch, in a rotating order, so a burst of
machine noise lands on all of them alike. A contender's value is the median over rounds of its
per-operation time; a ratio is the median over rounds of the per-round ratio (both contenders
measured seconds apart), which is what makes ratios steadier than the raw times on a busy machine.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Contender",
    "Goal",
    "Row",
    "fmt_time",
    "machine_info",
    "measure",
    "render_table",
    "write_json",
    "write_plot",
]


@dataclass
class Contender:
    """One side of a row: `fn()` does `ops` operations (participants, requests, ...) per call."""

    name: str
    fn: Callable[[], Any]
    ops: int = 1
    setup: Callable[[], Any] | None = None  # run before each batch, untimed
    warmup: bool = True  # one untimed call first (off for calls that take seconds)


@dataclass
class Row:
    """One line of the results table."""

    id: str
    group: str
    label: str
    unit: str  # "s" (time per op; lower is better) or "req/s" (higher is better)
    per: str = "op"  # what one op is: "op", "participant", "request", "catch-up", ...
    values: dict[str, float] = field(default_factory=dict)  # contender -> median (seconds per op, or req/s)
    best: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)  # "chatxdk / kit" -> 4.2
    cpu_values: dict[str, float] = field(default_factory=dict)  # the same from process CPU time
    cpu_ratios: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # p50, p99, whole-init time, RSS, ...
    status: str = "ok"  # "ok", or why the row has no numbers ("absent: ...")
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "group": self.group,
            "label": self.label,
            "unit": self.unit,
            "per": self.per,
            "values": self.values,
            "best": self.best,
            "samples": self.samples,
            "ratios": self.ratios,
            "cpu_values": self.cpu_values,
            "cpu_ratios": self.cpu_ratios,
            "extra": self.extra,
            "status": self.status,
            "note": self.note,
        }


@dataclass
class Goal:
    """A goal from the issue, checked against the rows (wall clock; CPU time shown beside it)."""

    name: str
    measured: float | None
    limit: float
    op: str  # "<=" or ">=" or "<"
    text: str  # how it is measured
    measured_cpu: float | None = None
    why: str = ""

    def _check(self, value: float | None) -> bool | None:
        if value is None or math.isnan(value):
            return None
        if self.op == "<=":
            return value <= self.limit
        if self.op == "<":
            return value < self.limit
        return value >= self.limit

    @property
    def passed(self) -> bool | None:
        """The verdict on wall-clock time (what a user feels)."""
        return self._check(self.measured)

    @property
    def passed_cpu(self) -> bool | None:
        """The verdict on process CPU time (steadier when other programs load the machine)."""
        return self._check(self.measured_cpu)

    def line(self) -> str:
        verdict = {True: "PASS", False: "FAIL", None: "N/A "}[self.passed]
        got = "n/a" if self.measured is None else f"{self.measured:.3g}"
        cpu = ""
        if self.measured_cpu is not None and not math.isnan(self.measured_cpu):
            cpu_verdict = {True: "pass", False: "fail", None: "n/a"}[self.passed_cpu]
            cpu = f" (CPU time: {self.measured_cpu:.3g}, {cpu_verdict})"
        tail = f"  ({self.why})" if self.why and self.passed is not True else ""
        return f"{verdict}  {self.name}: {got} {self.op} {self.limit:g}{cpu}  [{self.text}]{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "measured": self.measured,
            "measured_cpu": self.measured_cpu,
            "limit": self.limit,
            "op": self.op,
            "text": self.text,
            "passed": self.passed,
            "passed_cpu": self.passed_cpu,
            "why": self.why,
        }


# ----------------------------------------------------------------------------- timing


def _calibrate(c: Contender, target: float, max_inner: int) -> int:
    """How many calls make one batch of about `target` seconds (at least one)."""
    if c.setup is not None:
        c.setup()
    t0 = time.perf_counter()
    c.fn()
    one = time.perf_counter() - t0
    if one <= 0:
        return max_inner
    return max(1, min(max_inner, int(target / one)))


def measure(
    contenders: Sequence[Contender],
    *,
    rounds: int,
    target: float,
    max_inner: int = 100_000,
    warmup: bool = True,
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Per-op seconds of each contender, one sample per round, rounds interleaved.

    Returns wall-clock samples, and the same batches in process CPU time under the key
    ``"cpu:" + name`` (CPU time leaves out the time other programs had the core; it is
    meaningless for work done in other processes, which the caller knows).
    The batch size is calibrated per contender (about `target` seconds a batch); the order
    rotates each round. The garbage collector is off while a batch runs (it is collected
    between batches), so one contender does not pay for another's garbage.
    """
    inner = {}
    for c in contenders:
        if warmup and c.warmup:
            if c.setup is not None:
                c.setup()
            c.fn()
        inner[c.name] = 1 if max_inner == 1 else _calibrate(c, target, max_inner)
    samples: dict[str, list[float]] = {c.name: [] for c in contenders}
    cpu: dict[str, list[float]] = {c.name: [] for c in contenders}
    n = len(contenders)
    for r in range(rounds):
        order = [contenders[(r + i) % n] for i in range(n)]
        if r % 2:
            order.reverse()
        for c in order:
            if c.setup is not None:
                c.setup()
            k = inner[c.name]
            fn = c.fn
            gc.collect()
            gc.disable()
            try:
                c0 = time.process_time()
                t0 = time.perf_counter()
                for _ in range(k):
                    fn()
                dt = time.perf_counter() - t0
                dc = time.process_time() - c0
            finally:
                gc.enable()
            samples[c.name].append(dt / (k * c.ops))
            cpu[c.name].append(dc / (k * c.ops))
    samples.update({"cpu:" + name: xs for name, xs in cpu.items()})
    return samples, inner


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def paired_ratio(num: Sequence[float], den: Sequence[float]) -> float:
    """The median of per-round ratios num[i] / den[i]."""
    pairs = [a / b for a, b in zip(num, den) if b > 0]
    return median(pairs)


def fill(
    row: Row, samples: dict[str, list[float]], ratios: dict[str, tuple[str, str]], *, no_cpu: Sequence[str] = ()
) -> Row:
    """Put medians, bests and paired ratios (name -> (numerator, denominator)) into `row`.

    ``"cpu:"`` samples (from `measure`) fill `cpu_values` and `cpu_ratios`, except for the
    contenders in `no_cpu` (work done in other processes) and ratios that involve them.
    """
    for name, xs in samples.items():
        if name.startswith("cpu:"):
            if name[4:] not in no_cpu:
                row.cpu_values[name[4:]] = median(xs)
            continue
        row.samples[name] = xs
        row.values[name] = median(xs)
        row.best[name] = min(xs) if row.unit == "s" else max(xs)
    for label, (a, b) in ratios.items():
        if a in samples and b in samples:
            row.ratios[label] = paired_ratio(samples[a], samples[b])
        if "cpu:" + a in samples and "cpu:" + b in samples and a not in no_cpu and b not in no_cpu:
            row.cpu_ratios[label] = paired_ratio(samples["cpu:" + a], samples["cpu:" + b])
    return row


# ----------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "?"


def machine_info() -> dict[str, Any]:
    """Where the numbers came from."""
    from importlib import metadata

    from cryptography.hazmat.backends.openssl.backend import backend

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return {
        "cpu": _cpu_model(),
        "usable_cores": cores,
        "memory": _mem_total(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "cryptography": version("cryptography"),
        "openssl_in_cryptography": backend.openssl_version_text(),
        "chatxdk": version("chatxdk"),
        "pynacl": version("pynacl"),
        "httpx": version("httpx"),
        "uvicorn": version("uvicorn"),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# ----------------------------------------------------------------------------- output


def fmt_time(seconds: float) -> str:
    if seconds is None or math.isnan(seconds):
        return "-"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def fmt_value(row: Row, name: str) -> str:
    v = row.values.get(name)
    if v is None:
        return "-"
    if row.unit == "req/s":
        return f"{v:,.0f}/s"
    if row.unit == "bytes":
        return f"{v / 1e6:.1f} MB"
    return fmt_time(v)


def _pad(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()


def table_rows(rows: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    """Header and cells: row, per, kit, chatxdk, reference, ratios."""
    head = ["row", "per", "kit", "chatxdk", "reference", "ratios"]
    out = []
    for r in rows:
        if r.status != "ok":
            out.append([r.label, r.per, "-", "-", "-", r.status])
            continue
        refs = [n for n in r.values if n not in ("kit", "chatxdk")]
        ref = "; ".join(f"{n} {fmt_value(r, n)}" for n in refs)
        ratios = ", ".join(f"{k} = {v:.2f}" for k, v in r.ratios.items())
        out.append([r.label, r.per, fmt_value(r, "kit"), fmt_value(r, "chatxdk"), ref or "-", ratios or "-"])
    return head, out


def render_table(rows: Sequence[Row]) -> str:
    head, cells = table_rows(rows)
    widths = [max(len(x) for x in col) for col in zip(head, *cells)]
    lines = [_pad(head, widths), _pad(["-" * w for w in widths], widths)]
    lines += [_pad(c, widths) for c in cells]
    return "\n".join(lines)


def render_markdown(rows: Sequence[Row]) -> str:
    head, cells = table_rows(rows)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    return "\n".join(lines)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    def clean(x: Any) -> Any:
        if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    path.write_text(json.dumps(clean(payload), indent=1, ensure_ascii=False) + "\n", "utf-8")


#: The rows of the plot's right panel, and which of their ratios to draw.
_PLOT_RATIOS = (
    ("keygen", "key generation"),
    ("unwrap", "unwrap"),
    ("sign", "sign v7"),
    ("verify", "verify v7"),
    ("read_key_change", "read key change"),
    ("read_key_change_cold", "read key change, fresh signer keys"),
    ("catchup", "catch-up"),
    ("init_cold", "init N=1,000, fresh keys"),
)


def write_plot(path: Path, rows: Sequence[Row], machine: dict[str, Any]) -> None:
    """Three panels: init cost per participant against the roster size, the all-cores speed-up,
    and the other rows' ratios (chatxdk ÷ kit, kit ÷ floor)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 6), gridspec_kw={"width_ratios": [1.2, 0.9, 1.3]})
    inits = sorted((r for r in rows if r.group == "init" and r.status == "ok"), key=lambda r: r.extra.get("n", 0))
    styles = {
        "kit": ("kit, one core", "tab:blue", "o-"),
        "kit (all cores)": ("kit, all cores", "tab:cyan", "s--"),
        "chatxdk": ("chatxdk 0.5.2", "tab:red", "^-"),
        "floor": ("floor: keygen + ECDH (cryptography)", "tab:gray", "x:"),
    }
    for name, (label, color, style) in styles.items():
        pts = [(r.extra["n"], r.values[name] * 1e6) for r in inits if name in r.values]
        if pts:
            xs, ys = zip(*pts)
            ax1.plot(xs, ys, style, color=color, label=label)
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("participants N")
    ax1.set_ylabel("µs per participant (median of interleaved rounds)")
    ax1.set_title("Whole init: wrap, sign, encode")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)

    cross = sorted((r for r in rows if r.group == "crossover" and r.status == "ok"), key=lambda r: r.extra["n"])
    if cross:
        xs = [r.extra["n"] for r in cross]
        ax2.plot(xs, [r.ratios.get("one core / all cores", float("nan")) for r in cross], "o-", color="tab:cyan")
        ax2.axhline(1.0, color="black", lw=0.8)
        ax2.set_xscale("log", base=2)
    ax2.set_xlabel("participants N (wrap only, helper process warm)")
    ax2.set_ylabel("speed-up: one core ÷ all cores")
    ax2.set_title(f"All cores ({machine.get('usable_cores')}): where it pays")
    ax2.grid(True, which="both", alpha=0.3)

    by_id = {r.id: r for r in rows if r.status == "ok"}
    labels, sdk, floor = [], [], []
    for row_id, label in _PLOT_RATIOS:
        r = by_id.get(row_id)
        if r is None:
            continue
        labels.append(label)
        sdk.append(r.ratios.get("chatxdk / kit", float("nan")))
        floor.append(next((v for k, v in r.ratios.items() if k.startswith("kit / ")), float("nan")))
    y = list(range(len(labels)))
    ax3.barh([i - 0.2 for i in y], sdk, height=0.4, color="tab:red", label="chatxdk ÷ kit (kit faster when > 1)")
    ax3.barh([i + 0.2 for i in y], floor, height=0.4, color="tab:gray", label="kit ÷ floor (1 = the floor)")
    ax3.set_yticks(y)
    ax3.set_yticklabels(labels, fontsize=8)
    ax3.invert_yaxis()
    ax3.set_xscale("log")
    ax3.axvline(1.0, color="black", lw=0.8)
    ax3.set_title("Other operations")
    ax3.grid(True, axis="x", which="both", alpha=0.3)
    ax3.legend(fontsize=8, loc="lower right")
    fig.suptitle(
        f"xchat-kit benchmarks: {machine.get('cpu')} ({machine.get('usable_cores')} cores), "
        f"Python {machine.get('python')}, cryptography {machine.get('cryptography')} "
        f"({machine.get('openssl_in_cryptography')}), chatxdk {machine.get('chatxdk')}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
