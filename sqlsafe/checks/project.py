"""What rules may know about the project beyond the file they check (no libcst here: the
engine imports this before it knows whether any file needs parsing)."""

from __future__ import annotations

from typing import Protocol


class ModelFacts(Protocol):
    qualname: str
    primary_key: tuple[str, ...]
    columns: frozenset[str]
    relationships: frozenset[str]
    eager_relationships: frozenset[str]
    collections: frozenset[str]
    deferred: frozenset[str]
    primary_key_order_proven: bool


class FactoryFacts(Protocol):
    qualname: str
    session_class: str
    is_async: bool
    expire_on_commit: bool | None
    commits_on_exit: bool


class Index(Protocol):
    """The project index as rules see it (built by `sqlsafe.index`)."""

    factory_names: frozenset[str]
    """Plain names of the project's session factories."""
    alias_names: frozenset[str]
    """Plain names of module-level `Annotated[...]` aliases (`SessionDep`)."""

    def model(self, qualname: str) -> ModelFacts | None: ...

    def factory(self, qualname: str) -> FactoryFacts | None: ...

    def alias(self, qualname: str) -> str | None: ...

    def session_base(self, qualname: str) -> str | None: ...

    def resolve(self, qualname: str) -> str:
        """Where a name is defined: re-exports and plain aliases (`X = Y`) followed."""
        ...

    def import_target(self, importer: str, target: str) -> str:
        """Where an absolute import of `target` in module `importer` leads: Python may have
        the importer's own folder or its package's parent on `sys.path`, so a project
        module there may answer."""
        ...


class EmptyIndex:
    """An index that knows nothing: rules then decide from imports alone."""

    factory_names: frozenset[str] = frozenset()
    alias_names: frozenset[str] = frozenset()

    def model(self, qualname: str) -> ModelFacts | None:
        return None

    def factory(self, qualname: str) -> FactoryFacts | None:
        return None

    def alias(self, qualname: str) -> str | None:
        return None

    def session_base(self, qualname: str) -> str | None:
        return None

    def resolve(self, qualname: str) -> str:
        return qualname

    def import_target(self, importer: str, target: str) -> str:
        return target
