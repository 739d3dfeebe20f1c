"""One parsed module: its dotted name and what its top level binds.

Everything here is stdlib `ast` (about ten times faster than libcst, LIBCST.md section 4);
each file is read and parsed once, and the tree is dropped after the index is built.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlsafe.index.syntax import statements

PYTHON_SUFFIXES = (".py", ".pyi")
# `try:` and, from Python 3.11, `try: ... except* ...:`.
_TRY: tuple[type[ast.stmt], ...] = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)


def module_name(path: Path, roots: Sequence[Path]) -> str:
    """The dotted module of `path`, as Ruff's `src` roots would import it.

    The deepest root containing the file wins (with `src = [".", "src"]`, `src/app/db.py` is
    `app.db`). A file under no root is named from its package: the chain of directories
    holding an `__init__.py`, as Python would find it from the first directory without one.
    """
    path = Path(os.path.abspath(path))
    best: Path | None = None
    for root in roots:
        root = Path(os.path.abspath(root))
        if path.is_relative_to(root) and (best is None or len(root.parts) > len(best.parts)):
            best = root
    if best is None:
        best = path.parent
        while (best / "__init__.py").is_file() and best.parent != best:
            best = best.parent
    parts = list(path.relative_to(best).parts)
    if not parts:
        return path.stem
    last = parts.pop()
    for suffix in PYTHON_SUFFIXES:
        if last.endswith(suffix):
            last = last[: -len(suffix)]
            break
    if last != "__init__":
        parts.append(last)
    return ".".join(parts) or path.parent.name


@dataclass(frozen=True)
class Import:
    """`target` is the qualified name the local name refers to (a module or a member)."""

    target: str


@dataclass(frozen=True)
class Definition:
    """A top-level class, function or assignment; `node` is the ClassDef / FunctionDef /
    assigned value (None when the value cannot be singled out, as in tuple unpacking)."""

    node: ast.AST | None
    annotation: ast.expr | None = None


Binding = Import | Definition


@dataclass
class ModuleScope:
    name: str
    path: Path
    is_package: bool
    bindings: dict[str, Binding] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)
    imported: set[str] = field(default_factory=set)
    """The modules (and `from` import targets) the file's import statements make reachable,
    function-level imports included: the modules whose names it can depend on."""

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def absolute(self, module: str | None, level: int) -> str | None:
        """The absolute module of a `from <level dots><module> import ...`."""
        if level == 0:
            return module
        base = self.package
        for _ in range(level - 1):
            if not base:
                return None
            base = base.rpartition(".")[0]
        if not base:
            return None
        return f"{base}.{module}" if module else base

    def classes(self) -> Iterator[tuple[str, ast.ClassDef]]:
        for name, binding in self.bindings.items():
            if isinstance(binding, Definition) and isinstance(binding.node, ast.ClassDef):
                yield name, binding.node

    def values(self) -> Iterator[tuple[str, Definition]]:
        """Top-level assignments whose value is known."""
        for name, binding in self.bindings.items():
            if isinstance(binding, Definition) and isinstance(binding.node, ast.expr):
                yield name, binding


def parse_scope(path: Path, name: str, source: bytes) -> ModuleScope | None:
    """The scope of one file, or None when it does not parse (the engine reports that)."""
    try:
        tree = ast.parse(source, filename=str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
        return None
    scope = ModuleScope(name, path, path.stem == "__init__")
    _Binder(scope).block(tree.body, override=True)
    _collect_imports(scope, tree)
    return scope


class _Binder:
    """Top-level bindings in execution order. A later binding replaces an earlier one, except
    in fallback branches (`except ImportError:`, `else:`), which only fill in what the main
    branch left unbound: the main branch is what runs in the normal environment."""

    def __init__(self, scope: ModuleScope) -> None:
        self.scope = scope

    def bind(self, name: str, binding: Binding, override: bool) -> None:
        if override or name not in self.scope.bindings:
            self.scope.bindings[name] = binding

    def block(self, statements: Iterable[ast.stmt], override: bool) -> None:
        for statement in statements:
            self.statement(statement, override)

    def statement(self, node: ast.stmt, override: bool) -> None:
        scope = self.scope
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.bind(alias.asname, Import(alias.name), override)
                else:
                    head = alias.name.partition(".")[0]
                    self.bind(head, Import(head), override)
        elif isinstance(node, ast.ImportFrom):
            base = scope.absolute(node.module, node.level)
            for alias in node.names:
                if base is None:
                    self.bind(alias.asname or alias.name, Definition(None), override)
                elif alias.name == "*":
                    scope.star_imports.append(base)
                else:
                    self.bind(alias.asname or alias.name, Import(f"{base}.{alias.name}"), override)
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            self.bind(node.name, Definition(node), override)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self.target(target, node.value, None, override)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.target(node.target, node.value, node.annotation, override)
        elif isinstance(node, ast.If):
            self.block(node.body, override)
            self.block(node.orelse, override=False)
        elif isinstance(node, _TRY):
            attempt = cast(ast.Try, node)
            self.block(attempt.body, override)
            for handler in attempt.handlers:
                self.block(handler.body, override=False)
            self.block(attempt.orelse, override)
            self.block(attempt.finalbody, override)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self.block(node.body, override)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.block(node.body, override)
            self.block(node.orelse, override)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                self.block(case.body, override=False)

    def target(
        self, target: ast.expr, value: ast.expr, annotation: ast.expr | None, override: bool
    ) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, Definition(value, annotation), override)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                if isinstance(element, ast.Starred):
                    element = element.value
                if isinstance(element, ast.Name):
                    self.bind(element.id, Definition(None), override)


def _collect_imports(scope: ModuleScope, tree: ast.Module) -> None:
    imported = scope.imported
    for node in statements(tree.body, nested_scopes=True):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    imported.add(alias.name)
                    continue
                # `import a.b.c` binds `a`: every package on the way is reachable.
                name = alias.name
                while name:
                    imported.add(name)
                    name = name.rpartition(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = scope.absolute(node.module, node.level)
            if base is not None:
                imported.add(base)
                imported.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
