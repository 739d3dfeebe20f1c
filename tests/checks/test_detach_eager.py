"""Relationships configured to load with their object (`lazy="selectin"`, `"joined"`) are
readable after the session closes, until a commit expires them; `refresh()` reloads them.
Each case is checked by the rules and by running it against SQLite."""

import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import pytest

from sqlsafe.index import ProjectIndex, build_index
from tests.checks.harness import codes

MODELS = textwrap.dedent(
    """
    from typing import Optional

    from sqlmodel import Field, Relationship, SQLModel


    class Team(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str
        heroes: list["Hero"] = Relationship(
            back_populates="team", sa_relationship_kwargs={"lazy": "selectin"}
        )


    class Hero(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str
        team_id: Optional[int] = Field(default=None, foreign_key="team.id")
        team: Optional[Team] = Relationship(
            back_populates="heroes", sa_relationship_kwargs={"lazy": "joined"}
        )
    """
)
SETUP = """
from sqlmodel import Session, SQLModel, create_engine, select
from eagerapp.models import Hero, Team

engine = create_engine("sqlite://")
SQLModel.metadata.create_all(engine)
with Session(engine) as s:
    team = Team(name="t")
    s.add(Hero(name="h", team=team))
    s.commit()
"""
CASES = {
    "loaded-by-query": (
        """
        def load():
            with Session(engine) as session:
                return session.exec(select(Hero)).first()
        print(load().team.name)
        """,
        [],
    ),
    "loaded-by-get": (
        """
        def load():
            with Session(engine) as session:
                return session.get(Team, 1)
        print([h.name for h in load().heroes])
        """,
        [],
    ),
    "refreshed-after-commit": (
        """
        def load():
            with Session(engine) as session:
                hero = session.get(Hero, 1)
                hero.name = "x"
                session.commit()
                session.refresh(hero)
                return hero
        print(load().team.name)
        """,
        [],
    ),
    "expired-by-commit": (
        """
        def load():
            with Session(engine) as session:
                hero = session.get(Hero, 1)
                hero.name = "x"
                session.commit()
                return hero
        print(load().team.name)
        """,
        ["DETACH002"],
    ),
}


@cache
def project(root: Path = Path("/tmp/sqlsafe-eager-models")) -> ProjectIndex:
    package = root / "eagerapp"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    return build_index([package / "__init__.py", package / "models.py"], [root])


def test_index_records_eager_relationships():
    assert project().model("eagerapp.models.Hero").eager_relationships == {"team"}
    assert project().model("eagerapp.models.Team").eager_relationships == {"heroes"}


@pytest.mark.parametrize(("body", "expected"), CASES.values(), ids=CASES.keys())
def test_rules_match_what_sqlite_does(body, expected):
    program = SETUP + textwrap.dedent(body)
    found = codes(program, ["DETACH001", "DETACH002", "DETACH003", "SCOPE001"], index=project())
    assert found == expected
    run = subprocess.run(
        [sys.executable, "-c", program],
        cwd=project.__wrapped__.__defaults__[0],
        capture_output=True,
        text=True,
    )
    assert (run.returncode != 0) == bool(expected), run.stderr
    if expected:
        assert "DetachedInstanceError" in run.stderr
