"""`Table` and the stable text every view writes: hex pairs, previews, UTC times, error lines; every notebook."""

from __future__ import annotations

import pandas as pd

from kit.encoding import from_b64
from kit.inspector.model import hex_pairs, preview, utc_time

__all__ = ["Table", "error_line", "hex_pairs", "preview", "raw_bytes", "utc_time"]


def raw_bytes(data: bytes | str, what: str) -> bytes:
    """Bytes as given, or base64 text decoded (`what` names it in the error)."""
    if isinstance(data, str):
        return from_b64(data, what=what, max_len=16 * 1024 * 1024)
    return bytes(data)


def error_line(exc: BaseException) -> str:
    """One readable line for an error: its class name and message (no traceback)."""
    return f"{type(exc).__name__}: {exc}"


class Table(pd.DataFrame):
    """A pandas DataFrame that shows long text whole (pandas cuts cells at 50 characters)."""

    @property
    def _constructor(self) -> type[Table]:
        return Table

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None, "display.width", 250):
            return super().__repr__()

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            return super()._repr_html_()
