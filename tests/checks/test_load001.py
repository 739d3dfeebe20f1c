import re
import textwrap

import pytest

from sqlsafe.checks.registry import meta
from sqlsafe.index import build_index
from tests.checks.detach_models import index
from tests.checks.harness import check, codes, fix, run_program

SELECT = ["LOAD001"]
HEADER = """
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Load, contains_eager, joinedload, selectinload
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession
from app.models import Team, User
"""

FLAGGED = {
    "exec-all": """
        def f(session: Session):
            return session.exec(select(Team).options(joinedload(Team.users))).all()
        """,
    "execute-scalars-all": """
        def f(session: Session):
            return session.execute(select(Team).options(joinedload(Team.users))).scalars().all()
        """,
    "scalars-one": """
        def f(session: Session):
            return session.scalars(select(Team).options(joinedload(Team.users))).one()
        """,
    "rows-fetchall": """
        def f(session: Session):
            return session.execute(sa_select(Team).options(joinedload(Team.users))).fetchall()
        """,
    "rows-scalar-one": """
        def f(session: Session):
            return session.execute(sa_select(Team).options(joinedload(Team.users))).scalar_one()
        """,
    "one-or-none-through-variables": """
        def f(session: Session, name: str):
            stmt = select(Team).where(Team.name == name)
            stmt = stmt.options(joinedload(Team.users))
            result = session.exec(stmt)
            return result.one_or_none()
        """,
    "contains-eager": """
        def f(session: Session):
            stmt = select(Team).join(Team.users).options(contains_eager(Team.users))
            return session.exec(stmt).all()
        """,
    "for-loop": """
        def f(session: Session):
            for team in session.exec(select(Team).options(joinedload(Team.users))):
                print(team)
        """,
    "comprehension": """
        def f(session: Session):
            stmt = select(Team).options(joinedload(Team.users))
            return {team.id: team for team in session.scalars(stmt)}
        """,
    "list-call": """
        def f(session: Session):
            return list(session.exec(select(Team).options(joinedload(Team.users))))
        """,
    "chain-through-many-to-one": """
        def f(session: Session):
            stmt = select(User).options(joinedload(User.team).joinedload(Team.users))
            return session.exec(stmt).all()
        """,
    "load-object": """
        def f(session: Session):
            return session.exec(select(Team).options(Load(Team).joinedload(Team.users))).all()
        """,
    "async": """
        async def f(session: AsyncSession):
            return (await session.exec(select(Team).options(joinedload(Team.users)))).all()
        """,
    "two-entities": """
        def f(session: Session):
            stmt = sa_select(Team, User).join(Team.users).options(joinedload(Team.users))
            return session.execute(stmt).all()
        """,
}

NOT_FLAGGED = {
    "unique": """
        def f(session: Session):
            return session.exec(select(Team).options(joinedload(Team.users))).unique().all()
        """,
    "unique-on-variable": """
        def f(session: Session):
            result = session.execute(select(Team).options(joinedload(Team.users)))
            return result.unique().scalars().all()
        """,
    "scalars-unique": """
        def f(session: Session):
            stmt = select(Team).options(joinedload(Team.users))
            return {team.id: team for team in session.scalars(stmt).unique()}
        """,
    "first": """
        def f(session: Session):
            return session.exec(select(Team).options(joinedload(Team.users))).first()
        """,
    "rows-scalar": """
        def f(session: Session):
            return session.execute(sa_select(Team).options(joinedload(Team.users))).scalar()
        """,
    "many-to-one": """
        def f(session: Session):
            return session.exec(select(User).options(joinedload(User.team))).all()
        """,
    "selectinload": """
        def f(session: Session):
            return session.exec(select(Team).options(selectinload(Team.users))).all()
        """,
    "joined-below-selectin": """
        def f(session: Session):
            stmt = select(User).options(selectinload(User.team).joinedload(Team.users))
            return session.exec(stmt).all()
        """,
    "legacy-query": """
        def f(session: Session):
            return session.query(Team).options(joinedload(Team.users)).all()
        """,
    "statement-passed-in": """
        def f(session: Session, stmt):
            return session.exec(stmt.options(joinedload(Team.users))).all()
        """,
    "scalar-result-fetchone": """
        def f(session: Session):
            return session.exec(select(Team).options(joinedload(Team.users))).fetchone()
        """,
    "unknown-receiver": """
        def f(db):
            return db.execute(select(Team).options(joinedload(Team.users))).all()
        """,
    "core-connection": """
        from sqlalchemy import Engine
        def f(engine: Engine):
            with engine.connect() as conn:
                return conn.execute(select(Team).options(joinedload(Team.users))).all()
        """,
    "not-a-model": """
        def f(session: Session, Team):
            return session.exec(select(User).options(joinedload(Team.users))).all()
        """,
}


@pytest.mark.parametrize("code", FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged(code):
    assert codes(HEADER + textwrap.dedent(code), SELECT, index=index()) == ["LOAD001"]


@pytest.mark.parametrize("code", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_not_flagged(code):
    assert codes(HEADER + textwrap.dedent(code), SELECT, index=index()) == []


def test_without_the_index_the_relationship_is_not_known_to_be_a_collection():
    assert codes(HEADER + textwrap.dedent(FLAGGED["exec-all"]), SELECT) == []


def test_message_and_fix():
    code = HEADER + textwrap.dedent(FLAGGED["exec-all"])
    (diagnostic,) = check(code, SELECT, index=index())
    assert diagnostic.message == (
        "`.all()` on a result that joins the collection `Team.users` raises "
        "`InvalidRequestError` once rows come back; call `.unique()` first"
    )
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "safe"
    assert ".options(joinedload(Team.users))).unique().all()" in fix(code, SELECT, index=index())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("async", "(await session.exec(select(Team).options(joinedload(Team.users)))).unique()"),
        ("one-or-none-through-variables", "return result.unique().one_or_none()"),
        ("comprehension", "for team in session.scalars(stmt).unique()}"),
    ],
)
def test_fix_places_unique_on_the_result(name, expected):
    assert expected in fix(HEADER + textwrap.dedent(FLAGGED[name]), SELECT, index=index())


