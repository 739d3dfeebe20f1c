"""ROW, GET, DETACH and SCOPE answer "what does this query return" the same way, and the way
SQLModel does at run time, whatever is chained on the `select` and wherever it is imported from.

Each statement below is linted as written and also run against SQLite: `session.exec(...)
.first()` of it gives a model instance (so indexing it raises `TypeError`, ROW001), which is
expired by the commit and detached by the close (so reading it afterwards raises
`DetachedInstanceError`, DETACH002 and SCOPE001).
"""

from __future__ import annotations

import textwrap
from functools import cache
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy.engine import Row
from sqlalchemy.orm.exc import DetachedInstanceError
from sqlalchemy.pool import StaticPool
from sqlmodel import Field, Session, SQLModel, create_engine, select

from sqlsafe.index import ProjectIndex, build_index
from tests.checks.detach_models import MODELS
from tests.checks.harness import codes

# `{M}` is the selected model, `{T}` another one it has a foreign key to.
CHAINS = {
    "select_from": "select({M}).select_from({M})",
    "slice": "select({M}).slice(0, 1)",
    "join_from": "select({M}).join_from({M}, {T})",
    "correlate": "select({M}).correlate({T})",
    "prefix_with": 'select({M}).prefix_with("/* hint */")',
    "re-exported-select": "select({M})",
}


class VocabularyTeam(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)


class VocabularyUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str
    team_id: int | None = Field(default=None, foreign_key="vocabularyteam.id")


@cache
def _index(root: Path = Path("/tmp/sqlsafe-query-vocabulary")) -> ProjectIndex:
    """`app/models.py` and `app/db.py`, which re-exports SQLModel's `select`."""
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    files = {
        "__init__.py": "",
        "models.py": MODELS,
        "db.py": "from sqlmodel import select\n\n__all__ = ['select']\n",
    }
    for name, text in files.items():
        (package / name).write_text(text)
    return build_index([package / name for name in files], [root])


def _header(name: str) -> str:
    select_from = "app.db" if name == "re-exported-select" else "sqlmodel"
    return textwrap.dedent(
        f"""
        from sqlmodel import Session
        from {select_from} import select
        from app.models import Team, User
        """
    )


def _lint(name: str, body: str, rule: str) -> list[str]:
    statement = CHAINS[name].format(M="User", T="Team")
    code = _header(name) + textwrap.dedent(body).replace("STATEMENT", statement)
    return codes(code, [rule], index=_index(), module_name="app.snippet")


@pytest.fixture
def session():
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False})
    engine.pool = StaticPool(engine.pool._creator)
    SQLModel.metadata.create_all(
        engine, tables=[VocabularyTeam.__table__, VocabularyUser.__table__]
    )
    with Session(engine) as setup:
        team = VocabularyTeam()
        setup.add(team)
        setup.flush()
        setup.add(VocabularyUser(email="a@x.io", team_id=team.id))
        setup.commit()
    return Session(engine)


def _runtime_statement(name: str, then: str = ""):
    """The statement of CHAINS[name] (followed by `then`) on the runtime models."""
    text = CHAINS[name].format(M="VocabularyUser", T="VocabularyTeam") + then
    return eval(
        text, {"select": select, "VocabularyUser": VocabularyUser, "VocabularyTeam": VocabularyTeam}
    )


@pytest.mark.parametrize("name", CHAINS)
def test_first_is_a_model_row001(name, session):
    with session:
        found = session.exec(_runtime_statement(name)).first()
        assert isinstance(found, VocabularyUser)
        with pytest.raises(TypeError, match="not subscriptable"):
            found[0]
    body = """
        def f(session: Session):
            return session.exec(STATEMENT).first()[0]
        """
    assert _lint(name, body, "ROW001") == ["ROW001"]


# The instance leaves the block after a commit: returned from inside it (DETACH002) or read
# after it (SCOPE001).
DETACHED = {
    "DETACH002": """
        def f(engine):
            with Session(engine) as session:
                plain = session.exec(STATEMENT).first()
                session.commit()
                return plain
        """,
    "SCOPE001": """
        def f(engine):
            with Session(engine) as session:
                plain = session.exec(STATEMENT).first()
                session.commit()
            return plain.email
        """,
}


@pytest.mark.parametrize("rule", DETACHED)
@pytest.mark.parametrize("name", CHAINS)
def test_committed_then_closed_is_detached(name, rule, session):
    with session:
        found = session.exec(_runtime_statement(name)).first()
        session.commit()
    with pytest.raises(DetachedInstanceError):
        assert found.email
    assert _lint(name, DETACHED[rule], rule) == [rule]


@pytest.mark.parametrize("name", CHAINS)
def test_select_by_key_get001(name, session):
    """GET001 reports the same lookup whatever the `select` is imported from, and no chain
    but filters: `join_from` changes which rows match (a user without a team is not found, yet
    `get` finds it), so a rewrite to `get` is only claimed where it keeps the answer."""
    with session:
        loner = VocabularyUser(email="b@x.io")
        session.add(loner)
        session.commit()
        query = _runtime_statement(name, f".where(VocabularyUser.id == {loner.id})")
        found = session.exec(query).first()
        assert (found is None) == (name == "join_from")
        if found is not None:
            assert found is session.get(VocabularyUser, loner.id)
    body = """
        def f(session: Session, user_id: int):
            return session.exec(STATEMENT.where(User.id == user_id)).first()
        """
    expected = ["GET001"] if name == "re-exported-select" else []
    assert _lint(name, body, "GET001") == expected


SHADOWED = """
    import sqlalchemy
    from sqlmodel import Session, select
    from app.models import User

    def f(session: Session, user_id: int, select=sqlalchemy.select):
        row = session.exec(select(User).where(User.id == user_id)).first()
        session.commit()
        return row[0]

    def g(engine, select=sqlalchemy.select):
        with Session(engine) as session:
            row = session.exec(select(User)).first()
            session.commit()
            return row
    """


@pytest.mark.parametrize("rule", ["ROW001", "GET001", "DETACH002", "SCOPE001"])
def test_a_select_rebound_in_the_function_is_not_sqlmodels(rule, session):
    with session:
        found = session.exec(sqlalchemy.select(VocabularyUser)).first()
        assert isinstance(found, Row) and isinstance(found[0], VocabularyUser)
    assert codes(textwrap.dedent(SHADOWED), [rule], index=_index()) == []
