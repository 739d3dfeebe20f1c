import textwrap

import pytest

from sqlsafe.checks.project import EmptyIndex
from sqlsafe.checks.registry import load
from tests.checks.harness import check, codes, fix

SELECT = ["ROW001"]

HEADER = """
from sqlmodel import Session, select
from models import User, Team, Hero
"""


def snippet(body: str, header: str = HEADER) -> str:
    return textwrap.dedent(header) + textwrap.dedent(body)


# Programs that run against SQLite in test_row00_sqlite.py: the original raises, the fixed
# code returns the model. (source, error of the original, value of the fixed code, unsafe)
RUNTIME = {
    "direct-first": (
        snippet(
            """
            def run(session: Session):
                return session.exec(select(User).where(User.email == "a@x.io")).first()[0]
            """
        ),
        "TypeError: 'User' object is not subscriptable",
        "User",
        False,
    ),
    "incident": (
        snippet(
            """
            def run(session: Session):
                statement = select(User)
                statement = statement.where(User.email == "a@x.io")
                row = session.exec(statement).first()
                return row[0] if row else None
            """
        ),
        "TypeError: 'User' object is not subscriptable",
        "User",
        False,
    ),
    "is-not-none": (
        snippet(
            """
            def run(session: Session):
                row = session.exec(select(User).order_by(User.id).limit(1)).first()
                return row[0] if row is not None else None
            """
        ),
        "TypeError",
        "User",
        False,
    ),
    "one-through-result": (
        snippet(
            """
            def run(session: Session):
                result = session.exec(select(User).where(User.id == 1))
                return result.one()[0]
            """
        ),
        "TypeError",
        "User",
        False,
    ),
    "one-or-none-module-statement": (
        snippet(
            """
            BY_EMAIL = select(User).where(User.email == "a@x.io")

            def run(session: Session):
                return session.exec(BY_EMAIL).one_or_none()[0]
            """
        ),
        "TypeError",
        "User",
        False,
    ),
    "execute-scalars": (
        snippet(
            """
            def run(session: Session):
                return session.execute(select(User)).scalars().first()[0]
            """
        ),
        "TypeError",
        "User",
        False,
    ),
    "session-scalars-and-scalar": (
        snippet(
            """
            def run(session: Session):
                first = session.scalars(select(User)).first()[0]
                return session.scalar(select(User).where(User.id == first.id))[0]
            """
        ),
        "TypeError",
        "User",
        False,
    ),
    "async-awaited": (
        snippet(
            """
            async def run(session: AsyncSession):
                return (await session.exec(select(User))).first()[0]
            """,
            HEADER + "from sqlmodel.ext.asyncio.session import AsyncSession\n",
        ),
        "TypeError",
        "User",
        False,
    ),
    "async-variable": (
        snippet(
            """
            async def run(session: AsyncSession):
                result = await session.exec(select(User))
                row = result.first()
                return row[0] if row else None
            """,
            HEADER + "from sqlmodel.ext.asyncio.session import AsyncSession\n",
        ),
        "TypeError",
        "User",
        False,
    ),
    "unresolved-select-helper": (
        snippet(
            """
            def run(session: Session):
                return session.exec(select(User).where(User.id == 1)).first()[0]
            """,
            "from sqlmodel import Session\nfrom reexports import select\nfrom models import User\n",
        ),
        "TypeError",
        "User",
        True,
    ),
    "sqlmodel-or-sqlalchemy-helper": (
        snippet(
            """
            import sqlalchemy

            def run(session: Session, legacy: bool = False):
                if legacy:
                    statement = sqlalchemy.select(User)
                else:
                    statement = select(User)
                return session.exec(statement).first()[0]
            """
        ),
        "TypeError",
        "User",
        True,
    ),
}

FIXED = {
    "direct-first": 'return session.exec(select(User).where(User.email == "a@x.io")).first()\n',
    "incident": "row = session.exec(statement).first()\n    return row\n",
    "is-not-none": "    return row\n",
    "one-through-result": "return result.one()\n",
    "one-or-none-module-statement": "return session.exec(BY_EMAIL).one_or_none()\n",
    "execute-scalars": "return session.execute(select(User)).scalars().first()\n",
    "session-scalars-and-scalar": "first = session.scalars(select(User)).first()\n"
    "    return session.scalar(select(User).where(User.id == first.id))\n",
    "async-awaited": "return (await session.exec(select(User))).first()\n",
    "async-variable": "    return row\n",
    "unresolved-select-helper": "from sqlsafe.helpers import query_one\n",
    "sqlmodel-or-sqlalchemy-helper": "return query_one(session, statement, User)\n",
}

