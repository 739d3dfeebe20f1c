"""Which names a function (or the module) binds, where, and which of its definitions may
reach a use of one: the one answer to "is this name local here, and what may it hold".

Block-structured reaching definitions: an assignment that runs on every path to a use hides
the earlier ones, a branch adds its own, and a loop adds the assignments further down its
body. A scope is its own code only: nested functions and classes are scopes of their own;
comprehensions and lambdas keep their variables apart (`Scope.inner`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from sqlsafe.checks.base import FileContext, MemoKey
from sqlsafe.checks.names import dotted
from sqlsafe.traversal import LAYOUT, children


@dataclass(frozen=True)
class Site:
    seq: int
    """Evaluation order within the scope."""
    path: tuple[int, ...]
    """The blocks (suites) that contain it, outermost first."""
    loops: frozenset[int]


@dataclass(frozen=True)
class Definition:
    name: str
    kind: Literal["value", "iter", "import", "unknown"]
    expression: cst.BaseExpression | None
    site: Site
    kills: bool
    """Runs unconditionally in its block (an assignment, not a walrus or a match capture)."""


@dataclass(frozen=True)
class Use:
    node: cst.Name
    site: Site
    parent: cst.CSTNode | None
    grandparent: cst.CSTNode | None


@dataclass
class Scope:
    node: cst.CSTNode
    definitions: dict[str, list[Definition]] = field(default_factory=dict)
    uses: dict[cst.Name, Use] = field(default_factory=dict)
    uses_by_name: dict[str, list[Use]] = field(default_factory=dict)
    inner: dict[cst.Name, Definition] = field(default_factory=dict)
    """Uses bound by a comprehension or lambda inside this scope."""
    inner_uses: dict[Definition, list[Use]] = field(default_factory=dict)
    params: frozenset[str] = frozenset()
    """The names the function's parameters bind (`parameters`). The names their annotations
    and defaults use are not the function's: they are read outside it, where it is defined."""
    declared: set[str] = field(default_factory=set)
    """`global` / `nonlocal` names."""

    def reaching(self, name: str, use: Cst) -> list[Definition]:
        """Definitions of `name` that may reach `use` (all of them when `use` is unknown)."""
        definitions = self.definitions.get(name, [])
        site = self.uses.get(use) if isinstance(use, cst.Name) else None
        if site is None:
            return definitions
        at = site.site
        before = [d for d in definitions if d.site.seq < at.seq]
        killer = next(
            (d for d in reversed(before) if d.kills and d.site.path == at.path[: len(d.site.path)]),
            None,
        )
        if killer is not None:
            before = [d for d in before if d.site.seq >= killer.site.seq]
        # Later definitions reach a use through the back edge of a loop around both, unless
        # the killer runs inside that loop too.
        later = [
            d
            for d in definitions
            if d.site.seq > at.seq
            and any(
                loop in d.site.loops and (killer is None or loop not in killer.site.loops)
                for loop in at.loops
            )
        ]
        return before + later


Cst = cst.CSTNode
COMPREHENSIONS = frozenset({cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp})


