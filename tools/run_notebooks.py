"""Re-run notebooks in the pinned environment and store their outputs, ready for nbval.

    .venv/bin/python tools/run_notebooks.py                 # every notebook in notebooks/
    .venv/bin/python tools/run_notebooks.py notebooks/02-*.ipynb

Each notebook runs top to bottom in a fresh kernel of this interpreter (the repo's .venv,
where `make` pinned every package whose output the notebooks show), offline: the variables
that point `kit.connect()` elsewhere are removed first. What is stored:

- every cell's outputs and execution count (nbval compares nothing for a cell without one);
- no `metadata.widgets` (saved widget state) and no per-cell timing metadata;
- no outputs for widget cells (tagged ``nbval-ignore-output``): a stored widget view without
  its state shows as an error when the notebook is opened, and nbval does not compare them;
- stream text as a terminal would leave it: consecutive pieces of one stream joined, and a
  line rewritten with ``\r`` (a progress bar) stored as its last state only.

It stops at the first cell that raises: a notebook with an error output is never written.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
#: Variables that would send the notebooks' requests somewhere other than the in-process sandbox.
OFFLINE_UNSET = ("X_API_BASE_URL", "X_API_USER_TOKEN")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IGNORE_TAG = "nbval-ignore-output"
_OVERWRITTEN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)  # the same rule nbval applies before comparing


def settle_streams(outputs: list) -> list:
    """Join consecutive outputs of one stream and keep only the last state of ``\r``-rewritten lines."""
    merged: list = []
    for out in outputs:
        if out.output_type == "stream" and merged and merged[-1].output_type == "stream" and merged[-1].name == out.name:
            merged[-1].text += out.text
        else:
            merged.append(out)
    for out in merged:
        if out.output_type == "stream":
            out.text = _OVERWRITTEN.sub("", out.text)
    return merged


def check_interpreter() -> None:
    """Refuse to run outside the repo's virtual environment (its pins are what nbval expects)."""
    venv = (ROOT / ".venv").resolve()
    if Path(sys.prefix).resolve() != venv:
        sys.exit(f"run this with {venv / 'bin' / 'python'} (make notebooks), not {sys.executable}")


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what must not be committed: saved widget state, timings, widget outputs."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        shows_widget = any(WIDGET_VIEW in out.get("data", {}) for out in cell.outputs)
        if shows_widget and IGNORE_TAG in tags:
            cell.outputs = []
        cell.outputs = settle_streams(cell.outputs)
        for out in cell.outputs:
            out.get("metadata", {}).pop("execution", None)
    return nb


def run(path: Path, *, timeout: int) -> None:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",  # the kernelspec of this interpreter (format_kernel_cmd uses sys.executable)
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        allow_errors=False,
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        sys.exit(f"{path.relative_to(ROOT)}: a cell raised; nothing written\n{exc}")
    nbformat.validate(nb)
    nbformat.write(clean(nb), path)
    print(f"ran {path.relative_to(ROOT)}: {sum(c.cell_type == 'code' for c in nb.cells)} code cells")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="notebooks to run (default: every notebooks/*.ipynb)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell (default 120)")
    args = parser.parse_args(argv)
    check_interpreter()
    for name in OFFLINE_UNSET:
        os.environ.pop(name, None)
    os.environ["JUPYTER_PREFER_ENV_PATH"] = "1"  # this venv's python3 kernelspec before any in ~/.local
    paths = [p.resolve() for p in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    for path in paths:
        run(path, timeout=args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
