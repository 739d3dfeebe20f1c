"""Detached and expired instances reproduced against SQLite: each program raises before the fix
(`DetachedInstanceError`, or `MissingGreenlet` in async code) and prints what was meant
after `sqlsafe fix` (with `--unsafe-fixes` where the fix is unsafe)."""

import subprocess
import sys
import textwrap

import pytest

from tests.checks.detach_models import MODELS, index
from tests.checks.harness import fix

RULES = ["DETACH001", "DETACH002", "DETACH003", "SCOPE001"]
SETUP = """
import asyncio
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select
from app.models import Plain, Team, User

engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
SQLModel.metadata.create_all(engine)
with Session(engine) as seed:
    seed.add(User(email="a@x.io", team=Team(name="t")))
    seed.add(Plain(email="p@x.io"))
    seed.commit()
"""

PROGRAMS = {
    "2-get-commit": """
        def get_user(user_id):
            with Session(engine) as s:
                user = s.get(User, user_id)
                s.commit()
                return user

        print(get_user(1).email)
        """,
    "3-modify-commit": """
        def verify(email):
            with Session(engine) as s:
                user = s.exec(select(User).where(User.email == email)).one()
                user.verified = True
                s.commit()
                return user

        user = verify("a@x.io")
        print(user.email, user.verified)
        """,
    "14-begin-block-new-object": """
        def create(email):
            with Session(engine) as s, s.begin():
                plain = Plain(email=email)
                s.add(plain)
                return plain

        plain = create("new@x.io")
        print(plain.id, plain.email)
        """,
    "parameter-added-and-returned": """
        def create(plain: Plain) -> Plain:
            with Session(engine) as s:
                s.add(plain)
                s.commit()
                return plain

        plain = create(Plain(email="new@x.io"))
        print(plain.email)
        """,
    "parameter-read-after-the-block": """
        def create(plain: Plain):
            with Session(engine) as s:
                s.add(plain)
                s.commit()
            print(plain.email)

        create(Plain(email="new@x.io"))
        """,
    "16-rollback": """
        def load():
            with Session(engine) as s:
                plain = s.get(Plain, 1)
                s.rollback()
                return plain

        print(getattr(load(), "email"))
        """,
    "scope-after-commit": """
        with Session(engine) as s:
            user = s.get(User, 1)
            user.code = "42"
            s.commit()
        print(user.code)
        """,
    "scope-lazy-relationship": """
        def team_name():
            with Session(engine) as s:
                user = s.get(User, 1)
            return user.team.name

        print(team_name())
        """,
    "refresh-when-the-result-escapes": """
        def get_user(user_id):
            with Session(engine) as s:
                user = s.get(User, user_id)
                s.commit()
                return user

        def show(user):
            print(user.email)

        show(get_user(1))
        """,
}

EXPECTED = {
    "2-get-commit": "a@x.io",
    "3-modify-commit": "a@x.io True",
    "14-begin-block-new-object": "2 new@x.io",
    "parameter-added-and-returned": "new@x.io",
    "parameter-read-after-the-block": "new@x.io",
    "16-rollback": "p@x.io",
    "scope-after-commit": "42",
    "scope-lazy-relationship": "t",
    "refresh-when-the-result-escapes": "a@x.io",
}


def run(tmp_path, source: str) -> subprocess.CompletedProcess[str]:
    package = tmp_path / "app"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    (package / "snippet.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "app.snippet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", PROGRAMS)
def test_fails_before_and_works_after(tmp_path, name):
    program = SETUP + textwrap.dedent(PROGRAMS[name])
    before = run(tmp_path, program)
    assert before.returncode == 1
    assert "DetachedInstanceError" in before.stderr
    fixed = fix(program, RULES, unsafe=True, index=index())
    assert fixed != program
    after = run(tmp_path, fixed)
    assert after.returncode == 0, after.stderr + fixed
    assert after.stdout.strip() == EXPECTED[name]


ASYNC_SETUP = """
import asyncio
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession
from app.models import Plain

engine = create_async_engine("sqlite+aiosqlite://")

async def seed():
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    async with AsyncSession(engine) as s:
        s.add(Plain(email="p@x.io"))
        await s.commit()
"""


def test_async_conversion_runs_in_a_greenlet(tmp_path):
    program = ASYNC_SETUP + textwrap.dedent(
        """
        async def rename(email):
            async with AsyncSession(engine) as s:
                plain = (await s.exec(select(Plain))).one()
                plain.email = email
                await s.commit()
                return plain

        async def main():
            await seed()
            plain = await rename("q@x.io")
            print(plain.email)

        asyncio.run(main())
        """
    )
    before = run(tmp_path, program)
    assert "DetachedInstanceError" in before.stderr
    fixed = fix(program, RULES, unsafe=True, index=index())
    assert "return await s.run_sync(lambda _: model_to_dict(plain))" in fixed
    after = run(tmp_path, fixed)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "q@x.io"


def test_async_read_after_commit_inside_the_block_is_missing_greenlet(tmp_path):
    from tests.checks.harness import check

    program = ASYNC_SETUP + textwrap.dedent(
        """
        async def main():
            await seed()
            async with AsyncSession(engine) as s:
                plain = (await s.exec(select(Plain))).one()
                await s.commit()
                print(plain.email)

        asyncio.run(main())
        """
    )
    before = run(tmp_path, program)
    assert "MissingGreenlet" in before.stderr
    (diagnostic,) = check(program, RULES, index=index())
    assert diagnostic.code == "SCOPE001"
    assert "MissingGreenlet" in diagnostic.message
