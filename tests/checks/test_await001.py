import subprocess
import sys
import textwrap

import pytest

from tests.checks.harness import check, codes, fix

SELECT = ["AWAIT001"]

HEADER = """
import asyncio
from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession, async_sessionmaker
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession
"""

# (body, the fixed line)
FLAGGED = {
    "statement": (
        """
        async def f(session: AsyncSession, user):
            session.add(user)
            session.commit()
        """,
        "await session.commit()",
    ),
    "attribute-of-result": (
        """
        async def f(session: AsyncSession, stmt):
            return session.exec(stmt).first()
        """,
        "return (await session.exec(stmt)).first()",
    ),
    "iterated": (
        """
        async def f(session: AsyncSession, stmt):
            for user in session.scalars(stmt):
                print(user)
        """,
        "for user in await session.scalars(stmt):",
    ),
    "iterated-in-comprehension": (
        """
        async def f(session: AsyncSession, stmt):
            return [user.name for user in session.scalars(stmt)]
        """,
        "return [user.name for user in await session.scalars(stmt)]",
    ),
    "truth-test": (
        """
        async def f(session: AsyncSession, model, key):
            if not session.get(model, key):
                raise LookupError(key)
        """,
        "if not await session.get(model, key):",
    ),
    "compared": (
        """
        async def f(session: AsyncSession, count):
            return session.scalar(count) == 0
        """,
        "return await session.scalar(count) == 0",
    ),
    "indexed": (
        """
        async def f(session: AsyncSession, load):
            return session.run_sync(load)[0]
        """,
        "return (await session.run_sync(load))[0]",
    ),
    "stored-then-used": (
        """
        async def f(session: AsyncSession, stmt):
            result = session.execute(stmt)
            return result.scalars().all()
        """,
        "result = await session.execute(stmt)",
    ),
    "stored-then-defaulted": (
        """
        async def count(session: AsyncSession, stmt) -> int:
            result = session.scalar(stmt)
            return result or 0
        """,
        "result = await session.scalar(stmt)",
    ),
    "stored-never-used": (
        """
        async def f(session: AsyncSession, user):
            pending = session.delete(user)
        """,
        "pending = await session.delete(user)",
    ),
    "returned-from-a-coroutine": (
        """
        async def load(session: AsyncSession, key):
            return session.get(User, key)
        """,
        "return await session.get(User, key)",
    ),
    "stored-then-returned-from-a-coroutine": (
        """
        async def load(session: AsyncSession, key):
            user = session.get(User, key)
            return user
        """,
        "user = await session.get(User, key)",
    ),
    "stream-result": (
        """
        async def f(session: AsyncSession, stmt):
            result = await session.stream(stmt)
            for user in result.scalars().all():
                print(user)
        """,
        "for user in await result.scalars().all():",
    ),
    "awaitable-attrs": (
        """
        async def f(team):
            return [member.name for member in team.awaitable_attrs.members]
        """,
        "return [member.name for member in await team.awaitable_attrs.members]",
    ),
    "sessionmaker-of-async-sessions": (
        """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker(engine, class_=SAAsyncSession, expire_on_commit=False)
        async def f(user):
            async with SessionLocal() as session:
                session.refresh(user)
        """,
        "await session.refresh(user)",
    ),
    "repository-attribute": (
        """
        class Users:
            def __init__(self, session: AsyncSession):
                self.session = session

            async def delete(self, user):
                self.session.delete(user)
        """,
        "await self.session.delete(user)",
    ),
    "declared-attribute": (
        """
        class Users:
            session: SAAsyncSession

            async def save(self):
                self.session.commit()
        """,
        "await self.session.commit()",
    ),
    "sqlalchemy-async-with": (
        """
        async def f(engine, user):
            async with SAAsyncSession(engine) as session:
                session.add(user)
                session.flush()
        """,
        "await session.flush()",
    ),
    "async-sessionmaker": (
        """
        Maker = async_sessionmaker(engine)
        async def f(user):
            async with Maker() as session:
                session.merge(user)
        """,
        "await session.merge(user)",
    ),
}

# Reported, but no `await` can be inserted where the call is.
FLAGGED_WITHOUT_FIX = {
    "sync-function": """
        def f(session: AsyncSession):
            session.rollback()
        """,
    "inside-a-lambda": """
        async def f(session: AsyncSession, stmt):
            load = lambda: session.exec(stmt).all()
            return await asyncio.to_thread(load)
        """,
}

