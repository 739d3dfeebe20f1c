"""Fixtures for the runtime-helper tests: real databases, three model styles, two copies.

Every test runs against
- ``impl``: the installed ``sqlsafe.helpers`` and a copy written by ``export_helpers`` into a
  temporary directory and imported from there;
- ``db``: SQLite in memory, SQLite in a file and, when ``SQLSAFE_TEST_POSTGRES_URL`` is set,
  PostgreSQL (each run gets its own schema, dropped at the end);
- ``style``: SQLModel table models, SQLAlchemy 2.0 ``DeclarativeBase`` models and 1.4-style
  ``declarative_base()`` models.
"""

import importlib
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers_testlib import STYLES, Database, Impl, Style
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from sqlsafe.helpers_export import export_helpers

POSTGRES_ENV = "SQLSAFE_TEST_POSTGRES_URL"
POSTGRES_SKIP_REASON = f"PostgreSQL tests not run: set {POSTGRES_ENV}"


@pytest.fixture(params=list(STYLES))
def style(request: pytest.FixtureRequest) -> Style:
    return STYLES[request.param]


# --- the two copies of the helpers


@pytest.fixture(scope="session")
def exported_impl(tmp_path_factory: pytest.TempPathFactory) -> Impl:
    root = tmp_path_factory.mktemp("exported")
    package = f"exported_db_helpers_{uuid.uuid4().hex[:8]}"
    export_helpers(root / package)
    sys.path.insert(0, str(root))
    try:
        sync = importlib.import_module(package)
        aio = importlib.import_module(f"{package}.asyncio")
    finally:
        sys.path.remove(str(root))
    assert Path(sync.__file__ or "").parent == root / package
    return Impl("exported", sync, aio)


@pytest.fixture(params=["installed", "exported"])
def impl(request: pytest.FixtureRequest) -> Impl:
    if request.param == "installed":
        import sqlsafe.helpers
        import sqlsafe.helpers.asyncio

        return Impl("installed", sqlsafe.helpers, sqlsafe.helpers.asyncio)
    exported: Impl = request.getfixturevalue("exported_impl")
    return exported


# --- databases


ALL_METADATA = [style.metadata for style in STYLES.values()]


def _create_schema(engine: Engine) -> None:
    for metadata in ALL_METADATA:
        tables = [t for style in STYLES.values() for t in style.tables if t.metadata is metadata]
        metadata.create_all(engine, tables=tables)


@pytest.fixture(scope="session")
def sqlite_memory_db() -> Iterator[Database]:
    connect_args = {"check_same_thread": False}
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args=connect_args)
    _create_schema(engine)
    yield Database("sqlite-memory", engine, None, connect_args)
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_file_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("sqlite") / "helpers.db"
    # The race tests queue 8 writers on SQLite's one write lock; allow for a loaded machine.
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    _create_schema(engine)
    yield Database("sqlite-file", engine, f"sqlite+aiosqlite:///{path}", {})
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[Database]:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(POSTGRES_SKIP_REASON)
    # A schema of our own, so that concurrent runs against one server do not collide.
    schema = f"sqlsafe_helpers_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    connect_args = {"options": f"-c search_path={schema}"}
    engine = create_engine(url, connect_args=connect_args, isolation_level="READ COMMITTED")
    try:
        _create_schema(engine)
        yield Database("postgres", engine, url, connect_args)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


def _use_database(request: pytest.FixtureRequest, style: Style) -> Iterator[Database]:
    database: Database = request.getfixturevalue(f"{request.param.replace('-', '_')}_db")
    _clear(database.engine, style)  # before, not after: a failed test leaves its rows to see
    yield database


def _clear(engine: Engine, style: Style) -> None:
    with engine.begin() as conn:
        for table in reversed(style.tables):
            conn.execute(delete(table))


@pytest.fixture(params=["sqlite-memory", "sqlite-file", POSTGRES])
def db(request: pytest.FixtureRequest, style: Style) -> Iterator[Database]:
    yield from _use_database(request, style)


@pytest.fixture(params=["sqlite-file", POSTGRES])
def shared_db(request: pytest.FixtureRequest, style: Style) -> Iterator[Database]:
    """Like ``db``, for tests that need several connections to one database."""
    yield from _use_database(request, style)


@pytest.fixture(params=[POSTGRES])
def pg_db(request: pytest.FixtureRequest, style: Style) -> Iterator[Database]:
    yield from _use_database(request, style)


# --- say loudly that PostgreSQL was skipped


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not os.environ.get(POSTGRES_ENV) and any(
        POSTGRES_SKIP_REASON in str(report.longrepr) for report in skipped
    ):
        terminalreporter.write_sep("=", POSTGRES_SKIP_REASON, yellow=True, bold=True)
