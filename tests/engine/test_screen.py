"""The syntactic screen only saves work: with it and without it a run reports and fixes the
same. Every rule test checks it too (`tests/checks/harness.py`); here whole projects, and
the shapes where CPython's tree and libcst's differ."""

from __future__ import annotations

import ast
import shutil
import textwrap
from pathlib import Path

import pytest

from sqlsafe.checks import registry
from sqlsafe.checks.project import EmptyIndex
from sqlsafe.command import CheckCommand
from sqlsafe.config import Resolver
from sqlsafe.screen import Syntax, screened

ROOT = Path(__file__).resolve().parents[2]


def run(project: Path, screen: bool, diff: bool) -> tuple[str, int]:
    """What the run prints as JSON (with every diff first, for `--diff --unsafe-fixes`)."""
    cli: dict[str, object] = {"output-format": "json"}
    if diff:
        cli["unsafe-fixes"] = True
    resolver = Resolver(cwd=project, config_file=None, isolated=True, overrides={}, cli=cli)
    command = CheckCommand(
        resolver=resolver,
        base=resolver.for_path(project),
        paths=[project],
        diff=diff,
        use_cache=False,
        screen=screen,
    )
    outcome = command.run()
    return outcome.render(summary=False), len(outcome.report.diagnostics)


def same_both_ways(project: Path, diff: bool = False) -> tuple[str, int]:
    screened_run = run(project, True, diff)
    assert screened_run == run(project, False, diff)
    return screened_run


@pytest.mark.parametrize("diff", [False, True])
def test_examples_report_and_fix_the_same(tmp_path: Path, diff: bool) -> None:
    project = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", project)
    printed, found = same_both_ways(project, diff)
    if diff:
        assert printed.startswith("---"), "the example app's fixes: a diff expected"
    else:
        assert found, "the example app holds the incident: findings expected"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "diff"),
    [
        ("sqlmodel", False),
        ("sqlmodel", True),
        ("zenml", False),
        ("zenml", True),
        ("apache-airflow-core", False),
        ("langflow-base", False),
        ("mlflow", False),
        ("open-webui", False),
    ],
)
def test_corpus_reports_and_fixes_the_same(name: str, diff: bool, tmp_path: Path) -> None:
    from benchmarks.corpora import fetch

    # Copied out of the repository: `.corpora/` is gitignored, so discovery would skip it.
    project = tmp_path / name
    shutil.copytree(fetch(name), project)
    same_both_ways(project, diff)


# -- where the two parsers' trees differ -----------------------------------------------------


def syntax(code: str, module_name: str = "app.snippet") -> Syntax:
    return Syntax(ast.parse(textwrap.dedent(code)), module_name, False, EmptyIndex())


def test_a_one_element_tuple_index_is_index_zero() -> None:
    # libcst reads `row[0,]` as one subscript element `0`, as it does `row[0]`.
    assert syntax("row[0,]\n").zero_index
    assert syntax("row[0]\n").zero_index
    assert not syntax("row[0, 1]\nrow[False]\nrow[1]\n").zero_index


def test_true_is_no_integer_argument() -> None:
    # `result.scalars(0)` is the Result method; `session.scalars(True)` is not.
    built = "from sqlalchemy import select as query\nstatement = query(Hero)\n"
    assert not syntax(built + "result.scalars(0)\n").runs_statement()
    assert syntax(built + "session.scalars(True)\n").runs_statement()
    assert not syntax(built + "session.exec(*statements)\nsession.exec(s, **kw)\n").runs_statement()
    assert not syntax("session.scalars(statement)\n").runs_statement(), "nothing builds one"


def test_a_session_maker_under_any_name_is_followed() -> None:
    owns = syntax(
        """
        from sqlalchemy.orm import sessionmaker as maker

        make = maker()

        def load():
            with make() as db:
                return db
        """
    )
    assert owns.may_own_session()
    assert not syntax("with open(path) as f:\n    data = f.read()\n").may_own_session()


def test_a_session_parameter_is_followed() -> None:
    async_parameter = "from sqlalchemy.ext.asyncio import AsyncSession as S\n"
    assert syntax(async_parameter + "async def f(s: S | None):\n    pass\n").may_own_session()
    assert not syntax("async def f(s: int):\n    pass\n").may_own_session()


def test_a_factory_reexported_under_another_name_is_followed(tmp_path: Path) -> None:
    from sqlsafe.index import build_index

    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("from .db import get_db as database\n")
    (package / "db.py").write_text(
        "from sqlalchemy.orm import sessionmaker\nget_db = sessionmaker()\n"
    )
    index = build_index([package / "__init__.py", package / "db.py"], [tmp_path])
    code = "from app import database\nwith database() as s:\n    pass\n"
    found = Syntax(ast.parse(code), "app.users", False, index)
    assert found.may_own_session()
    assert not syntax(code, "app.users").may_own_session()


def test_a_file_ast_rejects_is_not_screened() -> None:
    rules = tuple(registry.load(code) for code in registry.CODES)
    assert screened(rules, "def broken(:\n", Path("a.py"), "a", EmptyIndex()) == (rules, None)
    assert screened(rules, "print('nothing')\n", Path("a.py"), "a", EmptyIndex()) == ((), None)


def test_scope_keeps_a_read_after_the_block_and_not_one_inside() -> None:
    scope = registry.load("SCOPE001")
    inside = """
        from sqlmodel import Session

        def name(engine, key):
            with Session(engine) as session:
                hero = session.get(Hero, key)
                return hero.name
        """
    assert not scope.screen(syntax(inside))
    after = inside.replace("        return hero.name", "    return hero.name")
    assert scope.screen(syntax(after))
    closed = inside.replace("return hero.name", "session.close()\n            return hero.name")
    assert scope.screen(syntax(closed))
    asynchronous = inside.replace("with", "async with").replace(
        "from sqlmodel import Session", "from sqlalchemy.ext.asyncio import AsyncSession as Session"
    )
    assert scope.screen(syntax(asynchronous))


def test_detach_keeps_a_function_that_returns_what_its_session_gave() -> None:
    detach = registry.load("DETACH001")
    returns = """
        from sqlmodel import Session

        def load(engine, key):
            with Session(engine) as session:
                return session.get(Hero, key)

        def count():
            return len(heroes)
        """
    assert detach.screen(syntax(returns))
    built = returns.replace("return session.get(Hero, key)", "return Hero(id=key)")
    assert not detach.screen(syntax(built))
