"""The docs stay true: every command they name exists, and every relative link points at a file that exists.

- every `make <target>` (in code) in docs/instructor.md and docs/operator.md is a target of the Makefile;
- every `python -m kit <command> [<subcommand>] [--option ...]` there is a command (and subcommand, and
  option) that `python -m kit ... --help` lists;
- every relative link or image in docs/*.md and README.md names a file (or folder) of the repository, and
  every `#anchor` link within a file names one of its headings.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMAND_DOCS = [ROOT / "docs" / "instructor.md", ROOT / "docs" / "operator.md"]
LINK_DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ----------------------------------------------------------------------------- make targets


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets: set[str] = set()
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-/$() ]+?)\s*:(?![=])", line)
        if m and not line.startswith("\t"):
            targets.update(t for t in m.group(1).split() if "$" not in t and not t.startswith("."))
    return targets


# an inline code span: `x` or ``x with a ` inside`` (it may wrap onto the next line)
SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)


def code_in(text: str) -> str:
    """The code of a markdown text: fenced blocks and inline code spans (where the docs write commands)."""
    blocks = re.findall(r"```.*?```", text, flags=re.S)
    spans = [m.group(2) for m in SPAN.finditer(re.sub(r"```.*?```", "", text, flags=re.S))]
    return "\n".join(blocks + spans)


def make_targets_named(text: str) -> set[str]:
    # `make lab`, `make student`, a `make test` line in a code block: the word after "make"
    return set(re.findall(r"(?<![\w./-])make ([a-z][a-z0-9-]*)\b", code_in(text)))


def test_the_makefile_parser_finds_the_known_targets() -> None:
    assert {"lab", "app", "student", "test", "test-unit", "test-notebooks", "notebooks", "bench"} <= makefile_targets()


@pytest.mark.parametrize("doc", COMMAND_DOCS, ids=_rel)
def test_every_make_target_named_exists(doc: Path) -> None:
    named = make_targets_named(doc.read_text(encoding="utf-8"))
    missing = sorted(named - makefile_targets())
    assert not missing, f"{_rel(doc)} names make targets the Makefile does not have: {missing}"


# ----------------------------------------------------------------------------- python -m kit commands


@cache
def kit_help(*words: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "kit", *words, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, f"python -m kit {' '.join(words)} --help failed: {out.stderr}"
    return out.stdout


def subcommands(*words: str) -> set[str]:
    """The choices argparse lists as `{a,b,c}` in the usage of `python -m kit <words> --help` (empty: none)."""
    m = re.search(r"\{([a-z0-9,\-]+)\}", kit_help(*words))
    return set(m.group(1).split(",")) if m else set()


def options(*words: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z0-9\-]*)", kit_help(*words)))


def kit_commands_named(text: str) -> list[list[str]]:
    """Every `python -m kit ...` command line in `text` (a code span, a code block line), as its words."""
    found = []
    for m in re.finditer(r"python -m kit((?: +[A-Za-z0-9_.:/\-=\"'<>…]+)*)", text):
        found.append(m.group(1).split())
    return found


def check_command(words: list[str]) -> str | None:
    """None when `python -m kit <words>` names existing commands and options; else what is wrong."""
    path: list[str] = []
    rest = list(words)
    while rest and subcommands(*path):
        word = rest[0]
        if word in ("...", "…") or word.startswith("<"):
            return None  # "python -m kit room ...": a placeholder for any subcommand
        if word not in subcommands(*path):
            return f"'{word}' is not a command of `python -m kit {' '.join(path)}` ({sorted(subcommands(*path))})"
        path.append(rest.pop(0))
    if not path:
        return "`python -m kit` without a command"
    for word in rest:
        if word.startswith("--"):
            flag = word.split("=", 1)[0]
            if flag not in options(*path):
                return f"`python -m kit {' '.join(path)}` has no option {flag}"
    return None


def test_the_command_checker_refuses_what_does_not_exist() -> None:
    assert check_command(["room", "status", "--server", "URL"]) is None
    assert check_command(["sandbox", "--host", "0.0.0.0", "--db", "room.sqlite"]) is None
    assert check_command(["room", "..."]) is None
    assert check_command(["room", "restart"]) is not None
    assert check_command(["serve"]) is not None
    assert check_command(["sandbox", "--database", "x"]) is not None
    assert make_targets_named("run `make student`, then `make test-unit`; make this one") == {"student", "test-unit"}
    assert kit_commands_named("`python -m kit room reset --yes`") == [["room", "reset", "--yes"]]
    assert code_in("a ``span with a `tick` in it`` and `one\nwrapped`") == "span with a `tick` in it\none\nwrapped"


@pytest.mark.parametrize("doc", COMMAND_DOCS, ids=_rel)
def test_every_kit_command_named_exists(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    named = kit_commands_named(code_in(text))
    assert named, f"{_rel(doc)} names no python -m kit command: is the pattern still right?"
    wrong = [f"python -m kit {' '.join(w)}: {why}" for w in named if (why := check_command(w))]
    assert not wrong, f"{_rel(doc)}:\n" + "\n".join(wrong)


# ----------------------------------------------------------------------------- links


LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _without_code(text: str) -> str:
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return SPAN.sub("", text)


def links(text: str) -> list[str]:
    return LINK.findall(_without_code(text))


def github_anchor(heading: str) -> str:
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    return {github_anchor(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.sub(r"```.*?```", "", text, flags=re.S), re.M)}


def test_the_link_reader() -> None:
    sample = "see [ops](docs/operator.md#1-start), ![pic](docs/a.png \"t\"), `[not](this.md)`, [web](https://x.com)"
    assert links(sample) == ["docs/operator.md#1-start", "docs/a.png", "https://x.com"]
    assert github_anchor("Run a workshop") == "run-a-workshop"
    assert github_anchor("4. The same from a terminal") == "4-the-same-from-a-terminal"
    assert github_anchor("The dashboard (`/`), for the projector") == "the-dashboard--for-the-projector"


@pytest.mark.parametrize("doc", LINK_DOCS, ids=_rel)
def test_every_relative_link_points_at_a_file(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    broken = []
    for target in links(text):
        if re.match(r"^[a-z][a-z0-9+.\-]*:", target, re.I):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        if not path:
            if fragment not in anchors(text):
                broken.append(f"{target} (no heading with that anchor)")
            continue
        resolved = (doc.parent / path).resolve()
        if not resolved.exists():
            broken.append(target)
        elif not resolved.is_relative_to(ROOT):
            broken.append(f"{target} (outside the repository)")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved.read_text(encoding="utf-8")):
            broken.append(f"{target} (no heading with that anchor in {resolved.name})")
    assert not broken, f"{_rel(doc)} links to what does not exist: {broken}"


def test_the_layout_map_names_every_module_of_kit() -> None:
    """The README's Layout table lists every module of kit/ and every submodule of each package."""
    import re

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout") : text.index("## Dependencies")]
    listed: dict[str, set[str]] = {}
    for line in layout.splitlines():
        m = re.match(r"\| `(kit\.[a-z_]+)`(?: \(([^)]*)\))? \|", line)
        if m:
            listed[m.group(1)] = {x.strip(" `") for x in (m.group(2) or "").split(",") if x.strip()}
    kit_dir = ROOT / "kit"
    for path in sorted(kit_dir.iterdir()):
        if path.suffix == ".py" and path.stem not in {"__init__", "__main__"}:
            assert f"kit.{path.stem}" in listed, f"README Layout has no row for kit.{path.stem}"
        elif path.is_dir() and (path / "__init__.py").exists() and path.name != "spec":
            subs = {p.stem for p in path.glob("*.py") if p.stem != "__init__"}
            assert listed.get(f"kit.{path.name}") == subs, f"README Layout row of kit.{path.name} should list {sorted(subs)}"


def test_the_layout_map_is_in_dependency_order() -> None:
    """Each row of the Layout table imports only rows below it (as its text says)."""
    import re
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    import test_structure

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = text[text.index("## Layout") : text.index("## Dependencies")]
    rows = {m.group(1): i for i, m in enumerate(re.finditer(r"^\| `(kit\.[a-z_]+)`", layout, re.M))}

    def row(name: str) -> str:
        return ".".join(name.split(".")[:2])

    upward = [
        f"{mod} imports {dep}"
        for mod, deps in test_structure.graph().items()
        for dep in deps
        if row(mod) in rows and row(dep) in rows and row(dep) != row(mod) and rows[row(dep)] < rows[row(mod)]
    ]
    assert not upward, "README Layout rows out of dependency order: " + "; ".join(upward)
