"""Which enabled rules could report something in a file: a syntactic screen on the stdlib
`ast` tree, before libcst parses it.

A file that passes the textual pre-filter costs a libcst parse and the rule walk; CPython's
own parser builds an `ast` tree many times faster. One walk of that tree collects the few
shapes rules start from (calls by method name, `[0]` subscripts, one-element unpacking,
`with` items and assignments that may make a session, parameters that may be one), and
each rule's `Rule.screen` says from them whether the file may hold something it reports.
It answers False only when it cannot: not a finding, not a fix of any fix round (each round's
text is screened again), not a run fact (`Rule.run_facts`) other than "nothing". A rule
without a screen keeps every file, and a file `ast` rejects is not screened at all.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlsafe import segments
from sqlsafe.checks.names import (
    ASYNC_SESSION_CLASSES,
    ASYNC_SESSIONMAKERS,
    SESSIONMAKERS,
    SQLALCHEMY_SELECT,
    SQLMODEL_SELECT,
    TEXT,
    canonical_session_class,
)

STATEMENTS = SQLMODEL_SELECT | SQLALCHEMY_SELECT | TEXT

if TYPE_CHECKING:
    from sqlsafe.checks.base import Rule
    from sqlsafe.checks.plan import Plan
    from sqlsafe.checks.project import Index


Position = tuple[int, int]


@dataclass
class SessionScope:
    """The module's or one function's own code (not the functions, classes and lambdas in
    it: the lifetime analysis of the DETACH and SCOPE rules walks each function alone)."""

    function: bool
    opens: bool = False
    """A `with` item, an assignment or a parameter here may give a session."""
    maybe_async: bool = False
    """One of them may be an `AsyncSession`, whose instances cannot load lazily."""
    sync_ends: list[Position] = field(default_factory=list)
    """Where each `with` that may make a (synchronous) session ends: it closes there."""
    closes: bool = False
    """A `close()`, `expunge()` or `expunge_all()` call, which detaches instances too."""
    reads: list[Position] = field(default_factory=list)
    """Where `name.attribute` and `getattr(name, ...)` are read."""
    returns_value: bool = False
    """A `return` of what may be an instance: a name, an item, a method call's result."""

    def may_read_detached(self) -> bool:
        """A read an open session cannot serve: one of an `AsyncSession`'s instances, or
        after the session closed or expunged (a later position, or a call)."""
        if not self.opens or not self.reads:
            return False
        if self.maybe_async or self.closes:
            return True
        return any(read >= end for read in self.reads for end in self.sync_ends)


