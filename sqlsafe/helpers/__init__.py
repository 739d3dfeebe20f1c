"""Runtime helpers for SQLModel / SQLAlchemy sessions (sync; async twins in ``.asyncio``).

Standalone on purpose: this package imports only SQLAlchemy (>= 2.0), so that
``sqlsafe helpers export`` can copy it into a project that wants no runtime dependency
on sqlsafe. It works with SQLModel table models, SQLAlchemy 2.0 declarative models and
1.4-style ``declarative_base()`` models, and with SQLModel's and SQLAlchemy's sessions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, Protocol, TypeVar, overload

from sqlalchemy import MetaData, inspect, select
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm import InstanceState, Mapper, Session
from sqlalchemy.orm.exc import DetachedInstanceError
from sqlalchemy.sql.expression import Executable, SelectBase

__all__ = ["get_or_create", "model_to_dict", "query_all", "query_one", "safe_get"]

_M = TypeVar("_M")


class _DeclaredModel(Protocol):
    # Instances of DeclarativeBase and SQLModel classes match this; None does not. With a
    # plain `object` overload, model_to_dict(session.get(User, 1)) would be typed as a dict
    # although it may be None.
    metadata: ClassVar[MetaData]


def _instance_state(obj: object) -> InstanceState[Any]:
    state = inspect(obj)  # raises NoInspectionAvailable for objects SQLAlchemy does not map
    if not isinstance(state, InstanceState):
        raise TypeError(f"expected an instance of a mapped class, got {obj!r}")
    return state


def _as_names(arg: str, names: Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    # A bare string is an iterable of characters; treating it as such would turn
    # include="email" into a confusing "unknown attribute 'e'" error.
    if isinstance(names, str):
        raise TypeError(f"{arg}= takes a collection of attribute names, not the string {names!r}")
    return frozenset(names)


def _selected_keys(
    mapper: Mapper[Any], include: Iterable[str] | None, exclude: Iterable[str] | None
) -> list[str]:
    keys = [attr.key for attr in mapper.column_attrs]
    wanted = _as_names("include", include)
    unwanted = _as_names("exclude", exclude)
    for arg, names in (("include", wanted), ("exclude", unwanted)):
        unknown = sorted((names or frozenset()) - set(keys))
        if unknown:
            # Fail loudly where pydantic's model_dump() silently drops unknown names.
            relationships = [name for name in unknown if name in mapper.relationships]
            hint = (
                f" ({', '.join(relationships)}: relationship, not converted)"
                if relationships
                else ""
            )
            raise ValueError(
                f"{arg}= names no column attribute of {mapper.class_.__name__}: "
                f"{', '.join(unknown)}{hint}; column attributes are: {', '.join(keys)}"
            )
    return [
        key
        for key in keys
        if (wanted is None or key in wanted) and (unwanted is None or key not in unwanted)
    ]


@overload
def model_to_dict(
    obj: None, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> None: ...
@overload
def model_to_dict(
    obj: _DeclaredModel,
    include: Iterable[str] | None = None,
    exclude: Iterable[str] | None = None,
) -> dict[str, Any]: ...
@overload
def model_to_dict(
    obj: object | None, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, Any] | None: ...
def model_to_dict(
    obj: object | None, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, Any] | None:
    """Return the column attributes of a mapped instance as a dict (``None`` gives ``None``).

    Keys are attribute keys (``email = Column("email_address", ...)`` gives ``"email"``);
    relationships are not included. ``include`` keeps only the named attributes, then
    ``exclude`` drops names; an unknown name raises ``ValueError``. Key order follows the
    mapper. Inside a session, expired and deferred attributes are loaded. On a detached
    instance, a requested attribute that is not loaded raises ``DetachedInstanceError``
    rather than giving a partial dict.
    """
    if obj is None:
        return None
    state = _instance_state(obj)
    keys = _selected_keys(state.mapper, include, exclude)
    if state.detached:
        missing = [key for key in keys if key in state.unloaded]
        if missing:
            raise DetachedInstanceError(
                f"model_to_dict(): {type(obj).__name__} instance with identity "
                f"{state.identity} is detached (its session was closed) and these attributes "
                f"are not loaded: {', '.join(missing)}. A commit(), a rollback() or the end of "
                "a session.begin() block expires every attribute, and deferred columns are "
                "never loaded. Call model_to_dict() while the session is still open, call "
                "session.refresh(obj) after the last commit, or create the session with "
                "expire_on_commit=False."
            )
    return {key: getattr(obj, key) for key in keys}


def _entity_index(stmt: Executable, model: type[Any]) -> int:
    descriptions: list[dict[str, Any]] | None = getattr(stmt, "column_descriptions", None)
    if descriptions is None:
        raise TypeError(
            f"model= needs a select() statement, got {type(stmt).__name__}; "
            "call without model= to get the row"
        )
    matches = [
        index
        for index, description in enumerate(descriptions)
        if isinstance(description["type"], type) and issubclass(description["type"], model)
    ]
    if len(matches) != 1:
        selected = ", ".join(str(description["name"]) for description in descriptions)
        how_often = "does not select" if not matches else "selects more than once"
        raise ValueError(
            f"the statement {how_often} the entity {model.__name__} (it selects: {selected})"
        )
    return matches[0]


@overload
def query_one(session: Session, stmt: Executable, model: type[_M]) -> _M | None: ...
@overload
def query_one(session: Session, stmt: Executable, model: None = None) -> Any: ...
def query_one(session: Session, stmt: Executable, model: type[Any] | None = None) -> Any:
    """Run ``stmt`` and return its first row's value, or ``None`` when there is no row.

    The result does not depend on which ``select`` (sqlmodel's or SQLAlchemy's) built
    ``stmt`` or which Session class runs it. Without ``model``: a one-column statement
    gives that column's value (the model instance for ``select(User)``), a statement with
    several columns or entities gives the ``Row``. With ``model``: the value of the one
    column that selects that entity (or a subclass of it); it is checked before the query
    runs, so a statement that does not select ``model`` exactly once raises ``ValueError``
    even when no row would match. Like ``.first()``: no LIMIT is added, other rows are
    discarded.
    """
    index = None if model is None else _entity_index(stmt, model)
    # execute(), not sqlmodel's exec(): execute() yields Rows for every kind of select,
    # so one code path gives the same answer for both select() functions.
    result = session.execute(stmt)
    single = len(result.keys()) == 1
    row = result.first()
    if row is None:
        return None
    if index is not None:
        return row[index]
    return row[0] if single else row


@overload
def query_all(session: Session, stmt: Executable, model: type[_M]) -> list[_M]: ...
@overload
def query_all(session: Session, stmt: Executable, model: None = None) -> list[Any]: ...
def query_all(session: Session, stmt: Executable, model: type[Any] | None = None) -> list[Any]:
    """Run ``stmt`` and return all rows, shaped like ``query_one`` shapes one row.

    Rows are made unique only when SQLAlchemy requires it (joined eager loading of a
    collection); duplicates the statement itself produces are kept.
    """
    index = None if model is None else _entity_index(stmt, model)
    result = session.execute(stmt)
    single = len(result.keys()) == 1
    try:
        rows = result.all()
    except InvalidRequestError as exc:
        # SQLAlchemy only says that unique() is needed once the rows are fetched, and the
        # result cannot be replayed, so run the query again. Only a SELECT is re-run, as
        # running it twice has no effect beyond the (already done) autoflush.
        if "unique()" not in str(exc) or not isinstance(stmt, SelectBase):
            raise
        rows = session.execute(stmt).unique().all()
    if index is not None:
        return [row[index] for row in rows]
    return [row[0] for row in rows] if single else list(rows)


@overload
def safe_get(
    session: Session, model: type[_M], ident: Any, to_dict: Literal[False] = False
) -> _M | None: ...
@overload
def safe_get(
    session: Session, model: type[_M], ident: Any, to_dict: Literal[True]
) -> dict[str, Any] | None: ...
@overload
def safe_get(
    session: Session, model: type[_M], ident: Any, to_dict: bool
) -> _M | dict[str, Any] | None: ...
def safe_get(
    session: Session, model: type[_M], ident: Any, to_dict: bool = False
) -> _M | dict[str, Any] | None:
    """``session.get(model, ident)``; with ``to_dict=True``, ``model_to_dict`` of the result.

    The conversion happens while the session is open, so the dict is complete even if
    the instance was expired. ``None`` when no row has that primary key.
    """
    obj = session.get(model, ident)
    return model_to_dict(obj) if to_dict else obj


def _begin_sqlite_transaction(session: Session, model: type[Any]) -> None:
    # sqlite3 and aiosqlite in their default (legacy) mode open a transaction only before
    # INSERT/UPDATE/DELETE. If this session has only read so far, the SAVEPOINT would be
    # the outermost transaction and releasing it would COMMIT the new row, although the
    # caller owns the transaction and may still roll it back.
    connection = session.connection(bind_arguments={"mapper": model})
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    level = getattr(driver, "isolation_level", None)
    legacy = getattr(driver, "autocommit", -1) == -1  # sqlite3.LEGACY_TRANSACTION_CONTROL
    if level is None or not legacy or getattr(driver, "in_transaction", True):
        return  # driver-level autocommit was chosen explicitly, or a transaction is open
    connection.exec_driver_sql(f"BEGIN {level}".rstrip())


def get_or_create(
    session: Session, model: type[_M], /, defaults: Mapping[str, Any] | None = None, **lookup: Any
) -> tuple[_M, bool]:
    """Return ``(obj, created)``: the row matching ``lookup``, inserted if there is none.

    The new row is ``model(**lookup, **defaults)``. Safe against a concurrent insert of the
    same row only when a UNIQUE constraint covers the lookup: the INSERT runs in a
    SAVEPOINT, and when it fails with ``IntegrityError`` the row is looked up again; if it
    is still not found, the error came from another constraint and is re-raised. The
    caller's pending objects are flushed first and survive a lost race. Never commits.
    Under REPEATABLE READ or SERIALIZABLE the winner's row may be invisible, and the
    ``IntegrityError`` is re-raised. Several matching rows raise ``MultipleResultsFound``.
    ``session`` and ``model`` are positional-only, so columns with those names can be
    looked up; ``defaults`` cannot.
    """
    if not lookup:
        raise TypeError("get_or_create() needs at least one lookup keyword argument")
    defaults = dict(defaults or {})
    overlap = sorted(lookup.keys() & defaults.keys())
    if overlap:
        # The new row would not match its own lookup, so the next call would insert again.
        raise ValueError(f"names in both defaults and the lookup: {', '.join(overlap)}")

    def find() -> _M | None:
        return session.scalars(select(model).filter_by(**lookup)).one_or_none()

    existing = find()
    if existing is not None:
        return existing, False
    # Flush outside the try block: an IntegrityError from the caller's own pending
    # objects must not be mistaken for a lost race.
    session.flush()
    _begin_sqlite_transaction(session, model)
    created = model(**lookup, **defaults)
    try:
        with session.begin_nested():
            session.add(created)
    except IntegrityError:
        existing = find()
        if existing is None:
            raise
        return existing, False
    return created, True
