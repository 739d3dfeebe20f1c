"""The pre-filter only saves work: with it and without it a run reports the same.

The fast tests run real projects (the examples, every rule's documented examples) both
ways; the slow ones do the same over downloaded corpora and replay every rule test with a
spy that checks each finding against the pre-filter's promise.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from sqlsafe.checks import registry
from sqlsafe.checks.plan import Plan
from sqlsafe.checks.project import EmptyIndex
from sqlsafe.command import CheckCommand
from sqlsafe.config import Resolver
from sqlsafe.prefilter import mentions_orm, triggered
from tests.engine.libcst_free import check_without_libcst

ROOT = Path(__file__).resolve().parents[2]


def run(project: Path, prefilter: bool, *paths: Path) -> list[tuple[object, ...]]:
    """The run's diagnostics; a syntax error only by file, since its wording comes from
    CPython's parser for a file the pre-filter skips and from libcst's for a parsed one."""
    resolver = Resolver(cwd=project, config_file=None, isolated=False, overrides={}, cli={})
    command = CheckCommand(
        resolver=resolver,
        base=resolver.for_path(project),
        paths=list(paths) or [project],
        use_cache=False,
        prefilter=prefilter,
    )
    return [
        (d.path, d.code, d.start, d.end, d.message, d.fix) if d.is_rule else (d.path, d.code)
        for d in command.run().report.diagnostics
    ]


def same_both_ways(project: Path, *paths: Path) -> list[tuple[object, ...]]:
    filtered = run(project, True, *paths)
    assert filtered == run(project, False, *paths)
    return filtered


# -- the two tests -------------------------------------------------------------------------


def test_libraries_and_index_names_let_a_file_through() -> None:
    assert mentions_orm("import sqlalchemy as sa\n", ())
    assert mentions_orm("from sqlmodel import Session\n", ())
    assert mentions_orm("from alembic import op\n", ())
    assert mentions_orm("from app.db import get_db\n", {"get_db"})
    assert not mentions_orm("import os\nprint(os.sep)\n", {"get_db"})


class _Rule:
    triggers: tuple[str, ...] | None = None

    @classmethod
    def triggers_for(cls, index: object, plan: object = None) -> tuple[str, ...] | None:
        return cls.triggers


class KeysOnExec(_Rule):
    triggers = ("exec", "scalar")


class PromisesNothing(_Rule):
    pass


def test_rules_without_their_triggers_are_left_out() -> None:
    rules: tuple = (KeysOnExec, PromisesNothing)
    index = EmptyIndex()
    assert triggered(rules, "session.exec(stmt)", index) == rules
    assert triggered(rules, "session.scalars(stmt)", index) == rules
    assert triggered(rules, "session.get(User, 1)", index) == (PromisesNothing,)
    assert triggered((KeysOnExec,), "print()", index) == ()


def test_session_rules_key_on_the_projects_factories_and_the_plan(tmp_path: Path) -> None:
    from sqlsafe.checks.plan import Plan, Target
    from sqlsafe.index import build_index

    (tmp_path / "db.py").write_text(
        "from sqlalchemy.orm import sessionmaker\nget_db = sessionmaker()\n"
    )
    index = build_index([tmp_path / "db.py"], [tmp_path])
    owner = "from db import get_db\nwith get_db() as db:\n    pass\n"
    detach, scope = registry.load("DETACH001"), registry.load("SCOPE001")
    assert triggered((detach, scope), owner, EmptyIndex()) == ()
    assert triggered((detach, scope), owner, index) == (detach, scope)

    plan = Plan({"app.load": Target("app.load", "DETACH001", "one", None, False, "app:3")})
    caller = "from app import load\nprint(load().name)\n"
    assert triggered((detach, scope), caller, index) == ()
    assert triggered((detach, scope), caller, index, plan) == (detach,)


def test_declared_triggers_are_words_not_patterns() -> None:
    for code in registry.CODES:
        triggers = registry.load(code).triggers_for(EmptyIndex())
        assert triggers is None or (
            triggers and all(isinstance(t, str) and t.strip() == t != "" for t in triggers)
        ), code


# -- whole runs, both ways -----------------------------------------------------------------


def test_examples_report_the_same(tmp_path: Path) -> None:
    project = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", project)
    assert same_both_ways(project), "the example app holds the incident: findings expected"


def _documented_examples() -> list[tuple[str, int, str]]:
    found = []
    for code in registry.CODES:
        doc = registry.load(code).__doc__ or ""
        blocks = re.findall(r"```python\n(.*?)```", textwrap.dedent(doc), re.S)
        found += [(code, number, block) for number, block in enumerate(blocks)]
    return found


def test_documented_examples_report_the_same(tmp_path: Path) -> None:
    """Each rule's `## Example` (what it reports) and `Use instead` blocks, each a module of
    one project next to the example models, so that model names resolve."""
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples", project)
    package = project / "documented"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for code, number, block in _documented_examples():
        (package / f"{code.lower()}_{number}.py").write_text(block)
    found = same_both_ways(project)
    assert {code for _, code, *_ in found} & set(registry.CODES)


def test_a_file_the_prefilter_skips_still_reports_its_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("def broken(:\n")
    (tmp_path / "orm.py").write_text("import sqlalchemy\ndef broken(:\n")
    found = same_both_ways(tmp_path)
    assert sorted((Path(str(path)).name, code) for path, code, *_ in found) == [
        ("orm.py", "invalid-syntax"),
        ("plain.py", "invalid-syntax"),
    ]


def test_no_libcst_when_no_file_passes(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text("import os\nprint(os.sep)\n")
    result = check_without_libcst(tmp_path, "--no-cache", code=0)
    assert result.returncode == 0, result.stderr


# -- slow: real corpora and every rule test ------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["sqlmodel", "fastapi-users-db-sqlmodel", "zenml", "apache-airflow-core"]
)
def test_corpus_reports_the_same(name: str, tmp_path: Path) -> None:
    from benchmarks.corpora import fetch

    # Copied out of the repository: `.corpora/` is gitignored, so discovery would skip it.
    project = tmp_path / name
    shutil.copytree(fetch(name), project)
    same_both_ways(project)


class Spy:
    """Checks every finding of the rule tests against the pre-filter's promise."""

    def __init__(self) -> None:
        self.calls = 0
        self.broken: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        from tests.checks import harness

        original = harness.check_source

        def spied(text, path, module_name, selection, index, display_path=None, plan=None):  # type: ignore[no-untyped-def]
            result = original(text, path, module_name, selection, index, display_path, plan)
            self.calls += 1
            self.check(text, selection.rules, index, plan, result.diagnostics)
            return result

        harness.check_source = spied  # type: ignore[assignment]

    def check(self, text: str, rules, index, plan, diagnostics) -> None:  # type: ignore[no-untyped-def]
        found = {d.code for d in diagnostics if d.is_rule}
        if not found:
            return
        kept = {rule.code for rule in triggered(rules, text, index, plan)}
        if found - kept:
            self.broken.append(f"{sorted(found - kept)} lack their triggers in:\n{text}")
        names = _index_names(index, plan)
        if names is not None and not mentions_orm(text, names):
            self.broken.append(f"{sorted(found)} in a file the first test skips:\n{text}")


def _index_names(index: object, plan: Plan | None) -> frozenset[str] | None:
    """What a run would know of this index and plan, or None for a stand-in without names."""
    from sqlsafe.checks.project import EmptyIndex

    if isinstance(index, EmptyIndex):
        return frozenset()
    parts = ("model_names", "factory_names", "alias_names")
    if not all(hasattr(index, part) for part in parts):
        return None
    names = frozenset().union(*(getattr(index, part) for part in parts))
    return names | plan.names() if plan is not None else names


@pytest.mark.slow
def test_every_finding_of_the_rule_tests_passes_the_prefilter() -> None:
    spy = Spy()
    code = pytest.main(
        [str(ROOT / "tests" / "checks"), "-q", "-m", "not slow", "-p", "no:cacheprovider"],
        plugins=[spy],
    )
    assert code == 0
    assert spy.calls > 100
    assert spy.broken == []
