"""The facts the project index hands out: plain frozen data, comparable and hashable."""

from __future__ import annotations

from dataclasses import dataclass

# The defining names of the library session classes: what every spelling of one resolves to.
SQLMODEL_SESSION = "sqlmodel.Session"
SQLALCHEMY_SESSION = "sqlalchemy.orm.Session"
SQLMODEL_ASYNC_SESSION = "sqlmodel.ext.asyncio.session.AsyncSession"
SQLALCHEMY_ASYNC_SESSION = "sqlalchemy.ext.asyncio.AsyncSession"


@dataclass(frozen=True)
class ModelInfo:
    """An ORM-mapped class: a SQLModel `table=True` class or a declarative SQLAlchemy class."""

    qualname: str
    primary_key: tuple[str, ...]
    """Attribute names in mapper order (the order `session.get` takes); empty if unknown."""
    columns: frozenset[str]
    """Column attribute names, inherited ones included (deferred ones too)."""
    relationships: frozenset[str]
    """Relationship attributes, including backrefs other models declare onto this one."""
    deferred: frozenset[str]
    """Columns not loaded with the object (`deferred()`, `mapped_column(deferred=True)`...)."""
    style: str
    """"sqlmodel" or "declarative"."""
    eager_relationships: frozenset[str] = frozenset()
    """The relationships that load with the object (`lazy="selectin"`, `"joined"`, ...)."""
    collections: frozenset[str] = frozenset()
    """The relationships known to hold a collection (one-to-many, many-to-many)."""
    primary_key_order_proven: bool = True
    """False when a composite key's order depends on how a SQLAlchemy version scans classes
    (key columns spread over several classes, or SQLModel `sa_column=` mixed with plain
    fields): a rewrite that must pass the key as a tuple should not rely on the order then."""


@dataclass(frozen=True)
class SessionFactory:
    """A callable that makes sessions, and what it is known to make."""

    qualname: str
    session_class: str
    """"sqlmodel.Session", "sqlalchemy.orm.Session", "sqlmodel.ext.asyncio.session.AsyncSession",
    "sqlalchemy.ext.asyncio.AsyncSession", or the qualified name of a project subclass."""
    is_async: bool
    expire_on_commit: bool | None
    """False when `expire_on_commit=False` is on the factory, the call it makes, or the
    Session subclass it makes; True when the code shows the default is kept; None when the
    factory is known only by its return annotation or the `session-factories` setting."""
    kind: str = "function"
    """How a session is obtained from it: "sessionmaker" (call it; also `.begin()`), "scoped"
    (`scoped_session`: call it), "class" (a Session subclass: call it), "function" (returns a
    session), "generator" (yields one, e.g. a FastAPI dependency), "contextmanager"
    (`@contextmanager`: `with f() as session`), or "configured" (named in the
    `session-factories` setting and not otherwise recognised)."""
    commits_on_exit: bool = False
    """A context manager that commits its session after the `yield` (`yield s; s.commit()`):
    the `with` block it opens commits when it ends, as a `begin()` block does."""
