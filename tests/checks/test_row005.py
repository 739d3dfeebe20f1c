"""ROW005 and the shim guards: each shim form is reported on its guard, the ROW rules stay
quiet about its dead branch, and the fixed function, run against SQLite, returns what the
shim returned."""

import textwrap
from functools import cache
from pathlib import Path

import pytest

from sqlsafe.checks.registry import meta
from sqlsafe.index import ProjectIndex, build_index
from tests.checks.harness import check, fix
from tests.checks.test_row00_sqlite import MODELS, run_programs

ROW_RULES = ["ROW001", "ROW002", "ROW003", "ROW004"]
SELECT = ["ROW005"]
HEADER = """\
import sqlalchemy as sa
from sqlalchemy.engine import Row
from sqlmodel import Session, select
from models import Hero, User
"""


@cache
def index(root: Path = Path("/tmp/sqlsafe-row005-models")) -> ProjectIndex:
    """The index of the project the SQLite programs run in: `models.py` at its root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "models.py").write_text(MODELS)
    return build_index([root / "models.py"], [root])


def program(body: str) -> str:
    return HEADER + textwrap.dedent(body)


# name -> (program, what `run` returns with the shim and after the fix, the fixed function)
SHIMS = {
    "elif-hasattr-field": (
        """
        def run(session: Session):
            result = session.exec(select(User).where(User.email == "a@x.io")).first()
            if result is None: key = None
            elif hasattr(result, "email"): key = result      # already a model
            else: key = result[0]                               # Row tuple
            return key
        """,
        "User",
        """
        def run(session: Session):
            result = session.exec(select(User).where(User.email == "a@x.io")).first()
            if result is None: key = None
            else: key = result      # already a model
            return key
        """,
    ),
    "elif-blocks-keep-comments": (
        """
        def run(session: Session):
            result = session.exec(select(User)).first()
            if result is None:
                return None
            elif not hasattr(result, "_mapping"):  # a model
                # SQLModel gives the model
                return result.email
            else:
                return result[0].email
        """,
        "'a@x.io'",
        """
        def run(session: Session):
            result = session.exec(select(User)).first()
            if result is None:
                return None
            else:  # a model
                # SQLModel gives the model
                return result.email
        """,
    ),
    "dead-if-before-a-live-elif": (
        """
        def run(session: Session):
            emails = []
            for user in session.exec(select(User)).all():
                if hasattr(user, "_mapping"):
                    emails.append(user[0].email)
                # the model
                elif user.email:
                    emails.append(user.email)
                else:
                    emails.append(None)
            return emails
        """,
        "['a@x.io']",
        """
        def run(session: Session):
            emails = []
            for user in session.exec(select(User)).all():
                # the model
                if user.email:
                    emails.append(user.email)
                else:
                    emails.append(None)
            return emails
        """,
    ),
    "elif-never-evaluated": (
        """
        def run(session: Session):
            x = session.exec(select(User)).one()
            if hasattr(x, "email"):
                y = x
            elif undefined_check(x):
                y = None
            return y
        """,
        "User",
        """
        def run(session: Session):
            x = session.exec(select(User)).one()
            y = x
            return y
        """,
    ),
    "unwrap-that-never-runs": (
        """
        def run(session: Session):
            x = session.exec(select(User)).one()
            # old SQLModel gave Rows
            if isinstance(x, Row):  # unwrap
                x = x[0]
            return x
        """,
        "User",
        """
        def run(session: Session):
            x = session.exec(select(User)).one()
            # old SQLModel gave Rows
            return x
        """,
    ),
    "comprehension": (
        """
        def run(session: Session):
            return [r if hasattr(r, "name") else r[0] for r in session.exec(select(Hero)).all()]
        """,
        "[Hero]",
        """
        def run(session: Session):
            return [r for r in session.exec(select(Hero)).all()]
        """,
    ),
    "getitem-on-a-row": (
        """
        def run(session: Session):
            x = session.exec(sa.select(User)).one()
            return x[0].email if hasattr(x, "__getitem__") else x.email
        """,
        "'a@x.io'",
        """
        def run(session: Session):
            x = session.exec(sa.select(User)).one()
            return x[0].email
        """,
    ),
    "isinstance-row-else": (
        """
        def run(session: Session):
            x = session.exec(select(User)).one()
            if isinstance(x, (Row, tuple)):
                user = x[0]
            else:
                # the model itself
                user = x
            return user
        """,
        "User",
        """
        def run(session: Session):
            x = session.exec(select(User)).one()
            # the model itself
            user = x
            return user
        """,
    ),
    "isinstance-model": (
        """
        def run(session: Session):
            rows = session.execute(select(User)).all()
            return [row.email if isinstance(row, User) else row[0].email for row in rows]
        """,
        "['a@x.io']",
        """
        def run(session: Session):
            rows = session.execute(select(User)).all()
            return [row[0].email for row in rows]
        """,
    ),
    "getattr-mapping": (
        """
        def run(session: Session):
            x = session.exec(select(Hero)).one()
            return x._mapping["Hero"].name if getattr(x, "_mapping", None) else x.name
        """,
        "'Spider-Boy'",
        """
        def run(session: Session):
            x = session.exec(select(Hero)).one()
            return x.name
        """,
    ),
    "try-index-on-model": (
        """
        def run(session: Session):
            result = session.exec(select(User)).one()
            try:
                m = result[0]
            except (KeyError, IndexError):
                m = None
            except TypeError:
                m = result  # a model
            return m
        """,
        "User",
        """
        def run(session: Session):
            result = session.exec(select(User)).one()
            m = result  # a model
            return m
        """,
    ),
    "try-index-on-row": (
        """
        def run(session: Session):
            result = session.execute(select(User)).one()
            try:
                m = result[0]
            except TypeError:
                m = result
            else:
                m = m.email
            return m
        """,
        "'a@x.io'",
        """
        def run(session: Session):
            result = session.execute(select(User)).one()
            m = result[0]
            m = m.email
            return m
        """,
    ),
}


@pytest.mark.parametrize("name", SHIMS)
def test_shim_reported_on_its_guard_with_a_safe_fix(name):
    source = program(SHIMS[name][0])
    (diagnostic,) = check(source, SELECT, index=index())
    assert diagnostic.code == "ROW005"
    assert "the query always returns" in diagnostic.message
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "safe"
    assert fix(source, SELECT, index=index()) == program(SHIMS[name][2])


@pytest.mark.parametrize("name", SHIMS)
def test_dead_branch_not_reported_by_the_row_rules(name):
    assert check(program(SHIMS[name][0]), ROW_RULES, index=index()) == []


def test_fixed_shims_return_what_the_shims_returned(tmp_path):
    originals = {name: program(case[0]) for name, case in SHIMS.items()}
    fixed = {name: fix(source, SELECT, index=index()) for name, source in originals.items()}
    before = run_programs(tmp_path / "before", originals)
    after = run_programs(tmp_path / "after", fixed)
    for name, (_, value, _) in SHIMS.items():
        assert before[name] == value, (name, before[name])
        assert after[name] == value, (name, after[name], fixed[name])


def test_what_the_guards_see_at_runtime(tmp_path):
    """The facts the guards are decided by, on a real model, Row and None."""
    probe = program(
        """
        def run(session: Session):
            model = session.exec(select(User)).one()
            row = session.exec(sa.select(User)).one()
            names = ["__getitem__", "_mapping", "_fields", "email", "User"]
            facts = [
                [hasattr(value, name) for name in names]
                + [isinstance(value, Row), isinstance(value, tuple), isinstance(value, User)]
                for value in (model, row, None)
            ]
            try:
                model[0]
            except TypeError as error:
                facts.append(str(error))
            return facts
        """
    )
    (result,) = run_programs(tmp_path / "probe", {"probe": probe}).values()
    assert result == repr(
        [
            [False, False, False, True, False, False, False, True],
            [True, True, True, False, True, True, False, False],
            [False, False, False, False, False, False, False, False],
            "'User' object is not subscriptable",
        ]
    )


# Guards that do not decide: reported by nobody, and the ROW rules judge as before.
UNDECIDED = {
    "row-or-none": """
        def run(session: Session):
            x = session.execute(select(User)).first()
            if isinstance(x, Row):
                x = x[0]
            return x
        """,
    "field-of-an-unknown-model": """
        from other import Thing

        def run(session: Session):
            x = session.exec(select(Thing)).one()
            return x if hasattr(x, "name") else None
        """,
    "statement-passed-in": """
        def run(session: Session, statement):
            x = session.exec(statement).one()
            return x if hasattr(x, "__getitem__") else x
        """,
    "shadowed-hasattr": """
        def run(session: Session, hasattr):
            x = session.exec(select(User)).one()
            return x[0] if hasattr(x, "__getitem__") else x
        """,
    "unknown-exception-class": """
        from errors import Oops

        def run(session: Session):
            x = session.exec(select(User)).one()
            try:
                y = x[0]
            except Oops:
                y = x
            return y
        """,
}


@pytest.mark.parametrize("name", UNDECIDED)
def test_undecided_guards_not_reported(name):
    assert check(program(UNDECIDED[name]), SELECT, index=index()) == []


def test_shadowed_hasattr_leaves_the_row_rule_its_finding():
    codes = [d.code for d in check(program(UNDECIDED["shadowed-hasattr"]), ROW_RULES)]
    assert codes == ["ROW001"]


# Shims whose live code cannot be isolated: reported, no fix.
NO_FIX = {
    "nothing-runs-and-nothing-else-in-the-block": """
        def run(session: Session):
            for x in session.exec(select(User)).all():
                if isinstance(x, Row):
                    x = x[0]
        """,
    "test-with-a-call": """
        def run(session: Session):
            x = session.exec(select(User)).one()
            return x[0] if hasattr(x, "_mapping") and audit() else x
        """,
    "dead-test-with-a-call": """
        def run(session: Session):
            x = session.exec(select(User)).one()
            if audit(x) and hasattr(x, "_mapping"):
                y = x[0]
            else:
                y = x
            return y
        """,
    "handler-binds-the-error": """
        def run(session: Session):
            x = session.exec(select(User)).one()
            try:
                y = x[0]
            except TypeError as error:
                y = x
            return y
        """,
    "try-with-finally": """
        def run(session: Session):
            x = session.exec(select(User)).one()
            try:
                y = x[0]
            except TypeError:
                y = x
            finally:
                session.close()
            return y
        """,
}


@pytest.mark.parametrize("name", NO_FIX)
def test_reported_without_fix(name):
    (diagnostic,) = check(program(NO_FIX[name]), SELECT, index=index())
    assert diagnostic.code == "ROW005" and diagnostic.fix is None


def test_module_level_shim():
    source = program(
        """
        with Session() as session:
            hero = session.exec(select(Hero)).first()
            name = hero.name if hasattr(hero, "name") else hero[0].name
        """
    )
    assert [d.code for d in check(source, SELECT, index=index())] == []
    source = source.replace("first()", "one()")
    (diagnostic,) = check(source, SELECT, index=index())
    assert diagnostic.code == "ROW005"
    assert check(source, ROW_RULES, index=index()) == []


def test_name_and_severity():
    rule = meta("ROW005")
    assert rule.name == "row-model-shim" and rule.severity.value == "warning"


@pytest.mark.parametrize("ending", ["", "\n"])
def test_deleted_statement_at_the_end_of_the_file(ending):
    kept = "with Session() as s:\n    x = s.exec(select(User)).one()\n"
    source = HEADER + kept + "    if isinstance(x, Row):\n        x = x[0]  # unwrap" + ending
    assert fix(source, SELECT, index=index()) == HEADER + kept
