"""Every row of the query vocabulary (`sqlsafe.checks.queries`) against the installed SQLModel
and SQLAlchemy, on SQLite: a version that changes a shape fails here."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlalchemy.engine import Result, Row, ScalarResult
from sqlalchemy.orm import Query
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.selectable import TextualSelect
from sqlmodel import Field, Session, SQLModel, create_engine, select

from sqlsafe.checks import queries
from sqlsafe.checks.queries import Shape


class QueriesTeam(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)


class QueriesUser(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="queriesteam.id")


M, T = QueriesUser, QueriesTeam

# How each chain method is called in a statement that still selects one user.
CALLS = {
    "where": lambda s: s.where(M.id == 1),
    "filter": lambda s: s.filter(M.id == 1),
    "filter_by": lambda s: s.filter_by(id=1),
    "join": lambda s: s.join(T),
    "outerjoin": lambda s: s.outerjoin(T),
    "join_from": lambda s: s.join_from(M, T),
    "outerjoin_from": lambda s: s.outerjoin_from(M, T),
    "order_by": lambda s: s.order_by(M.id),
    "group_by": lambda s: s.group_by(M.id),
    "having": lambda s: s.group_by(M.id).having(M.id > 0),
    "limit": lambda s: s.limit(1),
    "offset": lambda s: s.offset(0),
    "fetch": lambda s: s.fetch(1),
    "slice": lambda s: s.slice(0, 1),
    "options": lambda s: s.options(),
    "execution_options": lambda s: s.execution_options(),
    "distinct": lambda s: s.distinct(),
    "select_from": lambda s: s.select_from(M),
    "with_for_update": lambda s: s.with_for_update(),
    "correlate": lambda s: s.correlate(T),
    "correlate_except": lambda s: s.correlate_except(T),
    "params": lambda s: s.params(),
    "prefix_with": lambda s: s.prefix_with("/* hint */"),
    "suffix_with": lambda s: s.suffix_with("/* hint */"),
    "with_hint": lambda s: s.with_hint(M, "hint", "mysql"),
    "with_statement_hint": lambda s: s.with_statement_hint("hint", "mysql"),
    "set_label_style": lambda s: s.set_label_style(sqlalchemy.LABEL_STYLE_DEFAULT),
}
# SQLite has no FETCH FIRST: that one is checked on the statement's class only.
NOT_ON_SQLITE = {"fetch"}


@pytest.fixture(scope="module")
def engine():
    engine = create_engine("sqlite://", poolclass=StaticPool)
    SQLModel.metadata.create_all(engine, tables=[T.__table__, M.__table__])
    with Session(engine) as setup:
        setup.add(T(id=1))
        setup.add(M(id=1, team_id=1))
        setup.commit()
    return engine


def test_every_chain_method_is_called_here():
    assert set(CALLS) == queries.STATEMENT_CHAIN


@pytest.mark.parametrize("method", sorted(queries.STATEMENT_CHAIN))
def test_chain_keeps_the_statement_of_one_model(engine, method):
    plain = select(M)
    chained = CALLS[method](plain)
    assert type(chained) is type(plain)
    if method in NOT_ON_SQLITE:
        return
    with Session(engine) as session:
        assert isinstance(session.exec(chained).first(), M)


@pytest.mark.parametrize("method", sorted(queries.STATEMENT_CHAIN - {"having"}))
def test_query_chain_is_what_query_has(method):
    assert hasattr(Query, method) == (method in queries.QUERY_CHAIN)


@pytest.mark.parametrize("method", sorted(queries.QUERY_CHAIN - NOT_ON_SQLITE))
def test_query_chain_keeps_the_model(engine, method):
    with Session(engine) as session:
        assert isinstance(CALLS[method](session.query(M)).first(), M)


@pytest.mark.parametrize("method", sorted(queries.TEXT_CHAIN))
def test_text_chain_still_gives_rows(engine, method):
    chained = getattr(sqlalchemy.text("select 1"), method)()
    assert isinstance(chained, TextClause | TextualSelect)
    with Session(engine) as session:
        assert isinstance(session.execute(chained).first(), Row)


@pytest.mark.parametrize("method", sorted(queries.SAME_RESULT_METHODS))
def test_same_result(engine, method):
    arguments = (1,) if method == "yield_per" else ()
    with Session(engine) as session:
        result = session.exec(select(M))
        assert getattr(result, method)(*arguments) is result


def test_result_only_methods():
    for method in queries.RESULT_ONLY_METHODS:
        assert hasattr(Result, method) and not hasattr(ScalarResult, method)


def _value(session, method, statement):
    result = getattr(session, method)(statement)
    return result if method == "scalar" else result.first()


@pytest.mark.parametrize("method", sorted(queries.SESSION_METHODS))
@pytest.mark.parametrize("library", ["sqlmodel", "sqlalchemy"])
@pytest.mark.parametrize("count", [1, 2])
def test_yields_models(engine, method, library, count):
    build = select if library == "sqlmodel" else sqlalchemy.select
    statement = build(M) if count == 1 else build(M, T)
    models = queries.yields_models(method, library, count)
    with Session(engine) as session:
        value = _value(session, method, statement)
    assert isinstance(value, M) == models
    assert isinstance(value, Row) == (not models)


def test_unresolved_library_is_unknown_only_where_it_matters():
    assert queries.yields_models("exec", "unresolved", 1) is None
    assert queries.yields_models("exec", "unresolved", 2) is False
    assert queries.yields_models("scalars", "unresolved", 1) is True


@pytest.mark.parametrize("method", sorted(queries.TERMINALS))
def test_terminal_shapes(engine, method):
    shape, column = queries.TERMINALS[method]
    with Session(engine) as session:
        models = session.exec(select(M))
        rows = session.execute(select(M))
        found = getattr(rows if column else models, method)()
        if not column:
            assert isinstance(getattr(session.execute(select(M)), method)(), Row | list)
        if shape is Shape.LIST:
            assert [type(value) for value in found] == [M]
            return
        assert isinstance(found, M)
        nothing = select(M).where(M.id == 0)
        source = session.execute(nothing) if column else session.exec(nothing)
        if shape is Shape.OPTIONAL:
            assert getattr(source, method)() is None
        else:
            with pytest.raises(sqlalchemy.exc.NoResultFound):
                getattr(source, method)()
    assert hasattr(ScalarResult, method) != column


def test_terminals_by_shape():
    assert queries.terminals({Shape.LIST}, column=False) == {"all", "fetchall", "fetchmany"}
    assert queries.terminals({Shape.ONE}, column=True) == {"scalar_one"}
