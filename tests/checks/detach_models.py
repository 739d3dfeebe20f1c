"""The models the DETACH and SCOPE tests import, and a real project index built from them.

The index is the input the rules read (`sqlsafe.index.build_index` over these files), so
tests exercise the same facts a `sqlsafe check` run would hand the rules.
"""

from __future__ import annotations

import textwrap
from functools import cache
from pathlib import Path

from sqlsafe.index import ProjectIndex, build_index

MODELS = textwrap.dedent(
    """
    from typing import Optional

    from sqlalchemy import Column, String
    from sqlalchemy.orm import deferred
    from sqlmodel import Field, Relationship, SQLModel


    class Team(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        name: str
        users: list["User"] = Relationship(back_populates="team")


    class User(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        email: str
        code: str = ""
        verified: bool = False
        team_id: Optional[int] = Field(default=None, foreign_key="team.id")
        team: Optional[Team] = Relationship(back_populates="users")


    class Plain(SQLModel, table=True):
        id: Optional[int] = Field(default=None, primary_key=True)
        email: str


    class UserRead(SQLModel):
        id: int
        email: str
    """
)


@cache
def index(root: Path = Path("/tmp/sqlsafe-detach-models")) -> ProjectIndex:
    """The index of a project holding `app/models.py` (written once per run)."""
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    return build_index([package / "__init__.py", package / "models.py"], [root])
