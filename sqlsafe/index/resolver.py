"""Qualified names across the project's modules: imports, re-exports and plain aliases followed
to the place a name is defined, so that two `User` classes in two modules never collide."""

from __future__ import annotations

import ast
import builtins

from sqlsafe.index.modules import Definition, Import, ModuleScope

LIBRARIES = frozenset({"sqlalchemy", "sqlmodel"})
TYPING = frozenset({"typing", "typing_extensions"})
_BUILTINS = frozenset(dir(builtins))


def library_member(qualname: str | None) -> str | None:
    """The last component of a name defined in SQLAlchemy or SQLModel, else None.

    Matching on the last component accepts every public and internal spelling
    (`sqlalchemy.Column`, `sqlalchemy.sql.schema.Column`, `sqlmodel.Column`).
    """
    if qualname is None:
        return None
    top, _, rest = qualname.partition(".")
    if top in LIBRARIES and rest:
        return rest.rpartition(".")[2]
    return None


def typing_member(qualname: str | None) -> str | None:
    if qualname is None:
        return None
    top, _, rest = qualname.partition(".")
    return rest if top in TYPING and "." not in rest else None


class Resolver:
    def __init__(self, scopes: dict[str, ModuleScope]) -> None:
        self.scopes = scopes
        self._lookups: dict[tuple[str, str], str | None] = {}
        self._canonical: dict[str, str] = {}

    def split(self, qualname: str) -> tuple[str, list[str]] | None:
        """(the longest project module prefixing `qualname`, the remaining components)."""
        parts = qualname.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if module in self.scopes:
                return module, parts[end:]
        return None

    def lookup(self, module: str, name: str) -> str | None:
        """Where the top-level `name` of a project module is defined; None if it is unbound
        there (a builtin, or a name the module never defines)."""
        key = (module, name)
        if key in self._lookups:
            return self._lookups[key]
        self._lookups[key] = None  # an import cycle resolves to "unbound"
        result = self._lookup(self.scopes[module], name)
        self._lookups[key] = result
        return result

    def _lookup(self, scope: ModuleScope, name: str) -> str | None:
        binding = scope.bindings.get(name)
        if isinstance(binding, Import):
            return self.canonical(binding.target)
        if isinstance(binding, Definition):
            if isinstance(binding.node, (ast.Name, ast.Attribute)):
                # `Model = SQLModel`, `get_db = get_session`: the same object under a new name.
                aliased = self.expr(scope.name, binding.node)
                if aliased is not None:
                    return aliased
            return f"{scope.name}.{name}"
        if name.startswith("_"):
            return None
        for star in reversed(scope.star_imports):
            if star in self.scopes:
                found = self.lookup(star, name)
                if found is not None:
                    return found
            elif star.partition(".")[0] in LIBRARIES and name not in _BUILTINS:
                # Without importing the library its `__all__` is unknown; a name the module
                # does not bind can only have come from this star import.
                return f"{star}.{name}"
        return None

    def canonical(self, qualname: str) -> str:
        """`qualname` with every project re-export and alias on its path followed."""
        cached = self._canonical.get(qualname)
        if cached is not None:
            return cached
        self._canonical[qualname] = qualname  # cycle guard
        result = self._canonical_uncached(qualname)
        self._canonical[qualname] = result
        return result

    def _canonical_uncached(self, qualname: str) -> str:
        found = self.split(qualname)
        if found is None:
            return qualname
        module, rest = found
        if not rest:
            return module
        head = self.lookup(module, rest[0])
        if head is None:
            return qualname
        if len(rest) == 1:
            return head
        result = ".".join([head, *rest[1:]])
        return qualname if result == qualname else self.canonical(result)

    def expr(self, module: str, node: ast.expr) -> str | None:
        """The qualified name of a Name/Attribute chain in `module`, or None."""
        attributes: list[str] = []
        while isinstance(node, ast.Attribute):
            attributes.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        qualname = self.lookup(module, node.id)
        for attribute in reversed(attributes):
            if qualname is None:
                break
            qualname = self.canonical(f"{qualname}.{attribute}")
        return qualname

    def call_name(self, module: str, node: ast.expr) -> str | None:
        """The qualified name of the callable in a call expression."""
        return self.expr(module, node.func) if isinstance(node, ast.Call) else None
