"""The helpers pass `mypy --strict` (as exported: the same code plus a comment header) and
their overloads give callers precise types."""

import subprocess
import sys
from pathlib import Path

import pytest

from sqlsafe.helpers_export import export_helpers

SAMPLE = """
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from typing_extensions import assert_type

import db_helpers as h
import db_helpers.asyncio as ah


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "user"
    id: Mapped[int] = mapped_column(primary_key=True)


def sync(s: Session) -> None:
    assert_type(h.model_to_dict(User()), dict[str, Any])
    assert_type(h.model_to_dict(User(), include=["id"]), dict[str, Any])
    assert_type(h.model_to_dict(s.get(User, 1)), dict[str, Any] | None)
    assert_type(h.model_to_dict(None), None)
    assert_type(h.query_one(s, select(User), User), User | None)
    assert_type(h.query_all(s, select(User), User), list[User])
    assert_type(h.query_all(s, select(User.id)), list[Any])
    assert_type(h.safe_get(s, User, 1), User | None)
    assert_type(h.safe_get(s, User, 1, to_dict=True), dict[str, Any] | None)
    assert_type(h.get_or_create(s, User, defaults={"id": 2}, name="x"), tuple[User, bool])


async def asynchronous(s: AsyncSession) -> None:
    assert_type(await ah.model_to_dict(User()), dict[str, Any])
    assert_type(await ah.model_to_dict(await s.get(User, 1)), dict[str, Any] | None)
    assert_type(await ah.query_one(s, select(User), User), User | None)
    assert_type(await ah.query_all(s, select(User), User), list[User])
    assert_type(await ah.safe_get(s, User, 1, to_dict=True), dict[str, Any] | None)
    assert_type(await ah.get_or_create(s, User, id=1), tuple[User, bool])
    row = await ah.query_one(s, select(User, User.id))
    assert isinstance(row, Row)
"""


def test_mypy_strict(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    export_helpers(tmp_path / "db_helpers")
    (tmp_path / "sample.py").write_text(SAMPLE, encoding="utf-8")
    pytest_cache = getattr(request.config, "cache", None)  # absent with -p no:cacheprovider
    cache = pytest_cache.mkdir("mypy") if pytest_cache else tmp_path / ".mypy_cache"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version=3.10",
            f"--cache-dir={cache}",
            "--config-file=",
            str(tmp_path / "sample.py"),
            str(tmp_path / "db_helpers"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