NOT_FLAGGED = {
    "execute": "session.execute(select(User)).first()[0]",
    "sqlalchemy-select": "session.exec(sqlalchemy.select(User)).first()[0]",
    "sqlalchemy-future-select": "session.exec(future_select(User)).first()[0]",
    "two-columns": "session.exec(select(User.id, User.email)).first()[0]",
    "two-entities": "session.exec(select(Hero, Team).join(Team)).first()[0]",
    "text": 'session.exec(text("select id, email from user")).first()[0]',
    "all-then-index": "session.exec(select(User)).all()[0]",
    "one-column": "session.exec(select(User.email)).first()[0]",
    "function-of-a-column": "session.exec(select(func.count(User.id))).one()[0]",
    "add-columns": "session.exec(select(User).add_columns(Team.name)).first()[0]",
    "constant-argument": "session.exec(select(USERS)).first()[0]",
    "not-zero": "session.exec(select(User)).first()[1:]",
    "attribute-of-model": "session.exec(select(User)).first().email",
}

NOT_FLAGGED_FUNCTIONS = {
    "statement-passed-in": """
        def f(session: Session, stmt):
            return session.exec(stmt).first()[0]
        """,
    "statement-from-another-function": """
        def f(session: Session):
            stmt = build_statement()
            row = session.exec(stmt).first()
            return row[0] if row else None
        """,
    "model-passed-in": """
        def f(session: Session, Model):
            return session.exec(select(Model)).first()[0]
        """,
    "reassigned-to-execute": """
        def f(session: Session):
            row = session.exec(select(User)).first()
            print(row.email)
            row = session.execute(select(User)).first()
            return row[0]
        """,
    "maybe-unknown-branch": """
        def f(session: Session, other):
            stmt = select(User) if other is None else other
            return session.exec(stmt).first()[0]
        """,
    "sqlalchemy-session-has-no-exec": """
        from sqlalchemy.orm import Session as SASession
        def f(session: SASession):
            return session.exec(select(User)).first()[0]
        """,
    "async-not-awaited": """
        from sqlmodel.ext.asyncio.session import AsyncSession
        async def f(session: AsyncSession):
            return session.exec(select(User)).first()[0]
        """,
    "rebound-in-a-loop": """
        def f(session: Session, ids):
            row = None
            for i in ids:
                if row:
                    print(row[0])
                row = session.exec(select(User).where(User.id == i)).first()
        """,
    "local-class-is-not-the-model": """
        def f(session: Session):
            User = make_model()
            return session.exec(select(User)).first()[0]
        """,
}

FLAGGED = {
    "import-sqlmodel-as": """
        import sqlmodel as sm
        def f(session):
            return session.exec(sm.select(models.User)).first()[0]
        """,
    "select-alias": """
        from sqlmodel import select as sel
        def f(session):
            return session.exec(sel(User)).one()[0]
        """,
    "class-defined-here": """
        class Account(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
        def f(session: Session):
            return session.exec(select(Account)).first()[0]
        """,
    "module-level-code": """
        with Session(engine) as session:
            row = session.exec(select(User)).first()
            print(row[0])
        """,
    "closure-statement": """
        def f(session: Session):
            stmt = select(User).options(selectinload(User.team))
            def g():
                return session.exec(stmt).first()[0]
            return g()
        """,
    "loop-body-definition": """
        def f(session: Session, ids):
            for i in ids:
                row = session.exec(select(User).where(User.id == i)).first()
                print(row[0])
        """,
    "walrus": """
        def f(session: Session):
            if (row := session.exec(select(User)).first()) is not None:
                return row[0]
        """,
}

FULL_HEADER = """
import sqlalchemy
from sqlalchemy.future import select as future_select
from sqlmodel import Field, Session, SQLModel, func, select, text
from app import models
from app.models import USERS, Hero, Team, User
"""