class Syntax:
    """What one walk of a file's `ast` tree found, for the rules' screens to ask."""

    def __init__(
        self,
        tree: ast.Module,
        module_name: str,
        is_package: bool,
        index: Index,
        plan: Plan | None = None,
    ):
        self.tree = tree
        self.index = index
        self.plan = plan
        """The run's DETACH plan, when it is made before the checks."""
        self.module_name = module_name
        self.calls: dict[str, list[ast.Call]] = defaultdict(list)
        """Calls of a method (`x.name(...)`), by the method's name."""
        self.other_calls: list[ast.Call] = []
        """Calls of anything but an attribute: a name, a call, a subscript..."""
        self.awaited: set[int] = set()
        """`id` of every expression that is the operand of an `await`."""
        self.awaitable_reads: list[ast.Attribute] = []
        """`x.awaitable_attrs.name`."""
        self.identifiers: set[str] = set()
        """Every name, attribute name and imported name the code spells."""
        self.zero_index = False
        """Some subscript is `[0]`."""
        self.one_element_unpacking = False
        """Some assignment, `for` or comprehension target is `(x,)`, `x,` or `[x]`."""
        self.with_items: list[ast.expr] = []
        """What `with ... as name` items enter (a session when a factory makes it)."""
        self.assigned: list[ast.expr] = []
        """Values assigned to a single name (`s = Session(engine)`)."""
        self.parameter_parts: list[ast.expr] = []
        """Annotations and defaults of function parameters (an `AsyncSession` one)."""
        self.bindings: dict[str, set[str]] = defaultdict(set)
        """Local name -> every qualified name the file may bind it to."""
        self._package = module_name if is_package else module_name.rpartition(".")[0]
        self._locate_imports = not is_package
        assignments: list[tuple[list[ast.expr], ast.Call]] = []
        self._scopes: list[_ScopeParts] = []
        """The module's and each function's own code, as one walk saw it."""
        module = _ScopeParts(None)
        self._scopes.append(module)
        # One walk for everything, each node with the scope whose own code it is (None in
        # a class body, a lambda, a decorator or a parameter list).
        stack: list[tuple[ast.AST, _ScopeParts | None]] = [(tree, module)]
        while stack:
            node, scope = stack.pop()
            kind = type(node)
            if kind is ast.Call:
                self._call(node)  # type: ignore[arg-type]
            elif kind is ast.Attribute:
                self._attribute(node)  # type: ignore[arg-type]
            elif kind is ast.Name:
                self.identifiers.add(node.id)  # type: ignore[attr-defined]
            elif kind is ast.Await:
                self.awaited.add(id(node.value))  # type: ignore[attr-defined]
            elif kind is ast.Subscript:
                self.zero_index = self.zero_index or _is_zero(node.slice)  # type: ignore[attr-defined]
            elif kind is ast.Assign or kind is ast.AnnAssign:
                targets = node.targets if kind is ast.Assign else [node.target]  # type: ignore[attr-defined]
                self._assignment(targets, node.value)  # type: ignore[attr-defined]
                if type(node.value) is ast.Call:  # type: ignore[attr-defined]
                    assignments.append((targets, node.value))  # type: ignore[attr-defined]
            elif kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
                self._unpacking(node.target)  # type: ignore[attr-defined]
            elif kind is ast.With or kind is ast.AsyncWith:
                for item in node.items:  # type: ignore[attr-defined]
                    if type(item.optional_vars) is ast.Name:
                        self.with_items.append(item.context_expr)
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                self._function(node)  # type: ignore[arg-type]
                own = _ScopeParts(node)  # type: ignore[arg-type]
                self._scopes.append(own)
                body = {id(statement) for statement in node.body}  # type: ignore[attr-defined]
                for child in _children(node):
                    stack.append((child, own if id(child) in body else None))
                continue
            elif kind is ast.ClassDef:
                self._define(node.name)  # type: ignore[attr-defined]
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node)  # type: ignore[arg-type]
            if scope is not None:
                if kind is ast.ClassDef or kind is ast.Lambda:
                    scope = None
                else:
                    scope.add(node, kind)
            for child in _children(node):
                stack.append((child, scope))
        self.sessionmakers: dict[str, bool] = {}
        """Names assigned a `sessionmaker(...)`, qualified: calling one makes a session (an
        `AsyncSession` when True)."""
        for targets, call in assignments:
            makers = self.qualnames(call.func) & SESSIONMAKERS
            for target in targets:
                if makers and type(target) is ast.Name:
                    name = f"{module_name}.{target.id}"
                    is_async = not makers.isdisjoint(ASYNC_SESSIONMAKERS)
                    self.sessionmakers[name] = self.sessionmakers.get(name, False) or is_async

    # -- the walk ------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> None:
        func = node.func
        if type(func) is ast.Attribute:
            self.calls[func.attr].append(node)
        else:
            self.other_calls.append(node)

    def _attribute(self, node: ast.Attribute) -> None:
        self.identifiers.add(node.attr)
        owner = node.value
        if type(owner) is ast.Attribute and owner.attr == "awaitable_attrs":
            self.awaitable_reads.append(node)

    def _assignment(self, targets: Sequence[ast.expr], value: ast.expr | None) -> None:
        for target in targets:
            if type(target) is ast.Name:
                self._define(target.id)
            else:
                self._unpacking(target)
        if len(targets) == 1 and type(targets[0]) is ast.Name and value is not None:
            self.assigned.append(value)

    def _unpacking(self, target: ast.expr) -> None:
        if (type(target) is ast.Tuple or type(target) is ast.List) and len(target.elts) == 1:
            self.one_element_unpacking = True

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._define(node.name)
        self.parameter_parts.extend(_parameter_parts(node.args))

    def _define(self, name: str) -> None:
        # Any definition, not only top-level ones: a binding too many only keeps a file.
        self.identifiers.add(name)
        self.bindings[name].add(f"{self.module_name}.{name}")

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                self.identifiers.update(alias.name.split("."))
                if alias.asname is not None:
                    self._bind(alias.asname, self._located(alias.name))
                else:
                    head = alias.name.partition(".")[0]
                    self._bind(head, self._located(head))
            return
        module = node.module or ""
        if node.level:
            base = self._package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            module = f"{base}.{module}" if module else base
        elif module:
            module = self._located(module)
        for alias in node.names:
            if alias.name == "*":
                continue
            self.identifiers.add(alias.name)
            local = alias.asname or alias.name
            self._bind(local, f"{module}.{alias.name}" if module else alias.name)

    def _bind(self, local: str, qualname: str) -> None:
        self.identifiers.add(local)
        self.bindings[local].add(qualname)

    def _located(self, target: str) -> str:
        if not self._locate_imports:
            return target
        return self.index.import_target(self.module_name, target)

    # -- what screens ask ------------------------------------------------------------------

    def qualnames(self, node: ast.expr) -> set[str]:
        """Every qualified name a `Name`/`Attribute` chain may stand for."""
        name = _dotted(node)
        if name is None:
            return set()
        head, _, rest = name.partition(".")
        return {f"{bound}.{rest}" if rest else bound for bound in self.bindings.get(head, ())}

    def method_calls(self, methods: Iterable[str]) -> Iterator[ast.Call]:
        for method in methods:
            yield from self.calls.get(method, ())

    def session_related(self, node: ast.expr) -> bool:
        """Whether a chain may name a session class, a sessionmaker, a session factory or an
        alias of one (`SessionDep`) the project index knows."""
        index = self.index
        return any(
            canonical_session_class(name) is not None
            or name in SESSIONMAKERS
            or name in self.sessionmakers
            or index.factory(name) is not None
            or index.alias(name) is not None
            or index.session_base(name) is not None
            for name in self.qualnames(node)
        )

    def makes_session(self, node: ast.expr) -> bool:
        """Whether evaluating `node` may make a session: `Session(engine)`, `SessionLocal()`,
        `sessionmaker(...)()`, `factory.begin()`, a factory the index knows, awaited or not."""
        if type(node) is ast.Await:
            node = node.value
        if type(node) is not ast.Call:
            return False
        func = node.func
        if type(func) is ast.Attribute and func.attr == "begin":
            return type(func.value) is not ast.Call and self.session_related(func.value)
        if type(func) is ast.Call:
            return self.session_related(func.func)
        return self.session_related(func)

    def may_own_session(self) -> bool:
        """Whether a function or the module may hold a session whose lifetime the DETACH
        and SCOPE rules follow: one a `with` or an assignment makes, or a parameter that
        may be a session (an annotation or a `Depends(...)` default naming one)."""
        if any(self.makes_session(node) for node in (*self.with_items, *self.assigned)):
            return True
        return any(self._session_parameter(part) for part in self.parameter_parts)

    def _session_parameter(self, part: ast.expr) -> bool:
        return any(self.session_related(chain) for chain in _chains(part))

    def may_be_async(self, node: ast.expr) -> bool:
        """Whether a session `node` makes (`makes_session`) may be an `AsyncSession`."""
        if type(node) is ast.Await:
            return True
        func = node.func  # type: ignore[attr-defined]
        if type(func) is ast.Attribute and func.attr == "begin":
            func = func.value
        elif type(func) is ast.Call:
            return not self.qualnames(func.func).isdisjoint(ASYNC_SESSIONMAKERS)
        for name in self.qualnames(func):
            factory = self.index.factory(name)
            if (
                canonical_session_class(name) in ASYNC_SESSION_CLASSES
                or self.sessionmakers.get(name, False)
                or (factory is not None and factory.is_async)
            ):
                return True
        return False

    @cached_property
    def session_scopes(self) -> list[SessionScope]:
        """The module and every function, where one may hold a session."""
        if not self.may_own_session():
            return []
        return [self._session_scope(parts) for parts in self._scopes]

    def _session_scope(self, parts: _ScopeParts) -> SessionScope:
        function = parts.function
        scope = SessionScope(
            function=function is not None,
            closes=parts.closes,
            reads=parts.reads,
            returns_value=parts.returns_value,
        )
        if function is not None and any(
            self._session_parameter(part) for part in _parameter_parts(function.args)
        ):
            # Only an `AsyncSession` parameter is followed.
            scope.opens = scope.maybe_async = True
        for statement, made in parts.withs:
            if self.makes_session(made):
                scope.opens = True
                if type(statement) is ast.AsyncWith or self.may_be_async(made):
                    scope.maybe_async = True
                else:
                    scope.sync_ends.append((statement.end_lineno, statement.end_col_offset))  # type: ignore[arg-type]
        for value in parts.assigned:
            if self.makes_session(value):
                scope.opens = True
                scope.maybe_async = scope.maybe_async or self.may_be_async(value)
        return scope

    def runs_statement(self) -> bool:
        """Some call may run a statement through a session and give a result whose shape
        the ROW and LOAD rules know: `x.exec(stmt)`, `x.execute(stmt)`, `x.scalars(stmt)` or
        `x.scalar(stmt)` with one positional argument (not an integer: `result.scalars(0)`
        is the Result method) and nothing unpacked into the call, and the file builds a
        statement whose shape is known (`select(...)` or `text(...)`)."""
        return self._builds_statement and any(
            len(call.args) == 1
            and type(call.args[0]) is not ast.Starred
            and not _is_int(call.args[0])
            and all(keyword.arg is not None for keyword in call.keywords)
            for call in self.method_calls(("exec", "execute", "scalars", "scalar"))
        )

    @cached_property
    def _builds_statement(self) -> bool:
        """A call of `select` (whatever it is) or of SQLModel's or SQLAlchemy's `select` or
        `text` under any name, through the index's aliases too (`queries.select_library`)."""
        method_calls = (call for calls in self.calls.values() for call in calls)
        for call in (*self.other_calls, *method_calls):
            func = call.func
            if type(func) is ast.Name and func.id == "select":
                return True
            for name in self.qualnames(func):
                if name in STATEMENTS or self.index.alias(name) in STATEMENTS:
                    return True
        return False

    def not_awaited(self, node: ast.expr) -> bool:
        return id(node) not in self.awaited


