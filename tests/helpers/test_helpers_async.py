"""The async twins with SQLModel's and SQLAlchemy's AsyncSession (aiosqlite, psycopg)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import sqlalchemy
import sqlmodel
from helpers_testlib import Database, Impl, Style
from sqlalchemy import event, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.orm.exc import DetachedInstanceError
from sqlmodel.ext.asyncio.session import AsyncSession as SQLModelAsyncSession

ASYNC_SESSIONS = {
    "sqlmodel.AsyncSession": SQLModelAsyncSession,
    "sqlalchemy.AsyncSession": AsyncSession,
}
SELECTS = {"sqlmodel.select": sqlmodel.select, "sqlalchemy.select": sqlalchemy.select}


@pytest.fixture(params=list(ASYNC_SESSIONS))
def session_cls(request: pytest.FixtureRequest) -> type[AsyncSession]:
    return ASYNC_SESSIONS[request.param]


@pytest.fixture(params=list(SELECTS))
def select(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return SELECTS[request.param]


def run(db: Database, style: Style, body: Callable[[AsyncEngine], Awaitable[None]]) -> None:
    async def main() -> None:
        engine = db.make_async_engine()
        try:
            if not db.shared_between_connections:  # a new in-memory database
                async with engine.begin() as conn:
                    await conn.run_sync(style.metadata.create_all, tables=style.tables)
            await body(engine)
        finally:
            await engine.dispose()

    asyncio.run(main())


async def seed(engine: AsyncEngine, style: Style) -> dict[str, int]:
    async with AsyncSession(engine) as s:
        a = style.Team(name="a", motto="first")
        s.add_all([a, style.Team(name="b")])
        await s.flush()
        s.add_all(
            [
                style.Member(email="x@a.io", bio="bio x", team_id=a.id),
                style.Member(email="y@a.io", bio="bio y", team_id=a.id),
            ]
        )
        await s.commit()
        teams = {t.name: t.id for t in await s.scalars(sqlalchemy.select(style.Team))}
        members = {m.email: m.id for m in await s.scalars(sqlalchemy.select(style.Member))}
        return {**teams, **members}


def member_dict(ids: dict[str, int]) -> dict[str, Any]:
    return {"id": ids["x@a.io"], "email": "x@a.io", "bio": "bio x", "team_id": ids["a"]}


async def count(engine: AsyncEngine, model: Any, **where: Any) -> int:
    async with AsyncSession(engine) as s:
        stmt = sqlalchemy.select(func.count()).select_from(model).filter_by(**where)
        return await s.scalar(stmt) or 0


def test_model_to_dict_of_expired_instance_in_live_session(
    impl: Impl, db: Database, style: Style, session_cls: type[AsyncSession]
) -> None:
    async def body(engine: AsyncEngine) -> None:
        ids = await seed(engine, style)
        async with session_cls(engine) as s:
            m = await s.get(style.Member, ids["x@a.io"])
            await s.commit()
            # Expired: a plain read would need IO outside the greenlet (MissingGreenlet).
            assert "email" not in m.__dict__
            assert await impl.aio.model_to_dict(m) == member_dict(ids)
            deferred = await s.get(style.Member, ids["y@a.io"], options=[defer(style.Member.bio)])
            assert "bio" not in deferred.__dict__
            assert (await impl.aio.model_to_dict(deferred, include=["bio"])) == {"bio": "bio y"}

    run(db, style, body)


def test_model_to_dict_outside_session(
    impl: Impl, db: Database, style: Style, session_cls: type[AsyncSession]
) -> None:
    async def body(engine: AsyncEngine) -> None:
        ids = await seed(engine, style)
        assert await impl.aio.model_to_dict(None) is None
        async with session_cls(engine) as s:
            loaded = await s.get(style.Member, ids["x@a.io"])
            expired = await s.get(style.Member, ids["y@a.io"])
            s.expire(expired)
        assert await impl.aio.model_to_dict(loaded) == member_dict(ids)
        with pytest.raises(DetachedInstanceError, match="not loaded: id, email, bio, team_id"):
            await impl.aio.model_to_dict(expired)
        with pytest.raises(ValueError, match="nope"):
            await impl.aio.model_to_dict(loaded, exclude=["nope"])

    run(db, style, body)


def test_query_one_and_query_all(
    impl: Impl,
    db: Database,
    style: Style,
    session_cls: type[AsyncSession],
    select: Callable[..., Any],
) -> None:
    Team, Member = style.Team, style.Member
    h = impl.aio

    async def body(engine: AsyncEngine) -> None:
        await seed(engine, style)
        async with session_cls(engine) as s:
            team = await h.query_one(s, select(Team).where(Team.name == "a"))
            assert isinstance(team, Team) and team.name == "a"
            assert await h.query_one(s, select(Team).where(Team.name == "a"), Team) is team
            assert await h.query_one(s, select(Team).where(Team.name == "zz"), Team) is None
            assert await h.query_one(s, select(func.count()).select_from(Member)) == 2
            pair = select(Member, Team).join(Team, Member.team_id == Team.id).order_by(Member.email)
            row = await h.query_one(s, pair)
            assert isinstance(row, sqlalchemy.Row) and row[1] is team
            assert await h.query_one(s, pair, Team) is team
            with pytest.raises(ValueError, match="does not select"):
                await h.query_one(s, select(Team), Member)
            assert await h.query_all(s, select(Team.name).order_by(Team.name)) == ["a", "b"]
            assert [m.email for m in await h.query_all(s, pair, Member)] == ["x@a.io", "y@a.io"]
            eager = select(Team).options(joinedload(Team.members)).order_by(Team.name)
            teams = await h.query_all(s, eager, Team)
            assert [(t.name, len(t.members)) for t in teams] == [("a", 2), ("b", 0)]

    run(db, style, body)


def test_safe_get(impl: Impl, db: Database, style: Style, session_cls: type[AsyncSession]) -> None:
    async def body(engine: AsyncEngine) -> None:
        ids = await seed(engine, style)
        async with session_cls(engine) as s:
            m = await impl.aio.safe_get(s, style.Member, ids["x@a.io"])
            assert isinstance(m, style.Member)
            assert await impl.aio.safe_get(s, style.Member, -1) is None
            await s.commit()  # expires m
            got = await impl.aio.safe_get(s, style.Member, ids["x@a.io"], to_dict=True)
            assert got == member_dict(ids)

    run(db, style, body)


def test_get_or_create(
    impl: Impl, db: Database, style: Style, session_cls: type[AsyncSession]
) -> None:
    h = impl.aio

    async def body(engine: AsyncEngine) -> None:
        async with session_cls(engine) as s:
            team, created = await h.get_or_create(s, style.Team, defaults={"motto": "m"}, name="n")
            assert created and team.motto == "m"
            again, created = await h.get_or_create(s, style.Team, name="n")
            assert not created and again is team
            await s.rollback()  # never committed: the row goes away
        assert await count(engine, style.Team, name="n") == 0
        async with session_cls(engine) as s:
            s.add(style.Team(name="kept"))
            with pytest.raises(IntegrityError):
                await h.get_or_create(s, style.Member, bio="no email")
            await s.commit()
        assert await count(engine, style.Team, name="kept") == 1

    run(db, style, body)


def test_get_or_create_lost_race_keeps_pending_work(
    impl: Impl, shared_db: Database, style: Style, session_cls: type[AsyncSession]
) -> None:
    db = shared_db
    winner: list[int] = []

    def other_caller() -> None:  # a sync competitor on another connection
        with style.session_cls(db.engine) as other:
            team, _ = impl.sync.get_or_create(other, style.Team, name="contested")
            other.commit()
            winner.append(team.id)

    def hook(state: Any) -> Any:
        entities = [d.get("entity") for d in getattr(state.statement, "column_descriptions", [])]
        if winner or not state.is_select or style.Team not in entities:
            return None
        frozen = state.invoke_statement().freeze()  # the lookup has run and found nothing
        other_caller()
        return frozen()

    async def body(engine: AsyncEngine) -> None:
        async with session_cls(engine, autoflush=False) as s:
            s.add(style.Member(email="mine@a.io"))
            event.listen(s.sync_session, "do_orm_execute", hook)
            team, created = await impl.aio.get_or_create(s, style.Team, name="contested")
            assert (created, team.id) == (False, winner[0])
            await s.commit()
        assert await count(engine, style.Team, name="contested") == 1
        assert await count(engine, style.Member, email="mine@a.io") == 1

    run(db, style, body)