NOT_FLAGGED = {
    "awaited": """
        async def f(session: AsyncSession, stmt):
            await session.commit()
            return (await session.exec(stmt)).first()
        """,
    "gathered": """
        async def f(session: AsyncSession, a, b):
            await asyncio.gather(session.refresh(a), session.refresh(b))
        """,
    "task-group": """
        async def f(session: AsyncSession, user):
            async with asyncio.TaskGroup() as group:
                group.create_task(session.refresh(user))
        """,
    "returned-for-the-caller-to-await": """
        def commit_later(session: AsyncSession):
            return session.commit()
        """,
    "collected-then-gathered": """
        async def f(session: AsyncSession, users):
            await asyncio.gather(*[session.delete(user) for user in users])
        """,
    "stored-then-awaited": """
        async def f(session: AsyncSession, stmt):
            pending = session.execute(stmt)
            result = await pending
            return result.all()
        """,
    "stored-then-handed-on": """
        async def f(session: AsyncSession):
            pending = session.commit()
            await asyncio.wait_for(pending, 5)
        """,
    "lambda-returns-the-coroutine": """
        async def f(session: AsyncSession):
            await asyncio.wait_for((lambda: session.commit())(), 5)
        """,
    "run-sync-callback-of-the-same-name": """
        async def f(session: AsyncSession, stmt):
            return await session.run_sync(lambda session: session.execute(stmt).all())
        """,
    "stream-awaited": """
        async def f(session: AsyncSession, stmt):
            rows = await (await session.stream(stmt)).scalars().all()
            async for row in await session.stream(stmt):
                print(row)
            return rows, await team.awaitable_attrs.members
        """,
    "result-of-a-sync-session": """
        def f(session: Session, stmt):
            result = session.execute(stmt)
            return result.scalars().all()
        """,
    "repository-with-a-sync-session": """
        class Users:
            def __init__(self, session: Session):
                self.session = session

            async def delete(self, user):
                self.session.delete(user)
                self.session.commit()
        """,
    "attribute-not-only-the-session": """
        class Users:
            def __init__(self, session: AsyncSession, other):
                self.session = session
                if other:
                    self.session = other

            async def save(self):
                self.session.commit()
        """,
    "another-object-attribute": """
        class Users:
            def __init__(self, session: AsyncSession):
                self.session = session

            async def save(self, other):
                other.session.commit()
        """,
    "sync-session": """
        def f(session: Session, stmt):
            session.commit()
            return session.exec(stmt).first()
        """,
    "not-coroutine-methods": """
        async def f(session: AsyncSession, user):
            session.add(user)
            session.add_all([user])
            session.expunge(user)
            session.expire(user)
        """,
    "unknown-receiver": """
        async def f(session, stmt):
            session.commit()
        """,
}


def _code(body: str) -> str:
    return HEADER + textwrap.dedent(body)