def screened(
    rules: Sequence[type[Rule]],
    text: str,
    path: Path,
    module_name: str,
    index: Index,
    plan: Plan | None = None,
) -> tuple[tuple[type[Rule], ...], list[segments.Start] | None]:
    """The rules whose screen finds a candidate in `text`, all of them when `ast` rejects
    the text (syntax newer than the running Python, which libcst may still parse); and
    for a text checked in segments, its top-level statements' starts as the tree gives
    them (`segments.split`)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return tuple(rules), None
    syntax = Syntax(tree, module_name, path.stem == "__init__", index, plan)
    kept = tuple(rule for rule in rules if rule.screen(syntax))
    large = kept and len(text) > segments.LARGE
    return kept, segments.starts_of(tree, text) if large else None


@dataclass
class _ScopeParts:
    """What a scope's own code holds that `SessionScope` is made from, once the file's
    session makers are known."""

    function: ast.FunctionDef | ast.AsyncFunctionDef | None
    withs: list[tuple[ast.With | ast.AsyncWith, ast.expr]] = field(default_factory=list)
    """Each `with ... as name` item's statement and what it enters."""
    assigned: list[ast.expr] = field(default_factory=list)
    """Values assigned to a single name."""
    reads: list[Position] = field(default_factory=list)
    closes: bool = False
    returns_value: bool = False

    def add(self, node: ast.AST, kind: type[ast.AST]) -> None:
        if kind is ast.With or kind is ast.AsyncWith:
            for item in node.items:  # type: ignore[attr-defined]
                if type(item.optional_vars) is ast.Name:
                    self.withs.append((node, item.context_expr))  # type: ignore[arg-type]
        elif kind is ast.Assign:
            targets = node.targets  # type: ignore[attr-defined]
            if len(targets) == 1 and type(targets[0]) is ast.Name:
                self.assigned.append(node.value)  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            if type(node.value) is ast.Name:  # type: ignore[attr-defined]
                self.reads.append((node.lineno, node.col_offset))  # type: ignore[attr-defined]
        elif kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute and func.attr in _DETACHING:
                self.closes = True
            elif type(func) is ast.Name and func.id == "getattr":
                self.reads.append((node.lineno, node.col_offset))  # type: ignore[attr-defined]
        elif kind is ast.Return:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is ast.Await:
                value = value.value
            self.returns_value = self.returns_value or (
                type(value) is ast.Name
                or type(value) is ast.Subscript
                or (type(value) is ast.Call and type(value.func) is ast.Attribute)
            )


