"""What rules may know about the project beyond the file they check (no libcst here: the
engine imports this before it knows whether any file needs parsing)."""

from __future__ import annotations

from typing import Protocol

# The facts are read-only properties: the index hands out frozen dataclasses, and a protocol's
# plain attribute would ask for a settable one, which they are not.


class ModelFacts(Protocol):
    @property
    def qualname(self) -> str: ...

    @property
    def primary_key(self) -> tuple[str, ...]: ...

    @property
    def columns(self) -> frozenset[str]: ...

    @property
    def relationships(self) -> frozenset[str]: ...

    @property
    def eager_relationships(self) -> frozenset[str]: ...

    @property
    def collections(self) -> frozenset[str]: ...

    @property
    def deferred(self) -> frozenset[str]: ...

    @property
    def primary_key_order_proven(self) -> bool: ...


class FactoryFacts(Protocol):
    @property
    def qualname(self) -> str: ...

    @property
    def session_class(self) -> str: ...

    @property
    def is_async(self) -> bool: ...

    @property
    def expire_on_commit(self) -> bool | None: ...

    @property
    def commits_on_exit(self) -> bool: ...


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