def test_fix_is_unsafe_with_several_entities():
    (diagnostic,) = check(HEADER + textwrap.dedent(FLAGGED["two-entities"]), SELECT, index=index())
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "unsafe"


def test_documented_examples_hold():
    doc = meta("LOAD001").explanation
    example, use_instead = re.findall(r"```python\n(.*?)```", doc, re.S)
    models = "from app.models import Team\n"
    team_index = index()
    assert codes(models + example.replace("heroes", "users"), SELECT, index=team_index) == [
        "LOAD001"
    ]
    assert codes(models + use_instead.replace("heroes", "users"), SELECT, index=team_index) == []


PROGRAM = """
import asyncio
from typing import Optional

from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlmodel import Field, Relationship, Session, SQLModel, create_engine, select
from sqlmodel.ext.asyncio.session import AsyncSession


class Team(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    team: Optional[Team] = Relationship(back_populates="heroes")


def run(label, action):
    try:
        print(label, action())
    except Exception as error:
        print(label, type(error).__name__)


def team():
    return Team(name="Preventers", heroes=[Hero(name="Deadpond"), Hero(name="Rusty-Man")])


engine = create_engine("sqlite://")
SQLModel.metadata.create_all(engine)
with Session(engine) as setup:
    setup.add(team())
    setup.commit()

with Session(engine) as session:
    joined = select(Team).options(joinedload(Team.heroes))
    run("exec-all", lambda: len(session.exec(joined).all()))
    run("scalars-one", lambda: session.scalars(joined).one().name)
    run("execute-scalars", lambda: len(session.execute(joined).scalars().all()))
    rows = sa_select(Team).options(joinedload(Team.heroes))
    run("rows-fetchall", lambda: len(session.execute(rows).fetchall()))
    run("rows-scalar-one", lambda: session.execute(rows).scalar_one().name)
    eager = select(Team).join(Team.heroes).options(contains_eager(Team.heroes))
    run("contains-eager", lambda: len(session.exec(eager).all()))
    run("iterate", lambda: [t.name for t in session.exec(joined)])
    run("list", lambda: len(list(session.exec(joined))))
    run("first", lambda: session.exec(joined).first().name)
    run("many-to-one", lambda: len(session.exec(select(Hero).options(joinedload(Hero.team))).all()))
    run("selectin", lambda: len(session.exec(select(Team).options(selectinload(Team.heroes))).all()))
    run("empty", lambda: len(session.exec(joined.where(Team.name == "nobody")).all()))
with engine.connect() as conn:
    run("connection", lambda: len(conn.execute(joined).all()))


async def main():
    async_engine = create_async_engine("sqlite+aiosqlite://")
    async with async_engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    async with AsyncSession(async_engine) as session:
        session.add(team())
        await session.commit()
    async with AsyncSession(async_engine) as session:
        stmt = select(Team).options(joinedload(Team.heroes))
        try:
            print("async", [h.name for h in (await session.exec(stmt)).one().heroes])
        except Exception as error:
            print("async", type(error).__name__)
    await async_engine.dispose()


asyncio.run(main())
"""

RAISES = "InvalidRequestError"


def test_failing_forms_raise_and_fixed_code_runs_against_sqlite(tmp_path):
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = package / "prog.py"
    source.write_text(PROGRAM)
    program_index = build_index([package / "__init__.py", source], [tmp_path])

    assert run_program(source) == [
        f"exec-all {RAISES}",
        f"scalars-one {RAISES}",
        f"execute-scalars {RAISES}",
        f"rows-fetchall {RAISES}",
        f"rows-scalar-one {RAISES}",
        f"contains-eager {RAISES}",
        f"iterate {RAISES}",
        f"list {RAISES}",
        "first Preventers",
        "many-to-one 2",
        "selectin 1",
        "empty 0",
        "connection 2",
        f"async {RAISES}",
    ]
    found = check(PROGRAM, SELECT, index=program_index, module_name="app.prog")
    lines = PROGRAM.split("\n")
    labels = [re.findall(r'"([a-z-]+)"', lines[d.start.row - 1])[0] for d in found]
    # Every form that raised, and the empty query that raises as soon as it finds a row.
    assert labels == [
        "exec-all",
        "scalars-one",
        "execute-scalars",
        "rows-fetchall",
        "rows-scalar-one",
        "contains-eager",
        "iterate",
        "list",
        "empty",
        "async",
    ]
    source.write_text(fix(PROGRAM, SELECT, index=program_index, module_name="app.prog"))
    assert run_program(source) == [
        "exec-all 1",
        "scalars-one Preventers",
        "execute-scalars 1",
        "rows-fetchall 1",
        "rows-scalar-one Preventers",
        "contains-eager 1",
        "iterate ['Preventers']",
        "list 1",
        "first Preventers",
        "many-to-one 2",
        "selectin 1",
        "empty 0",
        "connection 2",
        "async ['Deadpond', 'Rusty-Man']",
    ]
