"""What every panel shows: the coloured byte map, the one-line status, an error's problem text (all notebooks)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from kit.errors import APIError

__all__ = [
    "COLORS",
    "ERROR_COLOR",
    "OK_COLOR",
    "TRUST_COLORS",
    "WIDE",
    "Segment",
    "byte_map",
    "problem_text",
    "status_line",
    "trust_badge",
]

#: One colour per part of a byte layout (pale, so the hex stays readable).
COLORS = {
    "header": "#e5e7eb",
    "04 prefix": "#dbeafe",
    "x": "#dbeafe",
    "y": "#e0e7ff",
    "ephemeral point": "#dbeafe",
    "ciphertext": "#fde68a",
    "tag": "#bbf7d0",
}
#: Text colour of a success, and of a failure (status lines, flipped bytes, inbox rows).
OK_COLOR = "#166534"
ERROR_COLOR = "#b91c1c"
#: Text colour of each trust state (kit.Trust.state), in the trust panel and the inbox.
TRUST_COLORS = {"new": "#4b5563", "pinned": "#1d4ed8", "verified": OK_COLOR, "changed": ERROR_COLOR}
#: Widget style that lets a long description show in full.
WIDE = {"description_width": "initial"}

#: A part of a byte layout: `(name, length)`.
Segment = tuple[str, int]


def byte_map(
    data: bytes,
    segments: Sequence[Segment],
    *,
    flipped: Iterable[int] = (),
    selected: int | None = None,
    colors: Mapping[str, str] | None = None,
) -> str:
    """HTML for `data` as coloured hex bytes, one colour per `(name, length)` segment, with a legend.

    Bytes in `flipped` are struck through in red; the `selected` byte is outlined; `colors` gives
    segment names their colour (over `COLORS`).
    """
    palette = {**COLORS, **(colors or {})}
    flipped = set(flipped)
    bounds: list[tuple[str, int, int]] = []
    start = 0
    for name, length in segments:
        bounds.append((name, start, start + length))
        start += length
    if start != len(data):
        bounds.append(("rest", start, len(data)))
    legend = " ".join(
        f'<span style="background:{palette.get(name, "#f3f4f6")};padding:0 4px;margin-right:4px;white-space:nowrap">'
        f"{html.escape(name)}: bytes {lo}–{hi - 1} ({hi - lo})</span>"
        for name, lo, hi in bounds
        if hi > lo
    )
    cells = []
    for name, lo, hi in bounds:
        for i in range(lo, min(hi, len(data))):
            style = f"background:{palette.get(name, '#f3f4f6')};padding:1px 2px;margin:1px;display:inline-block"
            if i in flipped:
                style += f";color:{ERROR_COLOR};font-weight:bold;text-decoration:line-through"
            if i == selected:
                style += ";outline:2px solid #111827"
            cells.append(
                f'<span class="xk-byte" data-segment="{html.escape(name)}" title="byte {i}: {html.escape(name)}" '
                f'style="{style}">{data[i]:02x}</span>'
            )
    return (
        f'<div class="xk-byte-map" style="font-family:monospace;font-size:12px;line-height:1.6;max-width:60em">'
        f'<div class="xk-legend" style="margin-bottom:4px">{legend}</div>{"".join(cells)}</div>'
    )


def problem_text(err: BaseException) -> str:
    """One line for an error: an API problem's status, type kind and detail, or a kit error's message."""
    if isinstance(err, APIError):
        p = err.problem
        status = p.status if p.status is not None else err.status
        return f"status {status} · type {p.kind} · {p.detail or p.title}"
    return f"{type(err).__name__}: {err}"


def status_line(text: str, *, ok: bool | None = None) -> str:
    """HTML for one status line: neutral (`ok=None`), green for success, red for a failure."""
    color = "inherit" if ok is None else (OK_COLOR if ok else ERROR_COLOR)
    cls = "xk-info" if ok is None else ("xk-ok" if ok else "xk-error")
    return f'<span class="{cls}" style="color:{color}">{html.escape(text)}</span>'


def trust_badge(state: str) -> str:
    """HTML for a trust state ("new", "pinned", "verified", "changed"; anything else is shown as unknown)."""
    color = TRUST_COLORS.get(state, "#6b7280")
    label = state if state in TRUST_COLORS else "unknown"
    return (
        f'<span class="xk-trust-state xk-trust-{label}" style="color:{color};font-weight:bold">'
        f"{html.escape(label)}</span>"
    )
