"""`changes.unseen`: an edit it lets through leaves the merged index exactly as it was (each
case it accepts is merged again here and compared), and it lets through only literal
bindings that nothing can look up."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sqlsafe.index import module_name
from sqlsafe.index.changes import Reach, unseen
from sqlsafe.index.project import merge, summarize
from tests.index.conftest import write_tree

PROJECT = {
    "app/__init__.py": "",
    "app/db.py": """
        from sqlmodel import Session, create_engine

        engine = create_engine("sqlite://")
        LIMIT = 10

        def get_session():
            with Session(engine) as session:
                yield session
    """,
    "app/models.py": """
        from typing import Optional
        from sqlmodel import Field, Relationship, SQLModel

        class Team(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            heroes: list["Hero"] = Relationship(back_populates="team")

        class Hero(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            team_id: int | None = Field(default=None, foreign_key="team.id")
            team: Optional["Team"] = Relationship(back_populates="heroes")
    """,
    "app/api.py": """
        from app import db
        from app.db import get_session
        from app.models import Hero

        Default = db.DEFAULT_NAME
    """,
    "app/shared.py": "COLOR = 'red'\n",
    "app/starred.py": "from app.shared import *\n",
}


def _scopes(root: Path, edited: str | None = None, text: str = "") -> dict[str, object]:
    scopes = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        source = path.read_text() + (textwrap.dedent(text) if relative == edited else "")
        scopes[relative] = summarize(path, module_name(path, [root]), source)
    return scopes


@pytest.mark.parametrize(
    ("edited", "text", "expected"),
    [
        pytest.param("app/models.py", "\nPAGE_SIZE = 50\n", True, id="a new constant"),
        pytest.param("app/models.py", "\nPAGE_SIZE = {'a': [1, 2]}\n", True, id="a new literal"),
        pytest.param("app/db.py", "\nLIMIT = 20\n", True, id="a constant changed"),
        pytest.param("app/api.py", "\n_private = None\n", True, id="a private constant"),
        pytest.param("app/models.py", "\nget_session = 1\n", False, id="a name another file uses"),
        pytest.param("app/models.py", "\nDEFAULT_NAME = 1\n", False, id="an attribute's name"),
        pytest.param("app/db.py", "\nTeam = 1\n", False, id="a name in a string annotation"),
        pytest.param("app/shared.py", "\nPAGE_SIZE = 1\n", False, id="a star-imported file"),
        pytest.param("app/starred.py", "\nPAGE_SIZE = 1\n", False, id="a file that star-imports"),
        pytest.param("app/models.py", "\nPAGE_SIZE = LIMIT\n", False, id="a name bound to a name"),
        pytest.param("app/models.py", "\nPAGE_SIZE = size()\n", False, id="a name bound to a call"),
        pytest.param("app/models.py", "\ndef helper():\n    pass\n", False, id="a new function"),
        pytest.param("app/models.py", "\nimport os\n", False, id="a new import"),
        pytest.param("app/db.py", "\nengine = 1\n", False, id="a call rebound to a literal"),
    ],
)
def test_what_an_edit_can_change(tmp_path: Path, edited: str, text: str, expected: bool) -> None:
    write_tree(tmp_path, PROJECT)
    before = _scopes(tmp_path)
    after = _scopes(tmp_path, edited, text)
    reach = Reach.of(list(before.values()))  # type: ignore[arg-type]
    assert unseen(before[edited], after[edited], reach) is expected  # type: ignore[arg-type]
    if expected:
        assert vars(merge(after.values())) == vars(merge(_scopes(tmp_path).values()))  # type: ignore[arg-type]


def test_a_file_that_stops_parsing_is_a_change(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    before = _scopes(tmp_path)
    after = _scopes(tmp_path, "app/models.py", "\nPAGE_SIZE = (\n")
    reach = Reach.of(list(before.values()))  # type: ignore[arg-type]
    assert not unseen(before["app/models.py"], after["app/models.py"], reach)  # type: ignore[arg-type]
