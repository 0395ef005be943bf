"""The lessons' exercises: tagged cells in order, solutions that pass, and student copies whose checks fail.

`make student` (tools/student.py) cuts each solution to its blank. This test writes every student copy,
runs it in a fresh kernel, and proves that every check cell says ✗ on the blank (with its friendly line,
never a traceback) while the committed notebook's stored output of the same cell says ✓. A check that
cannot fail would be caught here.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("student", ROOT / "tools" / "student.py")
assert spec is not None and spec.loader is not None
student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(student)

LESSONS = student.lesson_notebooks()


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def text_of(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in {"execute_result", "display_data"}:
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("ERROR " + out.ename + ": " + out.evalue)
    return "".join(parts).strip()


def test_there_are_lessons_with_exercises() -> None:
    assert any(p.name.startswith("02-") for p in LESSONS)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_exercise_cells_come_in_order(path: Path) -> None:
    """exercise (markdown) → solution (code, with markers) → check (code), for every exercise."""
    cells = nbformat.read(path, as_version=4).cells
    seen_exercise = False
    for i, cell in enumerate(cells):
        t = tags(cell)
        if "exercise" in t:
            assert cell.cell_type == "markdown", f"cell {i}: an exercise is a markdown cell"
            seen_exercise = True
        if "solution" in t:
            assert cell.cell_type == "code" and seen_exercise, f"cell {i}: a solution follows its exercise"
            assert student.BEGIN in cell.source and student.END in cell.source, f"cell {i}: solution markers"
            assert i + 1 < len(cells) and "check" in tags(cells[i + 1]), f"cell {i}: a check cell follows"
            seen_exercise = False


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_committed_solutions_pass_their_checks(path: Path) -> None:
    checks = [c for c in nbformat.read(path, as_version=4).cells if "check" in tags(c)]
    assert checks
    for cell in checks:
        lines = text_of(cell).splitlines()
        assert lines and all(line.startswith("✓") for line in lines), f"{path.name}: {text_of(cell)!r}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_the_student_copy_runs_and_every_check_fails_on_the_blank(path: Path, tmp_path: Path) -> None:
    nb = student.student_notebook(nbformat.read(path, as_version=4), name=path.name)
    for cell in nb.cells:  # no solution text left outside the folded blocks
        if "solution" in tags(cell):
            assert "# your answer" in cell.source and student.BEGIN not in cell.source
    env_unset = ("X_API_BASE_URL", "X_API_USER_TOKEN")
    saved = {k: os.environ.pop(k) for k in env_unset if k in os.environ}
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ.update(saved)
    errors = [text_of(c) for c in nb.cells if c.cell_type == "code" and any(o.output_type == "error" for o in c.outputs)]
    assert not errors, f"cells fail in the student copy: {errors}"
    checks = [c for c in nb.cells if "check" in tags(c)]
    assert checks
    for cell in checks:
        lines = text_of(cell).splitlines()
        assert lines and all(line.startswith("✗") for line in lines), f"{path.name}: a check passed on a blank: {lines}"
        assert all("fill in the blank" in line for line in lines)
    folded = [c for c in nb.cells if "solution-folded" in tags(c)]
    assert len(folded) == sum("solution" in tags(c) for c in nb.cells) and all("<details>" in c.source for c in folded)


# ----------------------------------------------------------------------------- the tool itself


def test_blank_region_keeps_names_and_drops_the_rest() -> None:
    region = "import hashlib\nx = 1\ny: int = 2\na = b = 3\ndef f(k):\n    return k\n"
    assert student.blank_region(region, where="t") == [
        "x = ...  # your answer",
        "y: int = ...  # your answer",
        "a = b = ...  # your answer",
        "def f(k):",
        "    ...  # your answer",
    ]


def test_the_tool_refuses_what_it_cannot_cut() -> None:
    with pytest.raises(student.LessonFormatError, match="without"):
        student.student_source("# begin solution\nx = 1\n", where="t")
    with pytest.raises(student.LessonFormatError, match="needs a"):
        student.student_source("x = 1\n", where="t")
    with pytest.raises(student.LessonFormatError, match="assigns nothing"):
        student.student_source("# begin solution\nprint(1)\n# end solution", where="t")
    with pytest.raises(student.LessonFormatError, match="not valid Python"):
        student.student_source("# begin solution\nx = (\n# end solution", where="t")


def test_indented_regions_keep_their_indent() -> None:
    src = "for i in range(2):\n    # begin solution\n    x = i\n    # end solution\n    print(x)"
    assert student.student_source(src, where="t") == "for i in range(2):\n    x = ...  # your answer\n    print(x)"


# ----------------------------------------------------------------------------- the lesson format, every notebook

STEP_NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def test_every_step_notebook_is_a_lesson() -> None:
    """Every numbered notebook after the index holds exercises (so the student-copy test above covers it)."""
    assert len(STEP_NOTEBOOKS) >= 10
    assert {p.name for p in STEP_NOTEBOOKS if not p.name.startswith("00-")} <= {p.name for p in LESSONS}


@pytest.mark.parametrize("path", STEP_NOTEBOOKS, ids=lambda p: p.stem)
def test_header_and_recap(path: Path) -> None:
    cells = nbformat.read(path, as_version=4).cells
    header = cells[0]
    assert header.cell_type == "markdown" and header.source.startswith(f"# {path.name[:2]} · ")
    for part in ("**Objectives**", "**Before this**", "**Time**", "glossary.md"):
        assert part in header.source, f"{path.name}: the header has no {part}"
    last = [c for c in cells if c.cell_type == "markdown"][-1]
    assert "Recap" in last.source and "**Next**" in last.source, f"{path.name}: the last markdown cell is the recap"


def test_the_workshop_has_four_exercises_or_more() -> None:
    nb = nbformat.read(ROOT / "notebooks" / "07-workshop.ipynb", as_version=4)
    assert sum("exercise" in tags(c) for c in nb.cells) >= 4
