from __future__ import annotations

import pytest

from sqlsafe.index import SessionFactory
from tests.index.conftest import Build

FACTORIES = {
    "app/__init__.py": "",
    "app/db.py": """
        import contextlib
        import functools
        from collections.abc import AsyncIterator, Generator, Iterator

        import sqlalchemy.orm as orm
        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import AsyncSession as SAAsyncSession, async_sessionmaker
        from sqlalchemy.orm import Session as SASession, scoped_session, sessionmaker
        import sqlmodel as sm
        from sqlmodel.ext.asyncio.session import AsyncSession

        engine = create_engine("sqlite://")

        SessionLocal = sessionmaker(bind=engine)
        KeepLocal = orm.sessionmaker(engine, expire_on_commit=False)
        ModelSessions = sessionmaker(engine, sm.Session, expire_on_commit=False)
        AsyncLocal = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        PlainAsync = async_sessionmaker(engine)
        Scoped = scoped_session(sessionmaker(bind=engine, expire_on_commit=False))
        ScopedLocal = scoped_session(SessionLocal)
        Partial = functools.partial(sm.Session, engine, expire_on_commit=False)
        NotAFactory = sessionmaker(engine, class_=dict)
        Unknown = sessionmaker(engine, expire_on_commit=flag)

        class TenantSession(sm.Session):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, expire_on_commit=False, **kwargs)

        class AuditedSession(TenantSession):
            pass

        class DefaultsSession(SASession):
            def __init__(self, **kwargs):
                kwargs.setdefault("expire_on_commit", False)
                super().__init__(**kwargs)

        class PlainSubclass(SAAsyncSession):
            pass

        TenantLocal = sessionmaker(engine, class_=TenantSession)

        def get_session():
            with sm.Session(engine) as session:
                yield session

        def get_kept():
            with sm.Session(engine, expire_on_commit=False) as session:
                yield session

        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()

        def make_session() -> SASession:
            return KeepLocal()

        def override(flag):
            return SessionLocal(expire_on_commit=False)

        async def get_async() -> AsyncIterator[AsyncSession]:
            async with AsyncLocal() as session:
                yield session

        @contextlib.contextmanager
        def session_scope() -> Iterator[SASession]:
            with SessionLocal.begin() as session:
                yield session

        def delegating():
            yield from get_kept()

        def declared_only() -> Generator[sm.Session, None, None]:
            yield build_it_somehow()

        def transaction():
            with sm.Session(engine) as session, session.begin() as tx:
                yield tx

        def returns_other():
            return 42
    """,
    "app/deps.py": """
        from typing import Annotated
        from fastapi import Depends
        from sqlmodel import Session
        from app.db import get_session, AsyncLocal as Maker
        from app import db

        SessionDep = Annotated[Session, Depends(get_session)]
        AsyncDep = Annotated["AsyncSession", Depends(db.get_async)]
        OtherDep = SessionDep
        get_db = get_session
    """,
}


def _factory(build: Build, qualname: str) -> SessionFactory | None:
    return build(FACTORIES).factory(qualname)


