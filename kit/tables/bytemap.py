"""`Segment` and `ByteMap`: bytes by field as a coloured HTML grid, a hex dump or a picture; notebooks 01-05."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kit.tables.format import Table, hex_pairs

__all__ = ["PALETTE", "ByteMap", "Segment", "figure", "segments_of"]


#: Light fills that stay readable under black text, in the order fields are met.
PALETTE = (
    "#fde2b8", "#c6e2ff", "#d4f4c4", "#f7c6d9", "#e3d4f7", "#fff3a8",
    "#c9f2ef", "#f2d0b5", "#dcdcdc", "#b8e0d2", "#f5b7b1", "#d6eaf8",
)  # fmt: skip


@dataclass(frozen=True)
class Segment:
    """A run of bytes with one meaning: where it starts, how long it is, what it is."""

    offset: int
    length: int
    field: str
    group: str = ""

    @property
    def kind(self) -> str:
        """The colour group: `group` when given, else the field."""
        return self.group or self.field


class ByteMap:
    """Bytes laid out by field: a coloured grid in a notebook, a hex dump as text.

    `segments` must cover the bytes exactly, in order. `table` has one row per segment;
    `plot()` draws the same map with matplotlib.
    """

    def __init__(self, data: bytes, segments: Sequence[Segment], *, title: str, width: int = 16) -> None:
        self.data = bytes(data)
        self.segments = tuple(segments)
        self.title = title
        self.width = width
        pos = 0
        for seg in self.segments:
            if seg.offset != pos or seg.length < 0:
                raise ValueError(f"byte map {title!r}: segment {seg.field!r} starts at {seg.offset}, expected {pos}")
            pos += seg.length
        if pos != len(self.data):
            raise ValueError(f"byte map {title!r}: segments cover {pos} bytes of {len(self.data)}")

    @property
    def table(self) -> Table:
        """One row per segment: offset, length, field and its first bytes in hex."""
        return Table(
            [(s.offset, s.length, s.field, hex_pairs(self.data[s.offset : s.offset + s.length])) for s in self.segments],
            columns=["offset", "length", "field", "hex"],
        )

    def _colours(self) -> dict[str, str]:
        colours: dict[str, str] = {}
        for seg in self.segments:
            if seg.kind not in colours:
                colours[seg.kind] = PALETTE[len(colours) % len(PALETTE)]
        return colours

    def _byte_kinds(self) -> list[str]:
        out: list[str] = []
        for seg in self.segments:
            out.extend([seg.kind] * seg.length)
        return out

    def _grid(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows = -(-len(self.data) // self.width)
        colours = self._colours()
        kinds = self._byte_kinds()
        cells = [["" for _ in range(self.width)] for _ in range(rows)]
        css = [["" for _ in range(self.width)] for _ in range(rows)]
        for i, byte in enumerate(self.data):
            r, c = divmod(i, self.width)
            cells[r][c] = f"{byte:02x}"
            css[r][c] = f"background-color: {colours[kinds[i]]}"
        index = [r * self.width for r in range(rows)]
        columns = [f"+{c:x}" for c in range(self.width)]
        return pd.DataFrame(cells, index=index, columns=columns), pd.DataFrame(css, index=index, columns=columns)

    @property
    def styler(self) -> Any:
        """The grid as a pandas Styler: one cell per byte, coloured by field."""
        grid, css = self._grid()
        uid = hashlib.sha256(self.data + repr(self.segments).encode()).hexdigest()[:12]
        return (
            grid.style.set_uuid(f"bytemap-{uid}")
            .apply(lambda _: css, axis=None)
            .set_table_styles(
                [
                    {"selector": "td", "props": "font-family: monospace; padding: 1px 4px; text-align: center; color: #000;"},
                    {"selector": "th", "props": "font-family: monospace; padding: 1px 4px;"},
                ]
            )
        )

    def _legend_html(self) -> str:
        colours = self._colours()
        rows = "".join(
            f'<tr><td style="background-color: {colours[s.kind]}; width: 1.5em"></td>'
            f"<td>{s.offset}</td><td>{s.length}</td><td>{html.escape(s.field)}</td></tr>"
            for s in self.segments
        )
        return (
            '<table style="font-family: monospace; font-size: smaller">'
            "<tr><th></th><th>offset</th><th>length</th><th>field</th></tr>"
            f"{rows}</table>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>{html.escape(self.title)}</b>, {len(self.data)} bytes"
            f'<div style="display: flex; gap: 2em; align-items: flex-start">'
            f"<div>{self.styler.to_html()}</div><div>{self._legend_html()}</div></div></div>"
        )

    def __repr__(self) -> str:
        lines = [f"{self.title}, {len(self.data)} bytes"]
        for r in range(0, len(self.data), self.width):
            lines.append(f"{r:5d}  {self.data[r : r + self.width].hex(' ')}")
        lines.append("")
        lines.append(" offset  length  field")
        lines.extend(f"{s.offset:7d}  {s.length:6d}  {s.field}" for s in self.segments)
        return "\n".join(lines)

    def plot(self, *, width: int | None = None, show_hex: bool | None = None) -> Any:
        """The map as a matplotlib Figure (not registered with pyplot, so it shows once)."""
        from matplotlib.patches import Patch, Rectangle

        width = width or (self.width if len(self.data) <= 128 else 32)
        show_hex = len(self.data) <= 160 if show_hex is None else show_hex
        rows = -(-len(self.data) // width)
        colours = self._colours()
        kinds = self._byte_kinds()
        fig, ax = figure(figsize=(max(6.0, width * 0.36), 0.8 + rows * 0.32 + 0.25 * len(colours) / 2))
        for i, byte in enumerate(self.data):
            r, c = divmod(i, width)
            ax.add_patch(Rectangle((c, -r), 1, 1, facecolor=colours[kinds[i]], edgecolor="white", linewidth=0.5))
            if show_hex:
                ax.text(c + 0.5, -r + 0.5, f"{byte:02x}", ha="center", va="center", fontsize=7, family="monospace")
        ax.set_xlim(0, width)
        ax.set_ylim(-rows + 1, 1)
        ax.set_yticks([-r + 0.5 for r in range(rows)], [str(r * width) for r in range(rows)], fontsize=7)
        ax.set_xticks([])
        ax.set_ylabel("offset")
        for side in ("top", "right", "bottom", "left"):
            ax.spines[side].set_visible(False)
        ax.set_title(f"{self.title} ({len(self.data)} bytes)")
        handles = [Patch(facecolor=colour, label=kind) for kind, colour in colours.items()]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=min(3, len(handles)), fontsize=7, frameon=False)
        fig.tight_layout()
        return fig


def figure(*, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """A Figure and its Axes that show exactly once when returned from a notebook cell.

    Made through pyplot (which, in a Jupyter kernel, registers how figures display), then
    closed, so pyplot does not show it a second time at the end of the cell.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize)
    plt.close(fig)
    return fig, ax


def segments_of(parts: Iterable[tuple[int, str]]) -> list[Segment]:
    """Segments laid end to end from ``(length, field)`` pairs, starting at offset 0."""
    out, pos = [], 0
    for length, name in parts:
        out.append(Segment(pos, length, name))
        pos += length
    return out
