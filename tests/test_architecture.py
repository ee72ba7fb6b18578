"""The architecture rules of ARCHITECTURE.md, checked: import-linter's contracts (layers, no
cycles, no TensorFlow/Keras in the core and runtime/), no private name used outside its module,
no module over 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "sentilstm"
MAX_LINES = 500


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def test_import_linter_contracts_are_kept():
    from importlinter import cli

    assert cli.lint_imports(config_filename=str(REPO / "setup.cfg"), no_cache=True, no_logo=True) == 0, "lint-imports: a contract is broken"


def test_no_module_over_500_lines():
    long = {m: n for m, p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_no_private_name_used_outside_its_module():
    modules = dict(_modules())
    found = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("sentilstm"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__") and node.module != name:
                        found.append(f"{name}: from {node.module} import {a.name}")
                    if f"{node.module}.{a.name}" in modules:
                        aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.ImportFrom) and node.level:
                found.append(f"{name}: relative import (use sentilstm.… absolute imports)")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("sentilstm"):
                        aliases[a.asname or a.name.split(".")[0]] = a.asname and a.name or a.name.split(".")[0]
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                    and isinstance(node.value, ast.Name) and node.value.id in aliases):
                found.append(f"{name}: {node.value.id}.{node.attr}")
    assert not found, "private names used outside their module:\n" + "\n".join(found)
