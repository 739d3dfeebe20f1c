"""Async twins of the helpers, for ``AsyncSession`` (SQLModel's or SQLAlchemy's).

Each one runs its sync twin through ``AsyncSession.run_sync``, so the two behave the
same: attribute loads and flushes happen in SQLAlchemy's greenlet instead of raising
``MissingGreenlet``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from . import _DeclaredModel, _instance_state
from . import get_or_create as _get_or_create
from . import model_to_dict as _model_to_dict
from . import query_all as _query_all
from . import query_one as _query_one
from . import safe_get as _safe_get

__all__ = ["get_or_create", "model_to_dict", "query_all", "query_one", "safe_get"]

_M = TypeVar("_M")


@overload
async def model_to_dict(
    obj: None, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> None: ...
@overload
async def model_to_dict(
    obj: _DeclaredModel,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> dict[str, Any]: ...
@overload
async def model_to_dict(
    obj: object | None, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, Any] | None: ...
async def model_to_dict(
    obj: object | None, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, Any] | None:
    """Like the sync ``model_to_dict``; an instance of a live ``AsyncSession`` may be expired.

    The session is found from the instance, so the call has the same arguments as the
    sync one.
    """
    if obj is None:
        return None
    session = _instance_state(obj).async_session
    if session is None:
        # Detached, transient or owned by a sync Session: no IO needs a greenlet.
        return _model_to_dict(obj, include, exclude)

    def convert(_: Session) -> dict[str, Any] | None:
        return _model_to_dict(obj, include, exclude)

    return await session.run_sync(convert)


@overload
async def query_one(session: AsyncSession, stmt: Executable, model: type[_M]) -> _M | None: ...
@overload
async def query_one(session: AsyncSession, stmt: Executable, model: None = None) -> Any: ...
async def query_one(session: AsyncSession, stmt: Executable, model: type[Any] | None = None) -> Any:
    """Like the sync ``query_one``."""

    def run(sync_session: Session) -> Any:
        return _query_one(sync_session, stmt, model)

    return await session.run_sync(run)


@overload
async def query_all(session: AsyncSession, stmt: Executable, model: type[_M]) -> list[_M]: ...
@overload
async def query_all(session: AsyncSession, stmt: Executable, model: None = None) -> list[Any]: ...
async def query_all(
    session: AsyncSession, stmt: Executable, model: type[Any] | None = None
) -> list[Any]:
    """Like the sync ``query_all``."""

    def run(sync_session: Session) -> list[Any]:
        return _query_all(sync_session, stmt, model)

    return await session.run_sync(run)


@overload
async def safe_get(
    session: AsyncSession, model: type[_M], ident: Any, to_dict: Literal[False] = False
) -> _M | None: ...
@overload
async def safe_get(
    session: AsyncSession, model: type[_M], ident: Any, to_dict: Literal[True]
) -> dict[str, Any] | None: ...
@overload
async def safe_get(
    session: AsyncSession, model: type[_M], ident: Any, to_dict: bool
) -> _M | dict[str, Any] | None: ...
async def safe_get(
    session: AsyncSession, model: type[_M], ident: Any, to_dict: bool = False
) -> _M | dict[str, Any] | None:
    """Like the sync ``safe_get``."""

    def run(sync_session: Session) -> _M | dict[str, Any] | None:
        return _safe_get(sync_session, model, ident, to_dict)

    return await session.run_sync(run)


async def get_or_create(
    session: AsyncSession,
    model: type[_M],
    /,
    defaults: Mapping[str, Any] | None = None,
    **lookup: Any,
) -> tuple[_M, bool]:
    """Like the sync ``get_or_create``; never commits."""

    def run(sync_session: Session) -> tuple[_M, bool]:
        return _get_or_create(sync_session, model, defaults, **lookup)

    return await session.run_sync(run)
