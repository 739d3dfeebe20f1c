"""What a run promises when something goes wrong: a rule that fails, odd input on stdin,
bad settings, unreadable files. Real processes, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
