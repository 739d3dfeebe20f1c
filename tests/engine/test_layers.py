"""The rules' package stands below the run: nothing in `sqlsafe.checks` imports the modules
that drive a run, and the DETACH plan, which the cache keeps and every run may load, needs
neither libcst nor the rules."""

from __future__ import annotations

import ast
from pathlib import Path

import sqlsafe.checks

CHECKS = Path(sqlsafe.checks.__file__).parent
ABOVE = {"sqlsafe.runner", "sqlsafe.command", "sqlsafe.cache", "sqlsafe.api", "sqlsafe.cli"}


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_checks_import_nothing_above_them() -> None:
    for path in sorted(CHECKS.glob("*.py")):
        assert not _imports(path) & ABOVE, path.name


def test_the_plan_imports_neither_libcst_nor_the_rules() -> None:
    imported = _imports(CHECKS / "plan.py")
    assert not any(name == "libcst" or name.startswith("libcst.") for name in imported)
    assert not any(name.startswith("sqlsafe.checks") for name in imported)
