"""Write the student copy of the lessons: every solution cut to its blank, the answer folded below it.

    .venv/bin/python tools/student.py                    # every notebook -> student/
    .venv/bin/python tools/student.py notebooks/02-*.ipynb --out /tmp/student

In a cell tagged `solution`, the lines between ``# begin solution`` and ``# end solution`` are the answer.
In the student copy each assignment there becomes ``name = ...  # your answer`` (so the check cell below
still runs, and says "fill in the blank"), anything else in the region is dropped, and a markdown cell
with the solution inside a collapsed ``<details><summary>Solution</summary>`` block follows the
cell. Outputs of solution and check cells are cleared (the learner runs them). Nothing else changes.
`tests/test_lessons.py` runs every student copy and proves each check fails on the blank.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "# begin solution", "# end solution"


class LessonFormatError(ValueError):
    """A solution cell the tool cannot cut (no markers, or a region that is not Python)."""


def blank_region(region: str, *, where: str) -> list[str]:
    """The student's lines for one solution region: each assignment's value becomes `...`."""
    try:
        tree = ast.parse(region)
    except SyntaxError as exc:
        raise LessonFormatError(f"{where}: the solution region is not valid Python: {exc.msg} (line {exc.lineno})") from None
    lines = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = " = ".join(ast.unparse(t) for t in node.targets)
            lines.append(f"{targets} = ...  # your answer")
        elif isinstance(node, ast.AnnAssign):
            lines.append(f"{ast.unparse(node.target)}: {ast.unparse(node.annotation)} = ...  # your answer")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            head = ast.unparse(node).splitlines()[len(node.decorator_list)]
            lines += [*(f"@{ast.unparse(d)}" for d in node.decorator_list), head, "    ...  # your answer"]
    if not lines:
        raise LessonFormatError(f"{where}: the solution region assigns nothing: the check would have nothing to check")
    return lines


def student_source(source: str, *, where: str) -> str:
    """The source of a solution cell with every marked region replaced by its blank."""
    out: list[str] = []
    lines = source.splitlines()
    i, found = 0, False
    while i < len(lines):
        line = lines[i]
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            try:
                end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == END)
            except StopIteration:
                raise LessonFormatError(f"{where}: '{BEGIN}' without '{END}'") from None
            region = "\n".join(row[len(indent):] if row.startswith(indent) else row for row in lines[i + 1 : end])
            out += [indent + row for row in blank_region(region, where=where)]
            i, found = end + 1, True
            continue
        out.append(line)
        i += 1
    if not found:
        raise LessonFormatError(f"{where}: a `solution` cell needs a '{BEGIN}' … '{END}' region")
    return "\n".join(out)


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def student_notebook(nb: nbformat.NotebookNode, *, name: str) -> nbformat.NotebookNode:
    """A student copy of `nb` (a new object; `nb` is unchanged)."""
    copy = nbformat.from_dict(nb)
    cells = []
    for index, cell in enumerate(copy.cells):
        where = f"{name} cell {index}"
        if cell.cell_type == "code" and "solution" in tags(cell):
            solution = cell.source
            cell.source = student_source(solution, where=where)
            cell.outputs, cell.execution_count = [], None
            cells.append(cell)
            shown = "\n".join(line for line in solution.splitlines() if line.strip() not in (BEGIN, END))
            folded = f"<details><summary>Solution</summary>\n\n```python\n{shown}\n```\n\n</details>"
            cells.append(nbformat.v4.new_markdown_cell(folded, metadata={"tags": ["solution-folded"]}))
            continue
        if cell.cell_type == "code" and "check" in tags(cell):
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    copy.cells = cells
    return copy


def lesson_notebooks() -> list[Path]:
    """The notebooks that hold exercises (a cell tagged `solution`)."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any("solution" in tags(c) for c in nb.cells):
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/student.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "student")
    args = parser.parse_args(argv)
    paths = args.notebooks or lesson_notebooks()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:
            student = student_notebook(nb, name=path.name)
        except LessonFormatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        nbformat.write(student, args.out / path.name)
        print(f"wrote {args.out / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
