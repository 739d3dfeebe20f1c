"""A multi-file fix is all or nothing to its user: a run stopped after its first write
leaves a journal that the next check reports and the next fix completes.

The project is a cross-file DETACH migration: `create()` in one file is converted to return
a dict and its caller in another file is migrated with it; half of it breaks the program.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqlsafe.command import CheckCommand
from sqlsafe.config import Resolver
from sqlsafe.journal import Journal
from sqlsafe.sealing import KEY_DIR_ENV
from tests.checks.detach_models import MODELS
from tests.checks.test_detach_migration import project as migration_project
from tests.checks.test_detach_migration import run_main

CALLER = """
from app.accounts import create

plain = create("a@x.io")
print(plain.id, getattr(plain, "email"))
"""
# The writes go through `os.replace`, whatever sqlsafe's version: kill the run right after
# its first fixed file.
KILLED_AFTER_FIRST_WRITE = """
import os, signal, sys
real = os.replace
def replace(source, target, *args, **kwargs):
    real(source, target, *args, **kwargs)
    if str(target).endswith(".py"):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from sqlsafe.cli import main
sys.argv = ["sqlsafe", *sys.argv[1:]]
main()
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "user-cache"))
    monkeypatch.delenv("SQLSAFE_NO_CACHE", raising=False)
    root = tmp_path / "project"
    root.mkdir()
    migration_project(root, CALLER)
    return root


def sqlsafe(root: Path, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
    command = ["-c", script] if script is not None else ["-m", "sqlsafe"]
    return subprocess.run(
        [sys.executable, *command, *args], cwd=root, capture_output=True, text=True, timeout=120
    )


def test_a_fix_killed_after_its_first_write_is_reported_then_completed(project: Path) -> None:
    killed = sqlsafe(project, "fix", "--unsafe-fixes", script=KILLED_AFTER_FIRST_WRITE)
    assert killed.returncode == -9
    assert "model_to_dict" in (project / "app" / "accounts.py").read_text()
    assert "AttributeError" in run_main(project).stderr  # half migrated: broken

    check = sqlsafe(project, "check", "--output-format", "concise")
    assert check.returncode == 2
    assert "All checks passed!" not in check.stdout
    assert "app/main.py:1:1: E902: An interrupted fix run did not write this file" in check.stdout
    assert (
        "error: An interrupted fix run left 1 file(s) unwritten; "
        "run `sqlsafe fix` to complete it" in check.stderr
    )

    completed = sqlsafe(project, "fix")
    assert "Wrote app/main.py (an interrupted fix run had not)" in completed.stderr
    assert run_main(project).stdout == "1 a@x.io\n"
    again = sqlsafe(project, "check", "--select", "DETACH002")
    assert (again.returncode, again.stdout) == (0, "All checks passed!\n")


def interrupt_fix(project: Path, monkeypatch: pytest.MonkeyPatch, after: int) -> list[str]:
    """Ctrl-C after `after` files are written: the exit code is 130, stderr is returned."""
    from sqlsafe import writer

    real = writer.replace
    calls: list[Path] = []

    def interrupted(path: Path, *args: object) -> None:
        if len(calls) == after:
            raise KeyboardInterrupt
        calls.append(path)
        real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "replace", interrupted)
    monkeypatch.chdir(project)
    resolver = Resolver(cwd=project, cli={"fix": True, "unsafe-fixes": True})
    outcome = CheckCommand(
        resolver=resolver, base=resolver.for_path(project), paths=[project]
    ).run()
    assert outcome.exit_code(False, False) == 130
    return outcome.stderr


def test_ctrl_c_between_writes_says_what_was_written(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert interrupt_fix(project, monkeypatch, after=1)[-3:] == [
        "Interrupted: wrote 1 of 2 files:",
        "  app/accounts.py",
        "Run `sqlsafe fix` to write the rest.",
    ]
    journal = Journal(project / ".sqlsafe_cache", str(project))
    assert [entry.path.name for entry in journal.pending()] == ["main.py"]


def test_ctrl_c_before_the_first_write_leaves_nothing_to_complete(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {path: path.read_text() for path in project.rglob("*.py")}
    assert interrupt_fix(project, monkeypatch, after=0)[-1] == "Interrupted: wrote 0 of 2 files."
    assert not Journal(project / ".sqlsafe_cache", str(project)).path.exists()
    assert {path: path.read_text() for path in project.rglob("*.py")} == before


def test_a_journal_not_sealed_by_this_user_is_ignored(project: Path) -> None:
    """A journal committed to the repository must not make `sqlsafe fix` write anything."""
    journal = Journal(project / ".sqlsafe_cache", str(project))
    journal.path.parent.mkdir()
    target = project / "app" / "models.py"
    forged = {"path": str(target), "before": "", "after": "", "data": "eA=="}
    journal.path.write_text(json.dumps({"files": [forged]}))
    assert journal.entries() == []
    assert sqlsafe(project, "fix", "--select", "SQL001").returncode == 0
    assert target.read_text() == MODELS
    assert os.path.exists(journal.path)  # not ours to delete either


def test_a_completion_that_fails_again_is_not_a_pass(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_fix(project, monkeypatch, after=1)
    monkeypatch.undo()
    monkeypatch.chdir(project)
    monkeypatch.setenv(KEY_DIR_ENV, str(project.parent / "user-cache"))

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    resolver = Resolver(cwd=project, cli={"fix": True, "output-format": "concise"})
    outcome = CheckCommand(resolver=resolver, base=resolver.for_path(project), paths=[]).run()
    assert outcome.exit_code(False, False) == 2
    assert "error: Failed to write app/main.py: No space left on device" in outcome.stderr
    report = outcome.render(summary=True)
    assert "All checks passed!" not in report
    assert report.startswith("app/main.py:1:1: E902: An interrupted fix run did not write")