@pytest.mark.parametrize(
    ("qualname", "session_class", "is_async", "expire_on_commit", "kind"),
    [
        ("app.db.SessionLocal", "sqlalchemy.orm.Session", False, True, "sessionmaker"),
        ("app.db.KeepLocal", "sqlalchemy.orm.Session", False, False, "sessionmaker"),
        ("app.db.ModelSessions", "sqlmodel.Session", False, False, "sessionmaker"),
        (
            "app.db.AsyncLocal",
            "sqlmodel.ext.asyncio.session.AsyncSession",
            True,
            False,
            "sessionmaker",
        ),
        ("app.db.PlainAsync", "sqlalchemy.ext.asyncio.AsyncSession", True, True, "sessionmaker"),
        ("app.db.Scoped", "sqlalchemy.orm.Session", False, False, "scoped"),
        ("app.db.ScopedLocal", "sqlalchemy.orm.Session", False, True, "scoped"),
        ("app.db.Partial", "sqlmodel.Session", False, False, "function"),
        ("app.db.Unknown", "sqlalchemy.orm.Session", False, True, "sessionmaker"),
        ("app.db.TenantSession", "app.db.TenantSession", False, False, "class"),
        ("app.db.AuditedSession", "app.db.AuditedSession", False, False, "class"),
        ("app.db.DefaultsSession", "app.db.DefaultsSession", False, False, "class"),
        ("app.db.PlainSubclass", "app.db.PlainSubclass", True, True, "class"),
        ("app.db.TenantLocal", "app.db.TenantSession", False, False, "sessionmaker"),
        ("app.db.get_session", "sqlmodel.Session", False, True, "generator"),
        ("app.db.get_kept", "sqlmodel.Session", False, False, "generator"),
        ("app.db.get_db", "sqlalchemy.orm.Session", False, True, "generator"),
        ("app.db.make_session", "sqlalchemy.orm.Session", False, False, "function"),
        ("app.db.override", "sqlalchemy.orm.Session", False, False, "function"),
        (
            "app.db.get_async",
            "sqlmodel.ext.asyncio.session.AsyncSession",
            True,
            False,
            "generator",
        ),
        ("app.db.session_scope", "sqlalchemy.orm.Session", False, True, "contextmanager"),
        ("app.db.delegating", "sqlmodel.Session", False, False, "generator"),
        # Known from its annotation only: how its sessions are configured is not visible.
        ("app.db.declared_only", "sqlmodel.Session", False, None, "generator"),
        # Through a re-export and a plain alias: the definition is returned.
        (
            "app.deps.Maker",
            "sqlmodel.ext.asyncio.session.AsyncSession",
            True,
            False,
            "sessionmaker",
        ),
        ("app.deps.get_db", "sqlmodel.Session", False, True, "generator"),
    ],
)
def test_factories(
    build: Build,
    qualname: str,
    session_class: str,
    is_async: bool,
    expire_on_commit: bool,
    kind: str,
) -> None:
    factory = _factory(build, qualname)
    assert factory is not None
    assert (factory.session_class, factory.is_async, factory.expire_on_commit, factory.kind) == (
        session_class,
        is_async,
        expire_on_commit,
        kind,
    )


@pytest.mark.parametrize(
    "qualname",
    ["app.db.NotAFactory", "app.db.transaction", "app.db.returns_other", "app.db.engine"],
)
def test_not_factories(build: Build, qualname: str) -> None:
    assert _factory(build, qualname) is None


def test_re_exported_factory_keeps_its_defining_name(build: Build) -> None:
    index = build(FACTORIES)
    assert index.factory("app.deps.Maker") == index.factory("app.db.AsyncLocal")
    assert index.factory("app.deps.Maker").qualname == "app.db.AsyncLocal"  # type: ignore[union-attr]
    assert "get_session" in index.factory_names
    assert "Maker" not in index.factory_names


def test_session_base(build: Build) -> None:
    index = build(FACTORIES)
    assert index.session_base("app.db.AuditedSession") == "sqlmodel.Session"
    assert index.session_base("app.db.PlainSubclass") == "sqlalchemy.ext.asyncio.AsyncSession"
    assert index.session_base("sqlmodel.orm.session.Session") == "sqlmodel.Session"
    assert index.session_base("app.db.engine") is None


def test_aliases(build: Build) -> None:
    index = build(FACTORIES)
    assert index.alias("app.deps.SessionDep") == "sqlmodel.Session"
    assert index.alias("app.deps.OtherDep") == "sqlmodel.Session"
    assert index.alias("app.deps.Session") == "sqlmodel.Session"
    assert index.alias("app.deps.get_db") == "app.db.get_session"
    assert index.alias("app.db.get_session") is None
    assert "SessionDep" in index.alias_names


def test_configured_factories(build: Build) -> None:
    files = {
        "svc/__init__.py": "",
        "svc/db.py": """
            def session_from_registry():
                return REGISTRY.current()

            async def async_from_registry():
                return await REGISTRY.current()
        """,
    }
    index = build(
        files,
        session_factories=(
            "svc.db.session_from_registry",
            "svc.db.async_from_registry",
            "other_lib.make",
        ),
    )
    sync = index.factory("svc.db.session_from_registry")
    assert sync == SessionFactory(
        "svc.db.session_from_registry", "sqlalchemy.orm.Session", False, None, "configured"
    )
    asynchronous = index.factory("svc.db.async_from_registry")
    assert asynchronous is not None and asynchronous.is_async
    assert index.factory("other_lib.make") is not None


def test_configured_factory_that_is_also_recognised(build: Build) -> None:
    index = build(FACTORIES, session_factories=("app.deps.get_db",))
    factory = index.factory("app.deps.get_db")
    assert factory is not None and factory.kind == "generator"
