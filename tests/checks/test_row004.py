import textwrap

import pytest

from sqlsafe.checks.project import EmptyIndex
from tests.checks.harness import check, codes, fix
from tests.checks.test_row001 import FULL_HEADER, snippet

SELECT = ["ROW004"]
SQLALCHEMY_HEADER = """
import sqlalchemy as sa
from sqlalchemy.orm import Session
from models import User, Team
"""

RUNTIME = {
    "execute-first": (
        snippet(
            """
            def run(session: Session):
                return session.execute(select(User).where(User.id == 1)).first().email
            """
        ),
        "AttributeError: email",
        "'a@x.io'",
        False,
    ),
    "variable-with-truth-test": (
        snippet(
            """
            def run(session: Session):
                user = session.execute(select(User)).first()
                return user.email if user is not None else None
            """
        ),
        "AttributeError",
        "'a@x.io'",
        False,
    ),
    "exec-sqlalchemy-select": (
        snippet(
            """
            def run(session: Session):
                return session.exec(sa.select(User)).one().team.name
            """,
            "import sqlalchemy as sa\nfrom sqlmodel import Session\nfrom models import User\n",
        ),
        "AttributeError: team",
        "'Preventers'",
        False,
    ),
    "sqlalchemy-session-loop": (
        snippet(
            """
            def run(session: Session):
                emails = []
                for user in session.execute(sa.select(User).order_by(User.id)):
                    emails.append(user.email)
                return emails
            """,
            SQLALCHEMY_HEADER,
        ),
        "AttributeError",
        "['a@x.io']",
        False,
    ),
    "comprehension": (
        snippet(
            """
            def run(session: Session):
                return [user.email for user in session.execute(sa.select(User)).all()]
            """,
            SQLALCHEMY_HEADER,
        ),
        "AttributeError",
        "['a@x.io']",
        False,
    ),
    "async-bare-await": (
        snippet(
            """
            async def run(session: AsyncSession):
                result = await session.execute(select(User))
                user = result.first()
                return user.email
            """,
            "from sqlmodel import select\n"
            "from sqlmodel.ext.asyncio.session import AsyncSession\n"
            "from models import User\n",
        ),
        "AttributeError",
        "'a@x.io'",
        True,
    ),
    "async-parenthesised-await": (
        snippet(
            """
            async def run(session: AsyncSession):
                user = (await session.execute(select(User))).first()
                return user.email
            """,
            "from sqlmodel import select\n"
            "from sqlmodel.ext.asyncio.session import AsyncSession\n"
            "from models import User\n",
        ),
        "AttributeError",
        "'a@x.io'",
        False,
    ),
    "returned-too": (
        snippet(
            """
            def run(session: Session):
                user = session.execute(select(User)).first()
                print(user.email)
                return user
            """
        ),
        "AttributeError",
        "User",
        True,
    ),
}

FIXED = {
    "execute-first": ".where(User.id == 1)).scalars().first().email\n",
    "variable-with-truth-test": "user = session.execute(select(User)).scalars().first()\n",
    "exec-sqlalchemy-select": "return session.exec(sa.select(User)).scalars().one().team.name\n",
    "sqlalchemy-session-loop": "session.execute(sa.select(User).order_by(User.id)).scalars():",
    "comprehension": "session.execute(sa.select(User)).scalars().all()]\n",
    "async-bare-await": "result = (await session.execute(select(User))).scalars()\n",
    "async-parenthesised-await": "user = (await session.execute(select(User))).scalars().first()\n",
    "returned-too": "user = session.execute(select(User)).scalars().first()\n",
}

NOT_FLAGGED = {
    "multi-column-row-key": "row = session.execute(select(User.id, User.email)).first()\n"
    "    return row.email",
    "scalars-first": "return session.execute(select(User)).scalars().first().email",
    "entity-key": "return session.execute(select(User)).first().User",
    "row-api": "row = session.execute(select(User)).first()\n"
    "    return row._mapping, row.count, row.index, row.t, row.tuple()",
    "text": 'return session.execute(text("select email from user")).first().email',
    "one-column": "return session.execute(select(User.email)).first().email",
    "two-entities": "return session.execute(select(User, Team)).first().email",
    "sqlmodel-exec": "return session.exec(select(User)).first().email",
    "passed-in": "return session.execute(stmt).first().email",
}


@pytest.mark.parametrize("name", RUNTIME)
def test_flagged_and_fixed(name):
    source, _, _, unsafe = RUNTIME[name]
    diagnostics = check(source, SELECT)
    assert diagnostics and {d.code for d in diagnostics} == {"ROW004"}
    for diagnostic in diagnostics:
        assert diagnostic.fix is not None
        assert diagnostic.fix.applicability.value == ("unsafe" if unsafe else "safe")
    if unsafe:
        assert fix(source, SELECT) == source
    assert FIXED[name] in fix(source, SELECT, unsafe=unsafe)


@pytest.mark.parametrize("body", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_correct_look_alikes_not_flagged(body):
    code = FULL_HEADER + f"def f(session: Session, stmt):\n    {body}\n"
    assert codes(code, ["ROW001", "ROW002", "ROW003", "ROW004"]) == []


def test_row_used_as_row_elsewhere_gets_no_fix():
    code = snippet(
        """
        def f(session: Session):
            row = session.execute(select(User)).first()
            print(row.email)
            return row[0]
        """
    )
    (diagnostic,) = check(code, SELECT)
    assert diagnostic.fix is None


def test_value_from_several_queries_gets_no_fix():
    code = snippet(
        """
        def f(session: Session, flag: bool):
            if flag:
                row = session.execute(select(User)).first()
            else:
                row = session.execute(select(User).limit(1)).first()
            return row.email
        """
    )
    (diagnostic,) = check(code, SELECT)
    assert diagnostic.fix is None


def test_unresolved_select_not_reported():
    code = """
        from sqlmodel import Session
        from reexports import select
        from models import User
        def f(session: Session):
            return session.exec(select(User)).first().email
        """
    assert codes(textwrap.dedent(code), SELECT) == []


def test_index_names_the_field():
    class Model:
        qualname = "models.User"
        primary_key = ("id",)
        columns = frozenset({"id", "email"})
        relationships = frozenset({"team"})
        deferred = frozenset()

    class Index(EmptyIndex):
        def model(self, qualname):
            return Model() if qualname == "models.User" else None

        def factory(self, qualname):
            return None

        def alias(self, qualname):
            return None

    (diagnostic,) = check(RUNTIME["execute-first"][0], SELECT, index=Index())
    assert "`email` is a field of `User`" in diagnostic.message
