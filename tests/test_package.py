"""The package surface: a light `import kit`, a tidy `__all__`, no grab-bag modules."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import kit

HEAVY = ("ipywidgets", "pandas", "matplotlib", "IPython", "httpx", "uvicorn", "nacl")


def test_import_kit_is_light():
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import kit\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    loaded = json.loads(out.stdout)
    assert "kit" in loaded
    heavy = sorted(
        name for name in loaded if name.split(".")[0] in HEAVY or name.split(".")[0].lower().startswith("jupyter")
    )
    assert heavy == [], f"`import kit` loaded {heavy}"


def test_import_kit_has_no_output():
    out = subprocess.run([sys.executable, "-c", "import kit"], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout == "" and out.stderr == ""


def test_all_is_sorted_unique_and_resolves():
    names = list(kit.__all__)
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(kit, name) is not None, name


def test_public_objects_have_docstrings():
    for name in kit.__all__:
        obj = getattr(kit, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), f"kit.{name} has no docstring"


def test_unknown_attribute():
    try:
        kit.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("kit.no_such_name resolved")


def test_dir_lists_all():
    assert set(kit.__all__) <= set(dir(kit))


def test_version():
    assert isinstance(kit.__version__, str) and kit.__version__


def test_no_grab_bag_modules():
    banned = {"utils", "helpers", "common", "util", "misc"}
    found = []
    for info in pkgutil.walk_packages(kit.__path__, prefix="kit.", onerror=lambda name: None):
        if info.name.rsplit(".", 1)[-1] in banned:
            found.append(info.name)
    root = Path(kit.__file__).parent
    for path in root.rglob("*.py"):
        if path.stem in banned:
            found.append(str(path.relative_to(root)))
    for path in root.rglob("*"):
        if path.is_dir() and path.name in banned:
            found.append(str(path.relative_to(root)))
    assert found == []


def test_module_all_lists_resolve():
    # every wire module declares what it exports, and all of it exists
    import importlib

    wire = ("errors", "encoding", "ids", "signature", "keys", "wrap", "vault", "thrift", "protocol", "message")
    for mod in (*wire, "keyring"):
        module = importlib.import_module(f"kit.{mod}")
        names = module.__all__
        assert len(set(names)) == len(names), mod
        for name in names:
            assert hasattr(module, name), f"kit.{mod}.{name}"
