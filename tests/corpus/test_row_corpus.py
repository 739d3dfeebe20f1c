"""ROW001-ROW004 on real code nobody here wrote: the SQLModel tutorials and tests (correct
code) and fastapi-users-db-sqlmodel, whose `session.execute(statement)` ... `.first()` then
`[0]` sites are correct Row indexing. Downloads the pinned sdists on first run (`.corpora/`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.corpora import fetch, python_files
from sqlsafe.checks.base import EmptyIndex
from sqlsafe.checks.registry import load
from sqlsafe.engine import check_source
from sqlsafe.selection import RuleSelection

pytestmark = pytest.mark.slow

ROW = ("ROW001", "ROW002", "ROW003", "ROW004")


def findings(folder: Path) -> tuple[int, list[str]]:
    selection = RuleSelection(tuple(load(code) for code in ROW))
    files = list(python_files(folder))
    found = []
    for path in files:
        relative = path.relative_to(folder)
        module = ".".join(relative.with_suffix("").parts[1:])
        result = check_source(
            path.read_text(encoding="utf-8"), path, module, selection, EmptyIndex()
        )
        found += [
            f"{relative}:{d.start.row}:{d.start.column}: {d.code} {d.message}"
            for d in result.diagnostics
        ]
    return len(files), found


@pytest.mark.parametrize("name", ["sqlmodel", "fastapi-users-db-sqlmodel"])
def test_no_findings_on_correct_code(name):
    count, found = findings(fetch(name))
    assert count > 0
    assert found == []
