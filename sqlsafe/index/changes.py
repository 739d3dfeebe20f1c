"""Whether an edit can change the project index, told from the edited file's two summaries.

The index is merged from every file's summary. A summary keeps a top-level name bound to a
data literal (`PAGE_SIZE = 50`) as bound to `None`: no model, factory, alias or session
class, and no link to another name. Such a name matters only where some module looks it
up: by naming it (an import, an attribute, a string annotation) or through a star import.
So an edit that adds, drops or rebinds only names of that kind, in a file no module
star-imports and that star-imports nothing, leaves the index as it was when no summary
mentions any of those names.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from sqlsafe.index.modules import Binding, Definition, ModuleScope


@dataclass(frozen=True)
class Reach:
    """What the summaries of a project can look up in another module."""

    mentions: frozenset[str]
    """Every word any summary mentions (`ModuleScope.mentions`)."""
    starred: frozenset[str]
    """Every word of a module some summary star-imports."""

    @classmethod
    def of(cls, scopes: list[ModuleScope | None]) -> Reach:
        present = [scope for scope in scopes if scope is not None]
        return cls(
            frozenset().union(*(scope.mentions for scope in present)),
            frozenset(
                word
                for scope in present
                for module in scope.star_imports
                for word in module.split(".")
            ),
        )


def unseen(before: ModuleScope | None, after: ModuleScope | None, reach: Reach) -> bool:
    """Whether the index made with `after` for a file is the one made with `before`."""
    if before is None or after is None:
        return before is after
    if _rest(before) != _rest(after) or before.star_imports:
        return False
    if before.name.rpartition(".")[2] in reach.starred:
        return False
    names = before.bindings.keys() | after.bindings.keys()
    changed = {n for n in names if not _same(before.bindings.get(n), after.bindings.get(n))}
    if changed & reach.mentions:
        return False
    if not all(_literal(b.bindings.get(n)) for n in changed for b in (before, after)):
        return False
    # The finders meet the other names in the same order.
    return [n for n in before.bindings if n not in changed] == [
        n for n in after.bindings if n not in changed
    ]


def _rest(scope: ModuleScope) -> tuple[object, ...]:
    return (
        scope.name,
        scope.path,
        scope.is_package,
        scope.star_imports,
        scope.imported,
        scope.import_root,
        scope.mentions,
    )


def _same(a: Binding | None, b: Binding | None) -> bool:
    if isinstance(a, Definition) and isinstance(b, Definition):
        if a.node is None or b.node is None:
            return a.node is b.node
        return ast.dump(a.node) == ast.dump(b.node)
    return a == b


def _literal(binding: Binding | None) -> bool:
    """Unbound, or bound to what a summary keeps of a data literal."""
    return binding is None or (
        isinstance(binding, Definition)
        and isinstance(binding.node, ast.Constant)
        and binding.node.value is None
    )
