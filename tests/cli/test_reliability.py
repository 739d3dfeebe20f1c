"""What a run promises when something goes wrong: a rule that fails, odd input on stdin,
bad settings, unreadable files. Real processes, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_cli import sqlsafe

TWO_BUGS = """\
from sqlmodel import Session, select, text

from models import Hero


def first(session: Session):
    return session.exec(select(Hero)).first()[0]


def total(session: Session):
    return session.exec(text("select :x"), {"x": 1}).all()
"""


def _sqlsafe_patched(cwd: Path, patch: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`sqlsafe ARGS` in a process where the Python code `patch` ran first."""
    script = (
        f"{patch}\n"
        "import sys\n"
        "from sqlsafe.cli import main\n"
        f"sys.argv = ['sqlsafe', *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )


# SQL001 raises on every call it visits: an internal error.
FAILING_RULE = """\
from sqlsafe.checks import sql001_exec_params as rule
def explode(self, node):
    raise RuntimeError('kaboom')
rule.RULE.visit_Call = explode
"""


def _run_with_failing_rule(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _sqlsafe_patched(cwd, FAILING_RULE, *args)


def test_internal_error_exits_2_and_other_rules_still_fix(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(TWO_BUGS)
    checked = _run_with_failing_rule(tmp_path, "check", "--no-cache", "app.py")
    assert checked.returncode == 2, checked
    assert "Rule SQL001 failed on this file: RuntimeError: kaboom" in checked.stdout
    assert "ROW001" in checked.stdout
    fixed = _run_with_failing_rule(tmp_path, "check", "--fix", "--no-cache", "app.py")
    assert fixed.returncode == 2, fixed
    assert path.read_text() == TWO_BUGS.replace(".first()[0]", ".first()")
    assert "Traceback" not in fixed.stderr


def test_a_run_without_internal_error_is_not_exit_2(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(TWO_BUGS)
    assert sqlsafe("check", "app.py", cwd=tmp_path).returncode == 1


def _stdin(cwd: Path, data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return sqlsafe("check", *args, "--stdin-filename", "x.py", "-", cwd=cwd, stdin=data)


BUGGY = TWO_BUGS.replace("from models import Hero\n", "")
SQL001_FIXED = BUGGY.replace('{"x": 1}', 'params={"x": 1}')


@pytest.mark.parametrize(
    ("prefix", "encoding", "newline"),
    [
        (b"\xef\xbb\xbf", "utf-8", "\r\n"),
        (b"# -*- coding: latin-1 -*-\n", "latin-1", "\n"),
        (b"# -*- coding: cp1252 -*-\r\n", "cp1252", "\r\n"),
    ],
    ids=["bom-crlf", "latin-1", "cp1252-crlf"],
)
def test_stdin_fix_changes_only_the_fixed_bytes(
    tmp_path: Path, prefix: bytes, encoding: str, newline: str
) -> None:
    def encoded(text: str) -> bytes:
        text += "# café\n" if encoding == "latin-1" else "# café “ok”\n"
        return prefix + text.replace("\n", newline).encode(encoding)

    fixed = _stdin(tmp_path, encoded(BUGGY), "--fix")
    assert fixed.stdout == encoded(SQL001_FIXED)
    assert fixed.returncode == 0
    clean = _stdin(tmp_path, encoded(SQL001_FIXED), "--fix")
    assert clean.stdout == encoded(SQL001_FIXED)


def test_stdin_latin_1_without_fixes_is_echoed_byte_for_byte(tmp_path: Path) -> None:
    data = "# -*- coding: latin-1 -*-\nname = 'café'\n".encode("latin-1")
    result = _stdin(tmp_path, data, "--fix")
    assert result.stdout == data
    assert result.returncode == 0


@pytest.mark.parametrize("fix", [False, True], ids=["check", "fix"])
def test_stdin_undecodable_is_e902_and_echoed_unchanged(tmp_path: Path, fix: bool) -> None:
    data = b"x = '\xff\xfe'\n" + BUGGY.encode()
    result = _stdin(tmp_path, data, *(["--fix"] if fix else []))
    assert result.returncode == 1
    report = result.stderr if fix else result.stdout
    assert b"E902" in report and b"not valid utf-8" in report
    assert b"All checks passed!" not in result.stdout + result.stderr
    if fix:
        assert result.stdout == data


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[tool]\nsqlsafe = 5\n", b"`tool.sqlsafe` must be a table"),
        (b"[tool.sqlsafe]\n# caf\xe9\n", b"not valid UTF-8"),
    ],
    ids=["not-a-table", "not-utf-8"],
)
def test_a_bad_pyproject_is_a_config_error_naming_it(
    tmp_path: Path, content: bytes, reason: bytes
) -> None:
    (tmp_path / "pyproject.toml").write_bytes(content)
    (tmp_path / "app.py").write_text(TWO_BUGS)
    result = sqlsafe("check", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert str(tmp_path / "pyproject.toml").encode() in result.stderr
    assert reason in result.stderr
    assert b"bug in sqlsafe" not in result.stderr


@pytest.mark.parametrize("value", ["not a module!", "app..helpers", "app.class", ""])
def test_a_helpers_module_that_is_not_a_module_name_is_rejected(tmp_path: Path, value: str) -> None:
    (tmp_path / "app.py").write_text(TWO_BUGS)
    result = sqlsafe("check", "--fix", "--config", f"helpers-module = '{value}'", cwd=tmp_path)
    assert result.returncode == 2
    assert b"helpers-module" in result.stderr and b"module name" in result.stderr
    assert (tmp_path / "app.py").read_text() == TWO_BUGS


def test_an_unreadable_named_file_is_one_e902_and_the_run_goes_on(tmp_path: Path) -> None:
    """Run as root, permissions stop nothing: the checks and the read fail in the process."""
    (tmp_path / "locked.py").write_text("x = 1\n")
    (tmp_path / "app.py").write_text(TWO_BUGS)
    locked = """\
import os, pathlib
read_bytes = pathlib.Path.read_bytes
def locked(self):
    if self.name == 'locked.py':
        raise PermissionError(13, 'Permission denied')
    return read_bytes(self)
pathlib.Path.read_bytes = locked
access = os.access
os.access = lambda path, mode, **kw: not str(path).endswith('locked.py') and access(path, mode)
"""
    args = ("check", "--no-cache", "--output-format", "concise", "locked.py", "app.py")
    result = _sqlsafe_patched(tmp_path, locked, *args)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "locked.py:1:1: E902: Permission denied" in lines
    assert any(line.startswith("app.py:") and "SQL001" in line for line in lines)


@pytest.mark.parametrize(
    ("source", "where"),
    [
        ("import os\n\nx = 1\ny = 2 \\\n", (4, 8)),
        ("import os\ndef f(:\n    pass\n", (2, 7)),
        ("import os\nx = (1,\n", (2, 5)),
        ("import os\nx = 1\n  y = 2\n", (3, 2)),
    ],
    ids=["trailing-backslash", "bad-parameter", "unclosed-paren", "unexpected-indent"],
)
def test_syntax_errors_are_placed_where_python_places_them(
    tmp_path: Path, source: str, where: tuple[int, int]
) -> None:
    """Where CPython's parser puts them (Ruff 0.17.5 agrees on the line)."""
    path = tmp_path / "m.py"
    path.write_text(source.replace("import os", "from sqlmodel import Session"))
    with pytest.raises(SyntaxError) as python:
        compile(path.read_text(), str(path), "exec")
    assert (python.value.lineno, python.value.offset) == where
    result = sqlsafe("check", "--output-format", "json", "m.py", cwd=tmp_path)
    (diagnostic,) = json.loads(result.stdout)
    assert diagnostic["code"] is None or diagnostic["code"] == "invalid-syntax"
    location = diagnostic["location"]
    assert (location["row"], location["column"]) == where


def test_an_edit_keeping_size_mtime_and_inode_is_checked_again(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(TWO_BUGS)
    old = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(old, old))
    env = {"SQLSAFE_NO_CACHE": "false"}
    before = sqlsafe("check", "--select", "SQL001", "app.py", cwd=tmp_path, env=env)
    assert b"SQL001" in before.stdout
    inode = path.stat().st_ino
    with path.open("r+") as handle:  # in place: the inode stays
        handle.write(TWO_BUGS.replace("return session.exec(text", "return sessiox.exec(text"))
    os.utime(path, ns=(old, old))
    assert (path.stat().st_ino, path.stat().st_size) == (inode, len(TWO_BUGS))
    after = sqlsafe("check", "--select", "SQL001", "app.py", cwd=tmp_path, env=env)
    assert b"SQL001" not in after.stdout, after.stdout
