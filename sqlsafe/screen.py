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
from pathlib import Path
from typing import TYPE_CHECKING

from sqlsafe.checks.names import SESSIONMAKERS, canonical_session_class

if TYPE_CHECKING:
    from sqlsafe.checks.base import Rule
    from sqlsafe.checks.project import Index


class Syntax:
    """What one walk of a file's `ast` tree found, for the rules' screens to ask."""

    def __init__(self, tree: ast.Module, module_name: str, is_package: bool, index: Index):
        self.index = index
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
        for node in ast.walk(tree):
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
            elif kind is ast.ClassDef:
                self._define(node.name)  # type: ignore[attr-defined]
            elif kind is ast.Import or kind is ast.ImportFrom:
                self._import(node)  # type: ignore[arg-type]
        self.sessionmakers = frozenset(
            f"{module_name}.{target.id}"
            for targets, call in assignments
            if any(name in SESSIONMAKERS for name in self.qualnames(call.func))
            for target in targets
            if type(target) is ast.Name
        )
        """Names assigned a `sessionmaker(...)`, qualified: calling one makes a session."""

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
        if (type(target) is ast.Tuple or type(target) is ast.List) and len(target.elts) == 1:  # type: ignore[attr-defined]
            self.one_element_unpacking = True

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._define(node.name)
        arguments = node.args
        for parameter in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            if parameter.annotation is not None:
                self.parameter_parts.append(parameter.annotation)
        self.parameter_parts.extend(arguments.defaults)
        self.parameter_parts.extend(d for d in arguments.kw_defaults if d is not None)

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
            node = node.value  # type: ignore[attr-defined]
        if type(node) is not ast.Call:
            return False
        func = node.func  # type: ignore[attr-defined]
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
        return any(
            self.session_related(chain) for part in self.parameter_parts for chain in _chains(part)
        )

    def runs_statement(self) -> bool:
        """Some call may run a statement through a session and give a result whose shape
        the ROW and LOAD rules know: `x.exec(stmt)`, `x.execute(stmt)`, `x.scalars(stmt)` or
        `x.scalar(stmt)` with one positional argument (not an integer: `result.scalars(0)`
        is the Result method) and nothing unpacked into the call."""
        return any(
            len(call.args) == 1
            and type(call.args[0]) is not ast.Starred
            and not _is_int(call.args[0])
            and all(keyword.arg is not None for keyword in call.keywords)
            for call in self.method_calls(("exec", "execute", "scalars", "scalar"))
        )

    def not_awaited(self, node: ast.expr) -> bool:
        return id(node) not in self.awaited


def screened(
    rules: Sequence[type[Rule]], text: str, path: Path, module_name: str, index: Index
) -> tuple[type[Rule], ...]:
    """The rules whose screen finds a candidate in `text`; all of them when `ast` rejects
    the text (syntax newer than the running Python, which libcst may still parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return tuple(rules)
    syntax = Syntax(tree, module_name, path.stem == "__init__", index)
    return tuple(rule for rule in rules if rule.screen(syntax))


def _dotted(node: ast.expr) -> str | None:
    if type(node) is ast.Name:
        return node.id  # type: ignore[attr-defined,no-any-return]
    if type(node) is ast.Attribute:
        base = _dotted(node.value)  # type: ignore[attr-defined]
        return None if base is None else f"{base}.{node.attr}"  # type: ignore[attr-defined]
    return None


def _chains(node: ast.expr) -> Iterator[ast.expr]:
    """Every `Name`/`Attribute` chain in `node`, and the chains inside them."""
    for child in ast.walk(node):
        if type(child) is ast.Name or type(child) is ast.Attribute:
            yield child


def _is_zero(index: ast.expr) -> bool:
    """`[0]`, and `[0,]`, which libcst reads as one element `0`."""
    if type(index) is ast.Tuple and len(index.elts) == 1:  # type: ignore[attr-defined]
        index = index.elts[0]  # type: ignore[attr-defined]
    return type(index) is ast.Constant and type(index.value) is int and index.value == 0  # type: ignore[attr-defined]


def _is_int(node: ast.expr) -> bool:
    # `True` is an int to Python, not to libcst's `Integer`.
    return type(node) is ast.Constant and type(node.value) is int  # type: ignore[attr-defined]