@pytest.mark.parametrize("name", RUNTIME)
def test_flagged_and_fixed(name):
    source, _, _, unsafe = RUNTIME[name]
    diagnostics = check(source, SELECT)
    assert diagnostics and {d.code for d in diagnostics} == {"ROW001"}
    for diagnostic in diagnostics:
        assert diagnostic.fix is not None
        assert diagnostic.fix.applicability.value == ("unsafe" if unsafe else "safe")
    if unsafe:
        assert fix(source, SELECT) == source, "an unsafe fix applied without --unsafe-fixes"
    assert FIXED[name] in fix(source, SELECT, unsafe=unsafe)


def test_incident_fix_exactly():
    source = RUNTIME["incident"][0]
    assert fix(source, SELECT) == source.replace("return row[0] if row else None", "return row")


def test_helper_fix_exactly():
    source = RUNTIME["unresolved-select-helper"][0]
    assert fix(source, SELECT, unsafe=True) == (
        "from sqlmodel import Session\nfrom reexports import select\nfrom models import User\n"
        "from sqlsafe.helpers import query_one\n\n"
        "def run(session: Session):\n"
        "    return query_one(session, select(User).where(User.id == 1), User)\n"
    )


def test_helper_module_is_configurable():
    from sqlsafe.checks.base import RuleSettings

    source = RUNTIME["unresolved-select-helper"][0]
    fixed = fix(source, SELECT, unsafe=True, settings=RuleSettings(helpers_module="app.db_helpers"))
    assert "from app.db_helpers import query_one\n" in fixed


@pytest.mark.parametrize("expression", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_correct_look_alikes_not_flagged(expression):
    code = FULL_HEADER + f"def f(session: Session):\n    return {expression}\n"
    assert codes(code, ["ROW001", "ROW002", "ROW003", "ROW004"]) == []


@pytest.mark.parametrize("code", NOT_FLAGGED_FUNCTIONS.values(), ids=NOT_FLAGGED_FUNCTIONS.keys())
def test_unprovable_not_flagged(code):
    assert codes(FULL_HEADER + textwrap.dedent(code), SELECT) == []


@pytest.mark.parametrize("code", FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged(code):
    assert codes(FULL_HEADER + textwrap.dedent(code), SELECT) == ["ROW001"]


@pytest.mark.parametrize(("library", "expected"), [("sqlmodel", ["ROW001"]), ("sqlalchemy", [])])
def test_star_import(library, expected):
    code = f"""
        from {library} import *
        from app.models import Account
        def f(session):
            return session.exec(select(Account)).first()[0]
        """
    assert codes(code, SELECT) == expected


def test_possible_bug_without_direct_form_has_no_fix():
    code = """
        from sqlmodel import Session
        from reexports import select
        from models import User
        def f(session: Session):
            row = session.exec(select(User)).first()
            return row[0] if row else None
        """
    (diagnostic,) = check(code, SELECT)
    assert diagnostic.fix is None
    assert "may be the model" in diagnostic.message


def test_one_has_no_helper_fix():
    # query_one keeps `.first()` semantics; `.one()` raises on zero or many rows.
    code = """
        from sqlmodel import Session
        from reexports import select
        from models import User
        def f(session: Session):
            return session.exec(select(User)).one()[0]
        """
    (diagnostic,) = check(code, SELECT)
    assert diagnostic.fix is None


def test_index_decides_what_is_a_model():
    class Model:
        qualname = "app.models.account"
        primary_key = ("id",)
        columns = frozenset({"id"})
        relationships = frozenset()
        deferred = frozenset()

    class Index(EmptyIndex):
        def model(self, qualname):
            return Model() if qualname == "app.models.account" else None

        def factory(self, qualname):
            return None

        def alias(self, qualname):
            return "sqlmodel.select" if qualname == "app.db.select" else None

    code = """
        from sqlmodel import Session
        from app.db import select
        from app.models import account
        def f(session: Session):
            return session.exec(select(account)).first()[0]
        """
    assert codes(code, SELECT) == []
    (diagnostic,) = check(code, SELECT, index=Index())
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "safe"


def test_position_of_the_report():
    (diagnostic,) = check(RUNTIME["incident"][0], SELECT)
    assert (diagnostic.start.row, diagnostic.start.column) == (9, 12)
    assert (diagnostic.end.row, diagnostic.end.column) == (9, 18)


def test_name():
    assert load("ROW001").name == "index-on-model-result"