@pytest.mark.parametrize(("body", "fixed"), FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged_and_fixed(body, fixed):
    (diagnostic,) = check(_code(body), SELECT)
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "unsafe"
    assert fixed in [line.strip() for line in fix(_code(body), SELECT, unsafe=True).splitlines()]


@pytest.mark.parametrize("body", FLAGGED_WITHOUT_FIX.values(), ids=FLAGGED_WITHOUT_FIX.keys())
def test_flagged_without_fix(body):
    (diagnostic,) = check(_code(body), SELECT)
    assert diagnostic.fix is None


@pytest.mark.parametrize("body", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_not_flagged(body):
    assert codes(_code(body), SELECT) == []


def test_message_says_what_happens():
    (statement,) = check(_code(FLAGGED["statement"][0]), SELECT)
    assert statement.message == (
        "`AsyncSession.commit()` is a coroutine and is not awaited: it never runs "
        "(`RuntimeWarning: coroutine ... was never awaited`)"
    )
    (stored,) = check(_code(FLAGGED["stored-then-used"][0]), SELECT)
    assert stored.message.endswith("stored in `result`, which is never awaited")


# Each function holds one of the mistakes; `main` runs them all against aiosqlite and prints
# what each gave, before and after `sqlsafe fix --unsafe-fixes`.
PROGRAM = """
import asyncio
import sys

from sqlalchemy import ForeignKey
from sqlalchemy.ext.asyncio import AsyncAttrs, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlmodel import Field, SQLModel, func, select
from sqlmodel.ext.asyncio.session import AsyncSession


class Squad(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "team"
    id: Mapped[int] = mapped_column(primary_key=True)
    members: Mapped[list["Member"]] = relationship()


class Member(Base):
    __tablename__ = "member"
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))


engine = create_async_engine("sqlite+aiosqlite:///" + sys.argv[1])


async def add_squad(session: AsyncSession) -> None:
    session.add(Squad(name="red"))
    session.commit()


async def first_name(session: AsyncSession) -> str:
    return session.exec(select(Squad)).first().name


async def names(session: AsyncSession) -> list[str]:
    return [squad.name for squad in session.scalars(select(Squad))]


async def exists(session: AsyncSession) -> bool:
    if session.get(Squad, 99):
        return True
    return False


async def none_named_blue(session: AsyncSession) -> bool:
    count = select(func.count()).select_from(Squad).where(Squad.name == "blue")
    return session.scalar(count) == 0


async def first_via_sync(session: AsyncSession) -> str:
    return session.run_sync(lambda sync: sync.scalars(select(Squad.name)).all())[0]


async def stored(session: AsyncSession) -> list[str]:
    result = session.execute(select(Squad.name))
    return list(result.scalars())


async def streamed(session: AsyncSession) -> list[str]:
    result = await session.stream(select(Squad.name))
    return [name for name in result.scalars().all()]


async def team_size(session: AsyncSession) -> int:
    team = await session.get(Team, 1)
    return len([member for member in team.awaitable_attrs.members])


async def load(session: AsyncSession) -> Squad | None:
    return session.get(Squad, 1)


async def loaded_name(session: AsyncSession) -> str:
    return (await load(session)).name


async def outcome(work):
    try:
        return repr(await work)
    except Exception as error:
        return f"{type(error).__name__}: {error}"


async def main() -> None:
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
        await connection.run_sync(Base.metadata.create_all)
    async with AsyncSession(engine) as session:
        session.add(Team(id=1, members=[Member(id=1)]))
        await session.commit()
    async with AsyncSession(engine) as session:
        await add_squad(session)
    async with AsyncSession(engine) as session:
        rows = (await session.exec(select(Squad))).all()
        print("rows", len(rows))
        if not rows:
            await session.run_sync(lambda sync: sync.add(Squad(name="red")))
            await session.flush()
        checks = (first_name, names, exists, none_named_blue, first_via_sync, stored)
        for check in (*checks, streamed, team_size, loaded_name):
            print(check.__name__, await outcome(check(session)))


asyncio.run(main())
"""


# line: (what the program prints as written, what it prints after the fix)
OUTCOMES = {
    "rows": ("0", "1"),  # the commit never ran
    "first_name": ("AttributeError: 'coroutine' object has no attribute 'first'", "'red'"),
    "names": ("TypeError: 'coroutine' object is not iterable", "['red']"),
    "exists": ("True", "False"),  # a coroutine is true, whatever `get` would return
    "none_named_blue": ("False", "True"),  # the coroutine is compared, not the count
    "first_via_sync": ("TypeError: 'coroutine' object is not subscriptable", "'red'"),
    "stored": ("AttributeError: 'coroutine' object has no attribute 'scalars'", "['red']"),
    "streamed": ("TypeError: 'coroutine' object is not iterable", "['red']"),
    "team_size": ("TypeError: 'coroutine' object is not iterable", "1"),
    "loaded_name": ("AttributeError: 'coroutine' object has no attribute 'name'", "'red'"),
}


def test_failing_forms_fail_and_fixed_code_works_on_aiosqlite(tmp_path):
    source = tmp_path / "prog.py"

    def run() -> subprocess.CompletedProcess[str]:
        database = tmp_path / "db.sqlite"
        database.unlink(missing_ok=True)
        result = subprocess.run(
            [sys.executable, str(source), str(database)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        return result

    source.write_text(PROGRAM)
    before = run()
    assert before.stdout.splitlines() == [f"{line} {was}" for line, (was, _) in OUTCOMES.items()]
    assert "RuntimeWarning: coroutine 'AsyncSession.commit' was never awaited" in before.stderr

    assert len(check(PROGRAM, SELECT)) == len(OUTCOMES)  # one mistake behind each line
    source.write_text(fix(PROGRAM, SELECT, unsafe=True))
    after = run()
    assert after.stdout.splitlines() == [f"{line} {now}" for line, (_, now) in OUTCOMES.items()]
    assert "never awaited" not in after.stderr