class _ScopeBuilder:
    """One walk over a scope's own code (not nested functions or classes)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.seq = 0
        self.path: list[int] = []
        self.loops: list[int] = []
        self.env: list[dict[str, Definition]] = []

    def site(self, path: Iterable[int] | None = None, loops: Iterable[int] | None = None) -> Site:
        self.seq += 1
        return Site(
            self.seq,
            tuple(self.path if path is None else path),
            frozenset(self.loops if loops is None else loops),
        )

    def define(
        self,
        name: str,
        kind: Literal["value", "iter", "import", "unknown"],
        expression: cst.BaseExpression | None,
        kills: bool = True,
        site: Site | None = None,
    ) -> None:
        definition = Definition(name, kind, expression, site or self.site(), kills)
        self.scope.definitions.setdefault(name, []).append(definition)

    def bind_target(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.define(target.value, "value" if value is not None else "unknown", value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind_target(element.value, None)
        elif isinstance(target, cst.StarredElement):
            self.bind_target(target.value, None)
        else:
            self.expression(target, None, None)

    def names_in(self, node: Cst) -> Iterator[str]:
        if isinstance(node, cst.Name):
            yield node.value
        for child in children(node):
            yield from self.names_in(child)

    # statements

    def block(self, suite: Cst) -> None:
        self.path.append(id(suite))
        for statement in getattr(suite, "body", ()):
            self.statement(statement)
        self.path.pop()

    def statement(self, node: Cst) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            for small in node.body:
                self.small(small)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.define(node.name.value, "unknown", None)
        elif isinstance(node, cst.If):
            self.expression(node.test, node, None)
            self.block(node.body)
            if node.orelse is not None:
                if isinstance(node.orelse, cst.If):
                    self.path.append(id(node.orelse))
                    self.statement(node.orelse)
                    self.path.pop()
                else:
                    self.block(node.orelse.body)
        elif isinstance(node, cst.For):
            self.expression(node.iter, node, None)
            self.loops.append(id(node))
            body_path = [*self.path, id(node.body)]
            if isinstance(node.target, cst.Name) and node.asynchronous is None:
                self.define(
                    node.target.value,
                    "iter",
                    node.iter,
                    site=self.site(path=body_path),
                )
            else:
                for name in self.names_in(node.target):
                    self.define(name, "unknown", None, site=self.site(path=body_path))
            self.block(node.body)
            self.loops.pop()
            if node.orelse is not None:
                self.block(node.orelse.body)
        elif isinstance(node, cst.While):
            self.loops.append(id(node))
            self.expression(node.test, node, None)
            self.block(node.body)
            self.loops.pop()
            if node.orelse is not None:
                self.block(node.orelse.body)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self.block(node.body)
            for handler in node.handlers:
                if handler.type is not None:
                    self.expression(handler.type, handler, None)
                self.path.append(id(handler.body))
                if handler.name is not None:
                    for name in self.names_in(handler.name.name):
                        self.define(name, "unknown", None)
                for statement in getattr(handler.body, "body", ()):
                    self.statement(statement)
                self.path.pop()
            if node.orelse is not None:
                self.block(node.orelse.body)
            if node.finalbody is not None:
                self.block(node.finalbody.body)
        elif isinstance(node, cst.With):
            for item in node.items:
                self.expression(item.item, item, node)
                if item.asname is not None:
                    for name in self.names_in(item.asname.name):
                        self.define(name, "unknown", None)
            self.block(node.body)
        elif isinstance(node, cst.Match):
            self.expression(node.subject, node, None)
            for case in node.cases:
                for name in self.names_in(case.pattern):
                    self.define(name, "unknown", None, kills=False)
                if case.guard is not None:
                    self.expression(case.guard, case, None)
                self.block(case.body)
        else:
            for child in children(node):
                self.statement(child)

    def small(self, node: Cst) -> None:
        if isinstance(node, cst.Assign):
            self.expression(node.value, node, None)
            for target in node.targets:
                self.bind_target(target.target, node.value)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.expression(node.value, node, None)
                self.bind_target(node.target, node.value)
        elif isinstance(node, cst.AugAssign):
            self.expression(node.value, node, None)
            self.expression(node.target, node, None)
            for name in self.names_in(node.target) if isinstance(node.target, cst.Name) else ():
                self.define(name, "unknown", None)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            if isinstance(node.names, cst.ImportStar):
                return
            for alias in node.names:
                if alias.asname is not None:
                    bound = alias.asname.name
                    imported = bound.value if isinstance(bound, cst.Name) else None
                else:
                    imported = (dotted(alias.name) or "").split(".")[0] or None
                if imported:
                    self.define(imported, "import", None)
        elif isinstance(node, (cst.Global, cst.Nonlocal)):
            self.scope.declared.update(item.name.value for item in node.names)
        elif isinstance(node, cst.Del):
            for name in self.names_in(node.target):
                self.define(name, "unknown", None)
        else:
            for child in children(node):
                self.expression(child, node, None)

    # expressions

    def lookup(self, name: str) -> Definition | None:
        for frame in reversed(self.env):
            if name in frame:
                return frame[name]
        return None

    def expression(self, node: Cst, parent: Cst | None, grandparent: Cst | None) -> None:
        # Dispatch on the node's exact type: libcst's node classes have no subclasses, and
        # `isinstance` against them is an ABC check, the main cost of this walk over every
        # node of a scope.
        kind = type(node)
        if kind in LAYOUT:
            return
        if kind is cst.Name:
            assert isinstance(node, cst.Name)
            bound = self.lookup(node.value)
            if bound is not None:
                self.scope.inner[node] = bound
                inner_use = Use(node, self.site(), parent, grandparent)
                self.scope.inner_uses.setdefault(bound, []).append(inner_use)
                return
            use = Use(node, self.site(), parent, grandparent)
            self.scope.uses[node] = use
            self.scope.uses_by_name.setdefault(node.value, []).append(use)
        elif kind is cst.Attribute or kind is cst.Arg:
            assert isinstance(node, (cst.Attribute, cst.Arg))
            # Neither an attribute's name nor a keyword is a variable.
            self.expression(node.value, node, parent)
        elif kind is cst.NamedExpr:
            assert isinstance(node, cst.NamedExpr)
            self.expression(node.value, node, parent)
            if isinstance(node.target, cst.Name):
                self.define(node.target.value, "value", node.value, kills=False)
        elif kind is cst.Lambda:
            assert isinstance(node, cst.Lambda)
            frame: dict[str, Definition] = {}
            for name in self.names_in(node.params):
                frame[name] = Definition(name, "unknown", None, self.site(), True)
            self.env.append(frame)
            self.expression(node.body, node, parent)
            self.env.pop()
        elif kind in COMPREHENSIONS:
            assert isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp))
            self.comprehension(node)
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            return
        else:
            for child in children(node):
                self.expression(child, node, parent)

    def comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> None:
        frame: dict[str, Definition] = {}
        self.env.append(frame)
        clause: cst.CompFor | None = node.for_in
        first = True
        while clause is not None:
            if first:
                # The first iterable is evaluated in the enclosing scope.
                self.env.pop()
                self.expression(clause.iter, clause, node)
                self.env.append(frame)
                first = False
            else:
                self.expression(clause.iter, clause, node)
            if isinstance(clause.target, cst.Name) and clause.asynchronous is None:
                frame[clause.target.value] = Definition(
                    clause.target.value, "iter", clause.iter, self.site(), True
                )
            else:
                for name in self.names_in(clause.target):
                    frame[name] = Definition(name, "unknown", None, self.site(), True)
            for condition in clause.ifs:
                self.expression(condition.test, condition, clause)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self.expression(node.key, node, None)
            self.expression(node.value, node, None)
        else:
            self.expression(node.elt, node, None)
        self.env.pop()


_SCOPE: MemoKey[Scope] = MemoKey("scope")


def scope_of(context: FileContext, node: cst.FunctionDef | cst.Module) -> Scope:
    """Definitions and uses of the local names of a function (or of the module), once."""

    def compute() -> Scope:
        scope = Scope(node)
        builder = _ScopeBuilder(scope)
        if isinstance(node, cst.FunctionDef):
            scope.params = parameters(node)
            builder.block(node.body)
        else:
            builder.block(node)
        return scope

    return context.memo(_SCOPE, node, compute)


def parameters(function: cst.FunctionDef) -> frozenset[str]:
    """The names a function's parameters bind (not the names their annotations and
    defaults use: those are evaluated outside the function)."""
    params = function.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return frozenset(names)


def binds(context: FileContext, function: cst.FunctionDef, name: str) -> bool:
    """Does the function bind `name` as a local of its own: a parameter, or any definition
    but an import (an imported name means what it means at module level)?"""
    definitions = scope_of(context, function).definitions.get(name, ())
    return name in parameters(function) or any(d.kind != "import" for d in definitions)


def resolvable_here(context: FileContext, text: str) -> bool:
    """Does the dotted name `text` mean the same thing at module level as in this scope?"""
    if shadowed(context, text, tuple(context.functions)):
        return False
    return text.partition(".")[0] in context.names.names


def bound_locally(context: FileContext, name: str) -> bool:
    """Is `name` bound, by anything but an import, in a function around the visited node?"""
    return shadowed(context, name, tuple(context.functions))


def shadowed(context: FileContext, text: str, scopes: Sequence[cst.FunctionDef]) -> bool:
    """Is the head of a dotted name bound in a function by anything but an import?"""
    head = text.partition(".")[0]
    for function in scopes:
        scope = scope_of(context, function)
        if head in scope.params or head in scope.declared:
            return True
        if any(d.kind != "import" for d in scope.definitions.get(head, ())):
            return True
    return False
