import textwrap

import pytest
from sqlalchemy.engine import Row, ScalarResult

from sqlsafe.checks import queries, statements
from tests.checks.harness import check, codes, fix
from tests.checks.test_row001 import FULL_HEADER, snippet

SELECT = ["ROW003"]

RUNTIME = {
    "entity-name": (
        snippet(
            """
            def run(session: Session):
                row = session.exec(select(Hero).where(Hero.name == "Spider-Boy")).first()
                return row.Hero if row else None
            """
        ),
        "AttributeError: 'Hero' object has no attribute 'Hero'",
        "Hero",
        False,
    ),
    "scalars-on-scalar-result": (
        snippet(
            """
            def run(session: Session):
                return session.exec(select(Hero)).scalars().all()
            """
        ),
        "AttributeError: 'ScalarResult' object has no attribute 'scalars'",
        "[Hero]",
        False,
    ),
    "fetchone": (
        snippet(
            """
            def run(session: Session):
                return session.exec(select(Hero).limit(1)).fetchone()
            """
        ),
        "AttributeError: 'ScalarResult' object has no attribute 'fetchone'",
        "Hero",
        False,
    ),
    "scalar-one-on-variable": (
        snippet(
            """
            def run(session: Session):
                result = session.exec(select(Hero))
                return result.scalar_one()
            """
        ),
        "AttributeError",
        "Hero",
        False,
    ),
    "scalar": (
        snippet(
            """
            def run(session: Session):
                return session.exec(select(Hero)).scalar()
            """
        ),
        "AttributeError",
        "Hero",
        False,
    ),
    "scalar-one-or-none-async": (
        snippet(
            """
            async def run(session: AsyncSession):
                result = await session.exec(select(Hero))
                return result.scalar_one_or_none()
            """,
            "from sqlmodel import select\n"
            "from sqlmodel.ext.asyncio.session import AsyncSession\n"
            "from models import Hero\n",
        ),
        "AttributeError",
        "Hero",
        False,
    ),
}

FIXED = {
    "entity-name": "return row if row else None\n",
    "scalars-on-scalar-result": "return session.exec(select(Hero)).all()\n",
    "fetchone": "return session.exec(select(Hero).limit(1)).first()\n",
    "scalar-one-on-variable": "return result.one()\n",
    "scalar": "return session.exec(select(Hero)).first()\n",
    "scalar-one-or-none-async": "return result.one_or_none()\n",
}

NO_FIX = {
    "mapping": "row = session.exec(select(Hero)).first()\n    return row._mapping['Hero']",
    "asdict": "return session.exec(select(Hero)).one()._asdict()",
    "tuple": "return session.exec(select(Hero)).one()._tuple()",
    "mappings": "return session.exec(select(Hero)).mappings().all()",
    "fetchone-on-variable": "result = session.exec(select(Hero))\n    return result.fetchone()",
}

NOT_FLAGGED = {
    "execute-row-accessors": "row = session.execute(select(Hero)).first()\n"
    "    return row._mapping, row.Hero, row._asdict(), row._tuple()",
    "execute-scalars": "return session.execute(select(Hero)).scalars().all()",
    "sqlalchemy-select-row": "return session.exec(sqlalchemy.select(Hero)).first().Hero",
    "two-entities": "return session.exec(select(Hero, Team)).first()._mapping",
    "other-capitalised-attribute": "return session.exec(select(Hero)).first().Team",
    "model-field": "return session.exec(select(Hero)).first().name",
    "text-fetchone": 'return session.exec(text("select 1")).fetchone()',
    "result-fetchone": "return session.exec(select(Hero.id, Hero.name)).fetchone()",
}


@pytest.mark.parametrize("name", RUNTIME)
def test_flagged_and_fixed(name):
    source, _, _, unsafe = RUNTIME[name]
    (diagnostic,) = check(source, SELECT)
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "safe"
    assert FIXED[name] in fix(source, SELECT, unsafe=unsafe)


@pytest.mark.parametrize("body", NO_FIX.values(), ids=NO_FIX.keys())
def test_reported_without_fix(body):
    code = FULL_HEADER + f"def f(session: Session):\n    {body}\n"
    (diagnostic,) = check(code, SELECT)
    assert diagnostic.fix is None


@pytest.mark.parametrize("body", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_correct_look_alikes_not_flagged(body):
    code = FULL_HEADER + f"def f(session: Session):\n    {body}\n"
    assert codes(code, SELECT) == []


def test_unresolved_select_not_reported():
    code = """
        from sqlmodel import Session
        from reexports import select
        from models import Hero
        def f(session: Session):
            return session.exec(select(Hero)).scalars().all()
        """
    assert codes(textwrap.dedent(code), SELECT) == []


def test_result_only_methods_are_missing_from_scalar_result():
    # The rule's premise, on the installed SQLAlchemy.
    for method in queries.RESULT_ONLY_METHODS:
        assert not hasattr(ScalarResult, method), method
    for method in ("first", "one", "one_or_none", "all", "fetchall", "unique"):
        assert hasattr(ScalarResult, method)


def test_row_accessors_exist_on_row_only():
    from sqlmodel import SQLModel

    from sqlsafe.checks.row003_row_accessor_on_model import ROW_ACCESSORS

    for name in ROW_ACCESSORS:
        assert hasattr(Row, name), name
        assert not hasattr(SQLModel, name), name
    assert {n for n in dir(Row) if not n.startswith("_")} == statements.ROW_PUBLIC_API
