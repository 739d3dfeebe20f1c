"""Sessions that commit when their block ends: a `@contextmanager` factory that commits
after its `yield`, and `begin()` blocks. Every instance loaded in the block is expired at
its end; reading one after the block raises `DetachedInstanceError` (run against SQLite
here), unless the factory sets `expire_on_commit=False` or the factory does not commit."""

import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

import pytest

from sqlsafe.index import ProjectIndex, build_index
from tests.checks.detach_models import MODELS
from tests.checks.harness import check

RULES = ["DETACH001", "DETACH002", "DETACH003", "SCOPE001"]

DB = """
from contextlib import asynccontextmanager, contextmanager

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.models import Plain

engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
SQLModel.metadata.create_all(engine)
SessionLocal = sessionmaker(engine, class_=Session)
Quiet = sessionmaker(engine, class_=Session, expire_on_commit=False)
with SessionLocal() as seed:
    seed.add(Plain(email="p@x.io"))
    seed.commit()


@contextmanager
def get_session():
    session = SessionLocal()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()


AsyncLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))


@asynccontextmanager
async def get_async_session():
    async with AsyncLocal() as session:
        yield session
        await session.commit()


@contextmanager
def quiet_session():
    with Quiet() as session:
        yield session
        session.commit()


@contextmanager
def plain_session():
    with SessionLocal() as session:
        yield session


@contextmanager
def commit_on_error_only():
    with SessionLocal() as session:
        try:
            yield session
        except Exception:
            session.commit()
            raise
"""
HEADER = """\
from sqlmodel import select
from app.db import SessionLocal, commit_on_error_only, get_session, plain_session, quiet_session
from app.models import Plain
"""


@cache
def index(root: Path = Path("/tmp/sqlsafe-commit-on-exit")) -> ProjectIndex:
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    files = {"__init__.py": "", "models.py": MODELS, "db.py": DB}
    for name, text in files.items():
        (package / name).write_text(text)
    return build_index([package / name for name in files], [root])


def test_the_index_knows_which_factories_commit_on_exit():
    names = ("get_session", "quiet_session", "get_async_session")
    facts = {name: index().factory(f"app.db.{name}") for name in names}
    assert all(f is not None and f.commits_on_exit for f in facts.values())
    for name in ("plain_session", "commit_on_error_only", "SessionLocal"):
        factory = index().factory(f"app.db.{name}")
        assert factory is not None and not factory.commits_on_exit, name


def run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    package = tmp_path / "app"
    package.mkdir(exist_ok=True)
    files = {"__init__.py": "", "models.py": MODELS, "db.py": DB, "snippet.py": body}
    for name, text in files.items():
        (package / name).write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "app.snippet"], cwd=tmp_path, capture_output=True, text=True
    )


# name -> (program, the rule that reports it)
FAILING = {
    "read-after-the-factory-block": (
        """
        with get_session() as s:
            plain = s.get(Plain, 1)
        print(plain.email)
        """,
        "SCOPE001",
    ),
    "loop-after-the-factory-block": (
        """
        def emails():
            with get_session() as s:
                plains = s.exec(select(Plain)).all()
            return [plain.email for plain in plains]

        for plain in emails():
            print(plain)
        """,
        "SCOPE001",
    ),
    "returned-from-the-factory-block": (
        """
        def load():
            with get_session() as s:
                return s.get(Plain, 1)

        print(load().email)
        """,
        "DETACH002",
    ),
    "sessionmaker-begin": (
        """
        with SessionLocal.begin() as s:
            plain = s.get(Plain, 1)
        print(plain.email)
        """,
        "SCOPE001",
    ),
    "session-and-its-begin": (
        """
        with SessionLocal() as s, s.begin():
            plain = s.get(Plain, 1)
        print(plain.email)
        """,
        "SCOPE001",
    ),
}

WORKING = {
    "factory-without-expiry": """
        with quiet_session() as s:
            plain = s.get(Plain, 1)
        print(plain.email)
        """,
    "factory-that-does-not-commit": """
        with plain_session() as s:
            plain = s.get(Plain, 1)
        print(plain.email)
        """,
    "factory-that-commits-only-on-errors": """
        with commit_on_error_only() as s:
            plain = s.get(Plain, 1)
        print(plain.email)
        """,
    "read-inside-the-block": """
        with get_session() as s:
            plain = s.get(Plain, 1)
            print(plain.email)
        """,
    "refreshed-by-a-new-session": """
        with get_session() as s:
            plain = s.get(Plain, 1)
        with get_session() as s:
            s.add(plain)
            print(plain.email)
        """,
}


@pytest.mark.parametrize("name", FAILING)
def test_failing_forms_reported_and_raise(tmp_path, name):
    source, code = FAILING[name]
    program = HEADER + textwrap.dedent(source)
    diagnostics = check(program, RULES, index=index(), module_name="app.snippet")
    # A converted function's callers are reported too (their reads change with it).
    assert {d.code for d in diagnostics} == {code}
    assert "expired" in diagnostics[0].message
    result = run(tmp_path, program)
    assert "DetachedInstanceError" in result.stderr


@pytest.mark.parametrize("name", WORKING)
def test_working_look_alikes_not_reported_and_run(tmp_path, name):
    program = HEADER + textwrap.dedent(WORKING[name])
    assert check(program, RULES, index=index(), module_name="app.snippet") == []
    result = run(tmp_path, program)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "p@x.io"


def test_async_factory_block():
    program = HEADER + textwrap.dedent(
        """
        from app.db import get_async_session

        async def email():
            async with get_async_session() as s:
                plain = await s.get(Plain, 1)
            return plain.email
        """
    )
    (diagnostic,) = check(program, RULES, index=index(), module_name="app.snippet")
    assert diagnostic.code == "SCOPE001"
    assert "`get_async_session()`" in diagnostic.message


def test_message_names_the_factory():
    program = HEADER + textwrap.dedent(FAILING["read-after-the-factory-block"][0])
    (diagnostic,) = check(program, RULES, index=index(), module_name="app.snippet")
    assert "the commit `get_session()` makes when the block ends" in diagnostic.message
