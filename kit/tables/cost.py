"""The cost of wrapping for a group: timing `prepare_key_init`, its plot, demo members, a progress bar; notebook 06."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from kit.keys import Identity, PublicKeys
from kit.protocol import prepare_key_init
from kit.tables.bytemap import figure

__all__ = ["demo_members", "plot_wrap_cost", "progress_bar", "wrap_cost"]


def progress_bar(label: str, *, width: int = 30, stream: Any = None) -> Callable[[int, int], None]:
    """A text progress bar for `prepare_key_init(progress=...)` and `wrap_cost(progress=...)`.

    It rewrites one line (``\\r``) and ends it when done == total; no times, so its last state
    is the same every run.

    Written by hand rather than taken from tqdm on purpose: nbval compares every stored output,
    and ``tqdm.auto`` in Jupyter renders a widget whose output holds a random model id and
    elapsed/rate text, so a checked notebook would differ on every run (and tqdm would be one
    more dependency for a dozen lines).
    """

    def update(done: int, total: int) -> None:
        out = stream if stream is not None else sys.stdout
        filled = width * done // total if total else width
        out.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            out.write("\n")
        out.flush()

    return update


def demo_members(n: int, *, first_id: int = 3_000_000_000_000_000_000) -> list[PublicKeys]:
    """DEMO ONLY: public keys of `n` seeded identities (user ids `first_id`, `first_id + 1`, ...)."""
    return [
        Identity.from_seed(f"member {i} (demo only)", str(first_id + i), version="1").public_keys for i in range(n)
    ]


def wrap_cost(
    sender: Identity,
    members: Sequence[PublicKeys],
    sizes: Sequence[int],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Time `prepare_key_init` (check bindings, wrap for everyone, encode, sign) for each group size.

    Returns participants and seconds per size (times differ from run to run: plot them, do
    not print them in a checked notebook). `progress` is called with participants done so far.
    """
    total = sum(sizes)
    done = 0
    rows = []
    for n in sizes:
        if n > len(members):
            raise ValueError(f"size {n} needs {n} members, got {len(members)}")
        start = time.perf_counter()
        prepare_key_init(sender, members[:n], conversation_id="g1", version="1", message_id="cost")
        rows.append((n + 1, time.perf_counter() - start))
        done += n
        if progress is not None:
            progress(done, total)
    frame = pd.DataFrame(rows, columns=["participants", "seconds"])
    frame["µs per participant"] = frame["seconds"] / frame["participants"] * 1e6
    return frame


def plot_wrap_cost(cost: pd.DataFrame) -> Any:
    """Time to prepare a key init against the number of participants, as a matplotlib Figure."""
    fig, ax = figure(figsize=(7, 4))
    ax.plot(cost["participants"], cost["seconds"] * 1000, marker="o", label="prepare_key_init")
    per = float(cost["seconds"].iloc[-1] / cost["participants"].iloc[-1] * 1e6)
    ax.set_xlabel("participants (sender included)")
    ax.set_ylabel("milliseconds")
    ax.set_title("Preparing a key init: one wrap (ECDH + AES-GCM) per participant")
    ax.annotate(
        f"≈ {per:.0f} µs per participant",
        xy=(cost["participants"].iloc[-1], cost["seconds"].iloc[-1] * 1000),
        xytext=(-10, -30),
        textcoords="offset points",
        ha="right",
    )
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
