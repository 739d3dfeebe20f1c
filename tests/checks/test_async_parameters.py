"""Lazy reads through an `AsyncSession` the function receives (a FastAPI dependency): the
failing forms are reported and raise `MissingGreenlet` on aiosqlite; the working
look-alikes are not reported and run."""

import json
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import pytest

from sqlsafe.index import ProjectIndex, build_index
from tests.checks.harness import check

RULES = ["DETACH001", "DETACH002", "DETACH003", "SCOPE001"]

MODELS = """
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlmodel import Field, Relationship, SQLModel


class Squad(AsyncAttrs, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    members: list["Member"] = Relationship(back_populates="squad")


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    squad_id: int | None = Field(default=None, foreign_key="squad.id")
    squad: Squad | None = Relationship(back_populates="members")


class Crew(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    sailors: list["Sailor"] = Relationship(sa_relationship_kwargs={"lazy": "selectin"})


class Sailor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    crew_id: int | None = Field(default=None, foreign_key="crew.id")
"""

HEADER = """\
from sqlalchemy.orm import selectinload
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Crew, Member, Sailor, Squad
"""

RUNNER = """
import asyncio
import importlib
import json
import sys

from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Crew, Member, Sailor, Squad


async def main():
    engine = create_async_engine(f"sqlite+aiosqlite:///{sys.argv[1]}")
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    async with AsyncSession(engine) as session:
        squad = Squad(name="Preventers")
        session.add(Member(name="Rusty-Man", squad=squad))
        crew = Crew(name="Pearl")
        session.add(crew)
        await session.flush()
        session.add(Sailor(name="Jack", crew_id=crew.id))
        await session.commit()
    out = {}
    for name in sys.argv[2:]:
        module = importlib.import_module(f"app.{name}")
        async with AsyncSession(engine, expire_on_commit=False) as session:
            try:
                out[name] = repr(await module.run(session))
            except Exception as error:
                out[name] = f"{type(error).__name__}: {error}"
    await engine.dispose()
    print(json.dumps(out))


asyncio.run(main())
"""

# name -> program: each reads a lazy relationship through the session it receives.
FAILING = {
    "lazy-collection": """
        async def run(session: AsyncSession):
            squad = await session.get(Squad, 1)
            return [member.name for member in squad.members]
        """,
    "lazy-many-to-one": """
        async def run(session: AsyncSession):
            member = (await session.exec(select(Member))).one()
            return member.squad.name
        """,
}

WORKING = {
    "selectinload": """
        async def run(session: AsyncSession):
            statement = select(Squad).options(selectinload(Squad.members))
            squad = (await session.exec(statement)).one()
            return [member.name for member in squad.members]
        """,
    "lazy-selectin-relationship": """
        async def run(session: AsyncSession):
            crew = await session.get(Crew, 1)
            return [sailor.name for sailor in crew.sailors]
        """,
    "refresh-with-the-relationship": """
        async def run(session: AsyncSession):
            squad = await session.get(Squad, 1)
            await session.refresh(squad, ["members"])
            return [member.name for member in squad.members]
        """,
    "awaitable-attrs": """
        async def run(session: AsyncSession):
            squad = await session.get(Squad, 1)
            return [member.name for member in await squad.awaitable_attrs.members]
        """,
    "column-after-commit-of-a-factory-that-does-not-expire": """
        async def run(session: AsyncSession):
            member = await session.get(Member, 1)
            member.name = "Deadpond"
            await session.commit()
            return member.name
        """,
}


@cache
def index(root: Path = Path("/tmp/sqlsafe-async-parameters")) -> ProjectIndex:
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    return build_index([package / "__init__.py", package / "models.py"], [root])


def findings(body: str) -> list:
    return check(HEADER + textwrap.dedent(body), RULES, index=index(), module_name="app.snippet")


@cache
def outcomes(root: Path = Path("/tmp/sqlsafe-async-parameters-run")) -> dict[str, str]:
    """Every program run once against aiosqlite, each with a fresh session."""
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    (root / "runner.py").write_text(RUNNER)
    programs = {**FAILING, **WORKING, "many-to-one-target-held": MANY_TO_ONE_HELD}
    modules = {}
    for number, (name, body) in enumerate(programs.items()):
        modules[f"program_{number}"] = name
        (package / f"program_{number}.py").write_text(HEADER + textwrap.dedent(body))
    database = root / "db.sqlite"
    database.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "runner.py", str(database), *modules],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    return {name: out[module] for module, name in modules.items()}


MANY_TO_ONE_HELD = """
    async def run(session: AsyncSession):
        held = await session.get(Squad, 1)  # the identity map holds objects weakly
        member = await session.get(Member, 1)
        return member.squad.name if held else None
    """


@pytest.mark.parametrize("name", FAILING)
def test_lazy_reads_reported_and_raise_missing_greenlet(name):
    (diagnostic,) = findings(FAILING[name])
    assert diagnostic.code == "SCOPE001"
    assert "raises `MissingGreenlet`" in diagnostic.message
    assert "already holds" in diagnostic.message
    assert "MissingGreenlet" in outcomes()[name]


@pytest.mark.parametrize("name", WORKING)
def test_working_look_alikes_not_reported_and_run(name):
    assert findings(WORKING[name]) == []
    assert "Error" not in outcomes()[name], outcomes()[name]


def test_many_to_one_target_in_the_identity_map_is_the_caveat():
    """Reported (a fresh request session rarely holds the target), and the message says
    when it works: here the squad was loaded first, and the read runs."""
    (diagnostic,) = findings(MANY_TO_ONE_HELD)
    assert "already holds" in diagnostic.message
    assert outcomes()["many-to-one-target-held"] == "'Preventers'"


def test_owned_async_session_message_has_no_caveat():
    (diagnostic,) = findings(
        """
        from sqlalchemy.ext.asyncio import create_async_engine

        async def run(engine):
            async with AsyncSession(engine) as session:
                squad = await session.get(Squad, 1)
                return [member.name for member in squad.members]
        """
    )
    assert diagnostic.code == "SCOPE001" and "already holds" not in diagnostic.message
