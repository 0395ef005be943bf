"""kit.ui.parts and the package: the byte map, problem text, only kit.ui imports ipywidgets."""

from __future__ import annotations

import re
from pathlib import Path

import kit
from kit import ui


def test_only_ui_imports_ipywidgets():
    root = Path(kit.__file__).parent
    importers = sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if re.search(r"^\s*(import|from) ipywidgets", p.read_text(), re.M)
    )
    assert importers and {Path(p).parts[0] for p in importers} == {"ui"}  # the kit.ui package


def test_byte_map_marks_segments_and_flips():
    out = ui.byte_map(bytes(range(10)), [("header", 2), ("point", 8)], flipped=[3], selected=4)
    assert out.count('class="xk-byte"') == 10
    assert out.count('data-segment="header"') == 2 and out.count('data-segment="point"') == 8
    assert "line-through" in out and "outline" in out
    assert "header: bytes 0–1 (2)" in out


def test_problem_text_reads_as_one_line():
    err = kit.APIError.of(409, "version 5 is not newer than 7")
    assert ui.problem_text(err) == "status 409 · type invalid-request · version 5 is not newer than 7"
    assert ui.problem_text(kit.DecryptionError("nope")) == "DecryptionError: nope"
