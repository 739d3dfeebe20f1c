import re
import subprocess
import sys
import textwrap

import pytest

from sqlsafe.checks.registry import meta
from tests.checks.harness import check, codes, fix, run_program

SELECT = ["SQL002"]

FLAGGED = {
    "sqlmodel-execute": """
        from sqlmodel import Session
        def f(engine):
            with Session(engine) as session:
                return session.execute("select 1").all()
        """,
    "sqlmodel-exec": """
        from sqlmodel import Session
        def f(session: Session):
            return session.exec("select 1").all()
        """,
    "sqlalchemy-scalar": """
        from sqlalchemy.orm import Session
        def f(session: Session):
            return session.scalar("select count(*) from hero")
        """,
    "scalars-concatenated-literal": """
        from sqlalchemy.orm import Session
        def f(session: Session):
            return session.scalars("select id " "from hero").all()
        """,
    "async-session": """
        from sqlalchemy.ext.asyncio import AsyncSession
        async def f(session: AsyncSession):
            return (await session.execute("select 1")).all()
        """,
    "sessionmaker": """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker()
        def f():
            with SessionLocal() as session:
                session.execute("delete from hero")
        """,
    "local-variable": """
        from sqlmodel import Session
        def f(session: Session, archived: bool):
            sql = "select 1"
            if archived:
                sql = "select 2"
            return session.execute(sql).all()
        """,
    "module-constant": """
        from sqlmodel import Session
        QUERY = "select 1"
        def f(session: Session):
            return session.execute(QUERY).all()
        """,
    "engine-connect": """
        from sqlalchemy import create_engine
        engine = create_engine("sqlite://")
        def f():
            with engine.connect() as conn:
                return conn.execute("select 1").all()
        """,
    "engine-begin-parameter": """
        from sqlalchemy import Engine
        def f(engine: Engine):
            with engine.begin() as conn:
                conn.execute("delete from hero")
        """,
    "connection-parameter": """
        from sqlalchemy.engine import Connection
        def f(conn: Connection):
            return conn.scalar("select 1")
        """,
    "assigned-connection": """
        from sqlalchemy import create_engine
        def f(url):
            engine = create_engine(url)
            conn = engine.connect()
            conn.execute("select 1")
        """,
    "alembic-bind": """
        from alembic import op
        def upgrade():
            conn = op.get_bind()
            conn.execute("update hero set name = 'x'")
        """,
    "f-string": """
        from sqlmodel import Session
        def f(session: Session, name: str):
            return session.execute(f"select * from hero where name = '{name}'").all()
        """,
    "percent": """
        from sqlmodel import Session
        def f(session: Session, name: str):
            return session.execute("select * from hero where name = '%s'" % name).all()
        """,
    "plus": """
        from sqlmodel import Session
        def f(session: Session, table: str):
            return session.execute("select * from " + table).all()
        """,
    "format": """
        from sqlmodel import Session
        def f(session: Session, table: str):
            return session.execute("select * from {}".format(table)).all()
        """,
    "runtime-variable": """
        from sqlmodel import Session
        def f(session: Session, table: str):
            sql = f"select * from {table}"
            return session.execute(sql).all()
        """,
}

NOT_FLAGGED = {
    "text": """
        from sqlalchemy import text
        from sqlmodel import Session
        def f(session: Session):
            return session.execute(text("select 1")).all()
        """,
    "statement-variable": """
        from sqlmodel import Session, select
        def f(session: Session):
            stmt = select(Hero)
            return session.exec(stmt).all()
        """,
    "parameter": """
        from sqlmodel import Session
        def f(session: Session, sql: str):
            return session.execute(sql).all()
        """,
    "variable-not-always-a-string": """
        from sqlalchemy import text
        from sqlmodel import Session
        def f(session: Session, raw: bool):
            sql = "select 1"
            if not raw:
                sql = text(sql)
            return session.execute(sql).all()
        """,
    "exec-driver-sql": """
        from sqlalchemy import create_engine
        engine = create_engine("sqlite://")
        with engine.connect() as conn:
            conn.exec_driver_sql("select 1")
        """,
    "alembic-op-execute": """
        from alembic import op
        def upgrade():
            op.execute("update hero set name = 'x'")
        """,
    "sqlalchemy-session-has-no-exec": """
        from sqlalchemy.orm import Session
        def f(session: Session):
            return session.exec("select 1")
        """,
    "unknown-receiver": """
        def f(cursor):
            cursor.execute("select 1")
        """,
    "sqlite3-cursor": """
        import sqlite3
        def f():
            conn = sqlite3.connect(":memory:")
            conn.execute("select 1")
        """,
    "imported-engine": """
        from app.db import engine
        def f():
            with engine.connect() as conn:
                conn.execute("select 1")
        """,
    "bytes": """
        from sqlmodel import Session
        def f(session: Session):
            session.execute(b"select 1")
        """,
    "result-scalar": """
        from sqlmodel import Session
        def f(session: Session, stmt):
            return session.execute(stmt).scalars("id")
        """,
    "shadowed-connection": """
        from sqlalchemy.engine import Connection
        def f(conn: Connection):
            def g(conn):
                conn.execute("select 1")
        """,
    "rebound-connection": """
        from sqlalchemy import create_engine
        engine = create_engine("sqlite://")
        def f(cursor_factory):
            conn = engine.connect()
            conn = cursor_factory()
            conn.execute("select 1")
        """,
}


