"""One parsed module: its dotted name and what its top level binds.

Everything here is stdlib `ast` (about ten times faster to parse with than libcst);
each file is read and parsed once, and its scope keeps only the parts of the tree the index
reads (`pruning`): the rest is dropped with the tree as soon as the scope is made.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import cast

from sqlsafe.files import package_top
from sqlsafe.index import newer_syntax
from sqlsafe.index.pruning import pruned_value
from sqlsafe.index.syntax import statements

PYTHON_SUFFIXES = (".py", ".pyi")
# `try:` and, from Python 3.11, `try: ... except* ...:`.
_TRY: tuple[type[ast.stmt], ...] = tuple(
    getattr(ast, name) for name in ("Try", "TryStar") if hasattr(ast, name)
)


def module_name(path: Path, roots: Sequence[Path]) -> str:
    """The dotted module of `path`, as Python would import it.

    The file's package comes first: the chain of folders holding an `__init__.py` above it
    ends at the folder Python must have on its path. The deepest `src` root at or above
    that folder then names it (a namespace package listed in `src`: `src/ns/pkg/mod.py` is
    `ns.pkg.mod`) when the folders between them can be imported; a folder under no such
    root is on the path itself. So a file's name is the same whichever folder sqlsafe is
    started from.
    """
    absolute = os.path.abspath(path)
    folder = os.path.dirname(absolute)
    base = _import_base(package_top(folder)[0], tuple(str(root) for root in roots))
    parts = absolute[len(base) :].lstrip(os.sep).split(os.sep)
    last = parts.pop()
    for suffix in PYTHON_SUFFIXES:
        if last.endswith(suffix):
            last = last[: -len(suffix)]
            break
    if last != "__init__":
        parts.append(last)
    return ".".join(parts) or os.path.basename(folder)


@cache
def _import_base(top: str, roots: tuple[str, ...]) -> str:
    """The folder on Python's path for a package chain topped by `top` (see `module_name`)."""
    package, base, chosen = Path(top), Path(top), False
    for root in map(Path, map(os.path.abspath, roots)):
        if (
            package.is_relative_to(root)
            and (not chosen or len(root.parts) > len(base.parts))
            # A folder named `.corpora` or `pkg-1.0` cannot be part of an import.
            and all(part.isidentifier() for part in package.relative_to(root).parts)
        ):
            base, chosen = root, True
    return str(base)


def import_root(path: Path, name: str) -> str:
    """Besides the project's `src` roots, the folder Python has on `sys.path` for the file
    `path` named `name`, as a module-name prefix: the folder above the top of its package
    chain (the folder an application package runs from, as `backend/` for
    `backend/app/main.py` importing `app.models`), which for a script outside any package
    is its own folder (a script's folder is on the path). A module inside a package never
    imports its own folder's siblings by absolute name (`sqlalchemy` in
    `pkg/utils/session.py` is the library, not `pkg/utils/sqlalchemy.py`). Empty when that
    folder is a `src` root already."""
    if path.stem == "__init__":
        return ""
    parts = name.split(".")
    depth = package_top(os.path.dirname(os.path.abspath(path)))[1]
    return ".".join(parts[: max(len(parts) - 1 - depth, 0)])


def located_import(target: str, root: str, modules: Collection[str]) -> str:
    """Where an absolute import of `target` leads: itself when a project module answers it
    (or nothing in the project does), else under the importer's `root` (see `import_root`)
    when that holds it."""
    if not root or _reaches_module(target, modules):
        return target
    return f"{root}.{target}" if _reaches_module(target, modules, f"{root}.") else target


def _reaches_module(target: str, modules: Collection[str], prefix: str = "") -> bool:
    """Whether `prefix + target` is a project module or names something inside one."""
    parts = target.split(".")
    return any(prefix + ".".join(parts[:end]) in modules for end in range(1, len(parts) + 1))


@dataclass(frozen=True)
class Import:
    """`target` is the qualified name the local name refers to (a module or a member)."""

    target: str


