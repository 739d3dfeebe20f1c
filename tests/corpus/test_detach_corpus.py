"""DETACH001-003 and SCOPE001 on code nobody here wrote: the SQLModel 0.0.50 sdist (its
tutorials in `docs_src/` and its test suite). The tutorials return instances from sessions
they close in 24 places; every one is safe (refreshed or loaded instances of models with no
lazy attributes), and the analysis must say so rather than see nothing. Downloads the
pinned sdist on first run (`.corpora/`)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest

from benchmarks.corpora import fetch
from sqlsafe.checks.base import FileContext, RuleSettings
from sqlsafe.checks.lifetimes import analyse, detachment
from sqlsafe.checks.names import ImportTable
from sqlsafe.index import build_index, module_name

pytestmark = pytest.mark.slow

RULES = "DETACH001,DETACH002,DETACH003,SCOPE001"


@pytest.fixture(scope="module")
def sqlmodel_copy(tmp_path_factory) -> Path:
    # Outside the repository: `.corpora/` is git-ignored, and file discovery honours that.
    source = next(fetch("sqlmodel").glob("sqlmodel-*"))
    target = tmp_path_factory.mktemp("corpus") / source.name
    shutil.copytree(source, target)
    return target


def sqlsafe(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlsafe", *args, "--isolated"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_no_finding_on_the_tutorials_and_tests(sqlmodel_copy):
    result = sqlsafe(
        sqlmodel_copy, "check", "--select", RULES, "--output-format", "json", "docs_src", "tests"
    )
    assert json.loads(result.stdout) == [], result.stderr


def test_the_analysis_sees_the_returns_it_clears(sqlmodel_copy):
    files = sorted((sqlmodel_copy / "docs_src").rglob("*.py"))
    index = build_index(files, [sqlmodel_copy])
    returns = []
    for path in files:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
        name = module_name(path, [sqlmodel_copy])
        context = FileContext(module, name, ImportTable(module, name), index, RuleSettings())
        functions = [n for n in module.body if isinstance(n, cst.FunctionDef)]
        for function in functions:
            for site in analyse(context, function).instance_returns():
                returns.append((path.name, detachment(context, site)))
    assert len(returns) >= 20
    assert {found for _, found in returns} == {None}


def test_fixed_tutorials_still_pass_sqlmodel_tests(sqlmodel_copy, tmp_path):
    for module in ("fastapi", "httpx", "dirty_equals", "coverage", "alembic", "jinja2", "black"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"sqlmodel's test suite needs {module}")
    fixed = tmp_path / sqlmodel_copy.name
    shutil.copytree(sqlmodel_copy, fixed)
    result = sqlsafe(fixed, "fix", "--unsafe-fixes", "docs_src")
    assert result.returncode in (0, 1), result.stderr
    # The suite runs its tutorials under `coverage`; nothing of this pytest run may leak in.
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST", "COV", "COVERAGE"))
    }
    environment["PYTHONPATH"] = str(fixed)
    # Where sqlmodel's conftest collects the coverage files of the tutorials it runs.
    (fixed / "coverage").mkdir(exist_ok=True)
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests",
        ],
        cwd=fixed,
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "\n331 passed" in tests.stdout, tests.stdout[-300:]
