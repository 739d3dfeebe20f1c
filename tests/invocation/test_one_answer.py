"""One project, one answer: the same findings however and wherever sqlsafe is started.

Each layout is checked as a whole tree from its root, file by file, from inside its deepest
folder, from an unrelated folder by absolute path, and file by file through stdin; every way
must report, for every file, what the whole-tree run reports for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.invocation.layouts import LAYOUTS, write_layout

Finding = tuple[str, str, int, int]


def run(cwd: Path, *args: str, stdin: bytes | None = None) -> set[Finding]:
    result = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--output-format", "json", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, "SQLSAFE_NO_CACHE": "1"},
    )
    assert result.returncode in (0, 1), result.stderr.decode()
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    return {
        (
            item["code"],
            Path(cwd, item["filename"]).resolve().as_posix(),
            item["location"]["row"],
            item["location"]["column"],
        )
        for item in json.loads(result.stdout)
    }


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if ".git" not in p.parts)


def under(findings: set[Finding], folder: Path) -> set[Finding]:
    return {f for f in findings if Path(f[1]).is_relative_to(folder)}


@pytest.fixture(scope="module")
def pool():
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as executor:
        yield executor


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_way_of_starting_gives_the_same_findings(tmp_path, layout, pool):
    root = write_layout(tmp_path / "project", layout).resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    files = python_files(root)
    deepest = max((p.parent for p in files), key=lambda p: len(p.parts))

    whole = pool.submit(run, root, ".")
    alone = [pool.submit(run, root, str(f.relative_to(root))) for f in files]
    inside = pool.submit(run, deepest, ".")
    from_elsewhere = pool.submit(run, elsewhere, str(root))
    stdin = [
        pool.submit(run, elsewhere, "--stdin-filename", str(f), "-", stdin=f.read_bytes())
        for f in files
    ]

    expected = whole.result()
    # Each layout's service module has a GET001 and a DETACH002 that need other files.
    assert {code for code, *_ in expected} == {"GET001", "DETACH002"}, expected
    assert set().union(*(f.result() for f in alone)) == expected
    assert inside.result() == under(expected, deepest)
    assert from_elsewhere.result() == expected
    assert set().union(*(f.result() for f in stdin)) == expected


def test_newer_syntax_is_not_a_syntax_error(tmp_path):
    """On an interpreter older than the syntax, libcst's parse stands in for `ast`'s: the
    model module is indexed (GET001 needs its key) and is no `invalid-syntax`."""
    root = write_layout(tmp_path, "newer-syntax")
    findings = run(root, ".", "--select", "ALL")
    assert "invalid-syntax" not in {code for code, *_ in findings}
    assert ("GET001", (root / "shop/services.py").resolve().as_posix(), 8, 12) in findings


def test_a_real_syntax_error_is_still_reported(tmp_path):
    (tmp_path / "bad.py").write_text("type X = \n")
    result = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--output-format", "concise", "bad.py"],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "SQLSAFE_NO_CACHE": "1"},
    )
    assert result.returncode == 1
    assert b"bad.py:1:" in result.stdout and b"invalid-syntax" in result.stdout


def test_pre_commit_hook_on_one_changed_file(tmp_path):
    """The shipped hooks pass the changed files' names; one changed file gets what the
    whole-tree run reports for it."""
    hooks = (Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text()
    entry = next(
        line.split(":", 1)[1].strip()
        for line in hooks.splitlines()
        if line.strip().startswith("entry: sqlsafe check")
    )
    root = write_layout(tmp_path, "package")
    changed = "shop/api/services.py"
    arguments = entry.split()[2:]  # after `sqlsafe check`
    assert run(root, *arguments, changed) == under(run(root, "."), root / changed)
    assert run(root, *arguments, changed)


@pytest.mark.parametrize(
    ("layout", "start", "reason"),
    [
        ("package", "shop/api", "nearest folder with pyproject.toml"),
        ("src-layout", "src/shop", "folder of {root}/pyproject.toml"),
        ("scripts", "tools", "nearest folder with .git"),
    ],
)
def test_show_settings_names_the_root_and_why(tmp_path, layout, start, reason):
    root = write_layout(tmp_path, layout).resolve()
    result = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--show-settings", "."],
        cwd=root / start,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert f'Project root: "{root}" ({reason.format(root=root)})' in result.stdout.splitlines()