_NOT_CHILDREN = frozenset({"ctx"})
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` without the expression contexts (`Load`, `Store`), as a list."""
    kind = type(node)
    names = _CHILD_FIELDS.get(kind)
    if names is None:
        names = _CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f not in _NOT_CHILDREN)
    found: list[ast.AST] = []
    for name in names:
        value = getattr(node, name, None)
        if type(value) is list:
            found.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            found.append(value)
    return found


# Session methods after which its instances are detached.
_DETACHING = frozenset({"close", "expunge", "expunge_all"})


def _parameter_parts(arguments: ast.arguments) -> Iterator[ast.expr]:
    """The annotations and defaults of the parameters a function names (not `*args` and
    `**kwargs`, which are never sessions)."""
    for parameter in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        if parameter.annotation is not None:
            yield parameter.annotation
    yield from arguments.defaults
    yield from (default for default in arguments.kw_defaults if default is not None)


def _dotted(node: ast.expr) -> str | None:
    if type(node) is ast.Name:
        return node.id
    if type(node) is ast.Attribute:
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _chains(node: ast.expr) -> Iterator[ast.expr]:
    """Every `Name`/`Attribute` chain in `node`, and the chains inside them."""
    for child in ast.walk(node):
        if type(child) is ast.Name or type(child) is ast.Attribute:
            yield child


def _is_zero(index: ast.expr) -> bool:
    """`[0]`, and `[0,]`, which libcst reads as one element `0`."""
    if type(index) is ast.Tuple and len(index.elts) == 1:
        index = index.elts[0]
    return type(index) is ast.Constant and type(index.value) is int and index.value == 0


def _is_int(node: ast.expr) -> bool:
    # `True` is an int to Python, not to libcst's `Integer`.
    return type(node) is ast.Constant and type(node.value) is int
