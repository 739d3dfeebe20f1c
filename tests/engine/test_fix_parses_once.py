"""A fix run with nothing to fix costs what a check does: in a run of many files the DETACH
plan is made from what the checks told, so no file is parsed a second time for it (a fix run
that planned first parsed every file that may own a session twice)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import libcst
import pytest

from sqlsafe.command import CheckCommand
from sqlsafe.config import Resolver
from sqlsafe.runner import POOL_THRESHOLD
from tests.checks.detach_models import MODELS

# Owns a session, so the DETACH planner must look at it; returns no ORM instance, so there
# is nothing to fix.
REPORTS = """
from sqlmodel import Session, select

from app.models import User


def count_users(engine):
    with Session(engine) as session:
        return len(session.exec(select(User)).all())
"""


def parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fix: bool) -> Counter[str]:
    real = libcst.parse_module
    parsed: Counter[str] = Counter()

    def counted(source: str, *args: object, **kwargs: object) -> libcst.Module:
        parsed[source] += 1
        return real(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(libcst, "parse_module", counted)
    monkeypatch.chdir(tmp_path)
    resolver = Resolver(cwd=tmp_path, cli={"fix": fix})
    command = CheckCommand(
        resolver=resolver,
        base=resolver.for_path(tmp_path),
        paths=[tmp_path / "app"],
        jobs=1,
        use_cache=False,
    )
    outcome = command.run()
    assert not outcome.report.fixed
    assert not any(result.changed for result in outcome.outcomes)
    monkeypatch.setattr(libcst, "parse_module", real)
    return parsed


def test_a_fix_run_with_nothing_to_fix_parses_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    (package / "reports.py").write_text(REPORTS)
    for number in range(POOL_THRESHOLD):
        (package / f"filler_{number}.py").write_text(f"VALUE = {number}\n")

    checked = parses(tmp_path, monkeypatch, fix=False)
    fixed = parses(tmp_path, monkeypatch, fix=True)
    assert REPORTS in fixed
    assert fixed == checked
    assert set(fixed.values()) == {1}