@pytest.mark.parametrize("code", FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged(code):
    assert codes(code, SELECT) == ["SQL002"]


@pytest.mark.parametrize("code", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_not_flagged(code):
    assert codes(code, SELECT) == []


def test_messages_name_the_error_of_the_receiver():
    (session,) = check(FLAGGED["sqlmodel-execute"], SELECT)
    assert session.message == (
        "Plain string passed to `Session.execute()`: SQLAlchemy 2.x raises `ArgumentError`; "
        "declare it with `text()`"
    )
    (conn,) = check(FLAGGED["engine-connect"], SELECT)
    assert "`Connection.execute()`" in conn.message
    assert "`ObjectNotExecutableError`" in conn.message
    (built,) = check(FLAGGED["f-string"], SELECT)
    assert built.message.startswith("SQL string built at run time")
    assert "bind parameters" in built.message


@pytest.mark.parametrize("name", ["f-string", "percent", "plus", "format", "runtime-variable"])
def test_strings_built_at_run_time_get_no_fix(name):
    (diagnostic,) = check(FLAGGED[name], SELECT)
    assert diagnostic.fix is None


def test_fix_wraps_in_text_and_imports_it():
    fixed = fix(FLAGGED["sqlmodel-execute"], SELECT)
    assert "from sqlalchemy import text\n" in fixed
    assert 'session.execute(text("select 1")).all()' in fixed


def test_fix_wraps_the_variable_and_reuses_an_imported_text():
    code = """
        from sqlmodel import Session, text
        def f(session: Session):
            sql = "select 1"
            return session.execute(sql).all()
        """
    fixed = fix(code, SELECT)
    assert "session.execute(text(sql)).all()" in fixed
    assert "from sqlalchemy import text" not in fixed


@pytest.mark.parametrize(
    "code",
    [
        """
        from sqlmodel import Session
        def f(session: Session, text):
            session.execute("select 1")
        """,
        """
        from sqlmodel import Session
        from app.search import text
        def f(session: Session):
            session.execute("select 1")
        """,
    ],
    ids=["text-parameter", "text-imported-from-elsewhere"],
)
def test_no_fix_when_text_means_something_else(code):
    (diagnostic,) = check(code, SELECT)
    assert diagnostic.fix is None


PROGRAM = """
import asyncio
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

engine = create_engine("sqlite://")
with engine.begin() as setup:
    setup.exec_driver_sql("create table hero (id integer primary key, name text)")
    setup.exec_driver_sql("insert into hero (name) values ('Deadpond'), ('Rusty-Man')")


def run(label, action):
    try:
        print(label, action())
    except Exception as error:
        print(label, type(error).__name__)


with Session(engine) as session:
    run("execute", lambda: session.execute("select name from hero order by id").all())
    run("exec", lambda: session.exec("select count(*) from hero").one())
    run("scalar", lambda: session.scalar("select count(*) from hero"))
    run("scalars", lambda: session.scalars("select id from hero order by id").all())
    sql = "select name from hero where id = :id"
    run("params", lambda: session.execute(sql, {"id": 2}).all())
with engine.connect() as conn:
    run("connection", lambda: conn.execute("select count(*) from hero").all())


async def main():
    async_engine = create_async_engine("sqlite+aiosqlite://")
    async with AsyncSession(async_engine) as session:
        try:
            print("async", (await session.execute("select 1")).all())
        except Exception as error:
            print("async", type(error).__name__)
    await async_engine.dispose()


asyncio.run(main())
"""


def test_failing_forms_raise_and_fixed_code_runs_against_sqlite(tmp_path):
    source = tmp_path / "prog.py"
    source.write_text(PROGRAM)
    assert run_program(source) == [
        "execute ArgumentError",
        "exec ArgumentError",
        "scalar ArgumentError",
        "scalars ArgumentError",
        "params ArgumentError",
        "connection ObjectNotExecutableError",
        "async ArgumentError",
    ]
    assert len(check(PROGRAM, SELECT)) == 7
    source.write_text(fix(PROGRAM, SELECT))
    assert run_program(source) == [
        "execute [('Deadpond',), ('Rusty-Man',)]",
        "exec (2,)",
        "scalar 2",
        "scalars [1, 2]",
        "params [('Rusty-Man',)]",
        "connection [(2,)]",
        "async [(1,)]",
    ]


def test_string_literal_is_an_error_message_as_sqlalchemy_words_it(tmp_path):
    """The exact text users search for, on the installed SQLAlchemy."""
    program = textwrap.dedent(
        """
        from sqlmodel import Session, create_engine
        with Session(create_engine("sqlite://")) as session:
            session.execute("select 1")
        """
    )
    source = tmp_path / "prog.py"
    source.write_text(program)
    before = subprocess.run([sys.executable, source], capture_output=True, text=True)
    assert (
        "Textual SQL expression 'select 1' should be explicitly declared as text('select 1')"
        in before.stderr
    )


def test_documented_examples_hold():
    doc = meta("SQL002").explanation
    example, use_instead = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert codes(example, SELECT) == ["SQL002", "SQL002"]
    assert codes(use_instead, SELECT) == []
