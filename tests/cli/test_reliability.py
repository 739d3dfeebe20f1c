"""What a run promises when something goes wrong: a rule that fails, odd input on stdin,
bad settings, unreadable files. Real processes, real files."""

from __future__ import annotations

import subprocess
import sys
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


def _run_with_failing_rule(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`sqlsafe ARGS` with SQL001 raising on every call it visits: an internal error."""
    script = (
        "import sys\n"
        "from sqlsafe.checks import sql001_exec_params as rule\n"
        "def explode(self, node):\n"
        "    raise RuntimeError('kaboom')\n"
        "rule.RULE.visit_Call = explode\n"
        "from sqlsafe.cli import main\n"
        f"sys.argv = ['sqlsafe', *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )


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
