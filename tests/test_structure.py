"""The shape of kit/, read from the source with `ast`: dependencies point one way, no private reach-ins.

- no import cycle between kit's modules (imports inside functions count: a lazy import is still a
  dependency, and a cycle hidden in a function is still a cycle);
- no module imports another module's private name (`from kit.x import _name`) or reads one through
  a module alias (`import kit.x as m; m._name`): what two modules share has a public name;
- no utils/helpers/common modules, and the layers: wire formats never import the protocol, the client,
  the sandbox, tables or ui; the sandbox never imports the client; only kit.ui imports ipywidgets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parent.parent / "kit"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(KIT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(KIT.rglob("*.py"))}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def resolve(current: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    if not is_package(current):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import of a kit module in `name`'s source."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    found: list[tuple[str, str | None, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names if alias.name.split(".")[0] == "kit"]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(name, node)
            if target.split(".")[0] != "kit":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:  # `from kit import wrap`: the submodule itself
                    found.append((sub, None, node.lineno))
                else:
                    found.append((target, alias.name, node.lineno))
    return found


def graph() -> dict[str, set[str]]:
    return {name: {mod for mod, _, _ in imports(name) if mod in MODULES and mod != name} for name in MODULES}


def test_the_modules_are_found() -> None:
    assert {"kit", "kit.keys", "kit.wrap", "kit.points", "kit.protocol", "kit.tables", "kit.ui"} <= set(MODULES)


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every back edge of a depth-first walk, as the cycle it closes."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycle() -> None:
    cycles = find_cycles(graph())
    assert not cycles, "import cycles in kit/: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_cycle_check_finds_cycles() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert find_cycles({"keys": {"wrap"}, "wrap": {"keys"}}) == [["keys", "wrap", "keys"]]


def test_no_private_name_imported_across_modules() -> None:
    bad = [
        f"{MODULES[name].relative_to(KIT.parent)}:{line}: from {mod} import {what}"
        for name in MODULES
        for mod, what, line in imports(name)
        if what is not None and what.startswith("_") and not what.startswith("__") and mod != name
    ]
    assert not bad, "private names imported across modules:\n" + "\n".join(bad)


def test_no_private_attribute_read_through_a_module_alias() -> None:
    bad = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("kit.") and alias.asname:
                        aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                target = resolve(name, node)
                for alias in node.names:
                    if f"{target}.{alias.name}" in MODULES:
                        aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != name
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                bad.append(f"{path.relative_to(KIT.parent)}:{node.lineno}: {node.value.id}.{node.attr}")
    assert not bad, "private names read across modules:\n" + "\n".join(bad)


def test_no_grab_bag_modules() -> None:
    assert not [p for p in MODULES.values() if p.stem in {"utils", "util", "helpers", "common", "misc"}]


WIRE = {"kit.encoding", "kit.errors", "kit.ids", "kit.points", "kit.signature", "kit.thrift", "kit.thrift_group", "kit.wrap", "kit.keys", "kit.vault", "kit.content"}
WIRE |= {name for name in MODULES if name.startswith("kit.thrift.")}  # the codec, the structs, the layout
WIRE |= {name for name in MODULES if name.startswith("kit.wrap.")}  # ECIES, and the helper processes for large rosters
ABOVE_WIRE = ("kit.protocol", "kit.group", "kit.message", "kit.keyring", "kit.client", "kit.sandbox", "kit.tables", "kit.ui")


@pytest.mark.parametrize("name", sorted(WIRE))
def test_wire_formats_do_not_import_what_is_built_on_them(name: str) -> None:
    up = [mod for mod in graph()[name] if mod.startswith(ABOVE_WIRE) or mod == "kit"]
    assert not up, f"{name} imports {up}"


def test_the_sandbox_never_imports_the_client_tables_or_ui() -> None:
    for name, deps in graph().items():
        if name.startswith("kit.sandbox"):
            assert not [d for d in deps if d.startswith(("kit.client", "kit.tables", "kit.ui"))], name


def test_tables_do_not_import_ui() -> None:
    for name, deps in graph().items():
        if name.startswith("kit.tables"):
            assert not [d for d in deps if d.startswith("kit.ui")], name