@dataclass(frozen=True)
class Definition:
    """A top-level class, function or assignment; `node` is the ClassDef / FunctionDef /
    assigned value (None when the value cannot be singled out, as in tuple unpacking), as
    `pruning` keeps it."""

    node: ast.AST | None


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
    import_root: str = ""
    """See `import_root`."""
    mentions: frozenset[str] = frozenset()
    """Every word the summary holds but its own top-level names (`mentioned`): a name no
    summary mentions is never looked up in another module (see `changes`)."""

    def __getstate__(self) -> dict[str, object]:
        # In a set's order, equal summaries made in two processes would pickle to two
        # different byte strings (strings hash differently in each): the index is cached
        # under its summaries' bytes.
        return {
            **self.__dict__,
            "imported": sorted(self.imported),
            "mentions": sorted(self.mentions),
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(
            state,
            imported=set(cast("list[str]", state["imported"])),
            mentions=frozenset(cast("list[str]", state["mentions"])),
        )

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

    def locate_imports(self, modules: Collection[str]) -> None:
        """Point the absolute imports that only the file's `import_root` answers there (see
        `located_import`)."""
        if not self.import_root:
            return

        def locate(target: str) -> str:
            return located_import(target, self.import_root, modules)

        for name, binding in self.bindings.items():
            if isinstance(binding, Import):
                self.bindings[name] = Import(locate(binding.target))
        self.star_imports = [locate(module) for module in self.star_imports]
        self.imported = {locate(module) for module in self.imported}

    def classes(self) -> Iterator[tuple[str, ast.ClassDef]]:
        for name, binding in self.bindings.items():
            if isinstance(binding, Definition) and isinstance(binding.node, ast.ClassDef):
                yield name, binding.node

    def values(self) -> Iterator[tuple[str, Definition]]:
        """Top-level assignments whose value is known."""
        for name, binding in self.bindings.items():
            if isinstance(binding, Definition) and isinstance(binding.node, ast.expr):
                yield name, binding


def parse_scope(path: Path, name: str, source: bytes | str) -> ModuleScope | None:
    """The scope of one file, or None when it does not parse (the engine reports that)."""
    try:
        tree = newer_syntax.parse(source, str(path))
    except newer_syntax.PARSE_ERRORS:
        return None
    scope = ModuleScope(name, path, path.stem == "__init__", import_root=import_root(path, name))
    _Binder(scope).block(tree.body, override=True)
    _collect_imports(scope, tree)
    scope.mentions = mentioned(scope, prune(scope))
    return scope


_WORD = re.compile(r"[^\W\d]\w*")


def mentioned(scope: ModuleScope, texts: list[str]) -> frozenset[str]:
    """Every identifier-shaped word of a summary outside the keys of its bindings: the
    strings its pruned nodes keep (`texts`: names, attributes, and string constants, as a
    string annotation or `relationship("Model")` names a class too), and the modules it
    imports and star-imports."""
    words: set[str] = set()
    imports = [b.target for b in scope.bindings.values() if isinstance(b, Import)]
    for text in (*texts, *imports, *scope.star_imports, *scope.imported, scope.import_root):
        if text.isidentifier():
            words.add(text)
        else:
            words.update(_WORD.findall(text))
    return frozenset(words)


def prune(scope: ModuleScope) -> list[str]:
    """Keep of the file's tree only what the index reads (see `pruning`): the rest of it
    goes with the tree when `parse_scope` returns. The strings the kept nodes hold."""
    texts: list[str] = []
    for name, binding in scope.bindings.items():
        if isinstance(binding, Definition):
            scope.bindings[name] = Definition(pruned_value(binding.node, texts))
    return texts


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
                self.target(target, node.value, override)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.target(node.target, node.value, override)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            # The type checker's branch never runs: `else:` is what the program binds.
            self.block(node.orelse, override)
            self.block(node.body, override=False)
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

    def target(self, target: ast.expr, value: ast.expr, override: bool) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, Definition(value), override)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                if isinstance(element, ast.Starred):
                    element = element.value
                if isinstance(element, ast.Name):
                    self.bind(element.id, Definition(None), override)


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:`."""
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


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
