"""What a committed notebook must never hold: errors, empty or unrun cells, widget state, secrets.

nbval (make test) checks that the outputs are still right; this checks what is stored. Regenerate
outputs with `make notebooks` (tools/run_notebooks.py), never by hand.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

import kit

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
STEP = re.compile(r"^\d\d-")  # 01-identities.ipynb ... (00-index is not a step)
IGNORE_TAG = "nbval-ignore-output"

#: Secret-shaped text that must not appear in any stored output.
SECRET_SHAPES = {
    "PEM block": re.compile(r"-----BEGIN [A-Z0-9 ]+-----"),
    "'access_token'": re.compile(r"access_token"),
    "'Bearer ' header value": re.compile(r"Bearer "),
    "64 hex digits (a private scalar)": re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{64}(?![0-9A-Fa-f])"),
    "a token_urlsafe(32)-like string next to a token word": re.compile(
        r"(?i)(?:token|secret|password|passphrase|bearer|authorization|api[ _-]?key)[\s\"'=:,(\[{]{1,12}"
        r"[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
    ),
}
#: Lines a notebook's source must not contain: each waits for stdin or reads files nbval cannot see.
FORBIDDEN_SOURCE = {
    "getpass(": "no stdin under nbval",
    "input(": "no stdin under nbval",
    "%load": "loads a file's text into the cell",
}
#: `Identity.from_seed("seed", "user id", ...)` in a source: its private keys follow from the seed.
SEEDED = re.compile(r"""Identity\.from_seed\(\s*(f?)["']([^"']+)["']\s*,\s*([A-Z_]+|["'][0-9]+["'])""")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def output_texts(nb: dict) -> list[str]:
    """Every stored output as text (images are skipped: base64 pixels hold no text)."""
    texts = []
    for cell in code_cells(nb):
        for out in cell.get("outputs", []):
            if "text" in out:
                texts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
            for mime, value in out.get("data", {}).items():
                if mime.startswith("image/") and mime != "image/svg+xml":
                    continue
                texts.append("".join(value) if isinstance(value, list) else json.dumps(value) if not isinstance(value, str) else value)
            for key in ("ename", "evalue"):
                if key in out:
                    texts.append(str(out[key]))
            texts.extend(out.get("traceback", []))
    return texts


ids = [p.name for p in NOTEBOOKS]


def test_there_are_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert "00-index.ipynb" in names
    assert sum(bool(STEP.match(n)) for n in names) >= 8, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_error_outputs(path):
    for i, cell in enumerate(code_cells(load(path))):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors, f"code cell {i} stores an error output ({errors[0].get('ename')}): fix the cell, rerun make notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_empty_code_cells(path):
    for i, cell in enumerate(code_cells(load(path))):
        assert source(cell).strip(), f"code cell {i} is empty"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_saved_widget_state(path):
    nb = load(path)
    assert "widgets" not in nb.get("metadata", {}), "metadata.widgets holds saved widget state: drop it (make notebooks)"
    text = path.read_text(encoding="utf-8")
    assert "application/vnd.jupyter.widget-state+json" not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_code_cell_ran_in_order(path):
    counts = [cell.get("execution_count") for cell in code_cells(load(path))]
    assert all(isinstance(c, int) for c in counts), f"cells without an execution count (nbval compares nothing there): {counts}"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), f"not run top to bottom in one kernel: {counts}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_first_code_cell_imports_the_kit(path):
    first = source(code_cells(load(path))[0]).strip()
    lines = first.splitlines()
    # `import kit` (the notebook surface); a notebook that is only an app may import `kit.ui`, which binds `kit` too.
    assert lines and all(re.fullmatch(r"import kit(\.[a-z_]+)?", line.strip()) for line in lines), first
    if STEP.match(path.name):
        assert first == "import kit", f"a step notebook starts with `import kit`, got {first!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_no_secret_shaped_strings_in_outputs(path):
    for text in output_texts(load(path)):
        for what, pattern in SECRET_SHAPES.items():
            match = pattern.search(text)
            assert match is None, f"an output holds {what}: {match.group(0)[:80]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_demo_private_keys_never_shown(path):
    """Rebuild every seeded identity the notebook makes and look for its private scalars in the outputs."""
    nb = load(path)
    all_source = "\n".join(source(c) for c in code_cells(nb))
    constants = dict(re.findall(r"""^([A-Z_]+)\s*=\s*(?:os\.environ\.get\([^,\n]+,\s*)?["']([0-9]+)["']""", all_source, re.M))
    shown = "\n".join(output_texts(nb))
    for fstring, seed, who in SEEDED.findall(all_source):
        if fstring:
            continue
        user_id = constants.get(who) if who.isupper() else who.strip("\"'")
        if user_id is None:
            continue
        blob = kit.Identity.from_seed(seed, user_id).export_keys()
        for scalar in (blob[:32], blob[32:]):
            for form in (scalar.hex(), scalar.hex(" "), base64.b64encode(scalar).decode().rstrip("=")):
                assert form not in shown, f"a private key of the demo identity {seed!r} is in an output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_sources_do_not_wait_for_stdin(path):
    for i, cell in enumerate(code_cells(load(path))):
        for needle, why in FORBIDDEN_SOURCE.items():
            assert needle not in source(cell), f"code cell {i} uses {needle!r}: {why}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_output_checks_are_skipped_only_for_widgets(path):
    cells = code_cells(load(path))
    for i, cell in enumerate(cells):
        if IGNORE_TAG in cell.get("metadata", {}).get("tags", []):
            assert "kit.ui." in source(cell), f"code cell {i} skips nbval's output check but shows no kit.ui panel"
    if STEP.match(path.name) and not path.name.startswith("00-"):
        last = cells[-1]
        assert "kit.ui." in source(last), "a step notebook ends with a kit.ui panel to play with"
        assert IGNORE_TAG in last.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_kernel_is_the_default_python(path):
    assert load(path)["metadata"]["kernelspec"]["name"] == "python3"
