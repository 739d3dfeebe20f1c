"""What a query expression evaluates to: a statement, a result, or a value taken from a result.

Whether `.first()` gives a model instance or a Row is `queries.yields_models`. This module
follows an expression back to where the statement was built, through method chains and local
variables, and answers with a set of *facts*, one for each way the value may have been produced:

- `Stmt`: a statement built by a known `select`/`text` here, with its argument count and,
  when the first argument is a mapped class, that `Entity`;
- `Res`: a Result object (`session.exec(stmt)`, `session.execute(stmt)`, `.scalars()`, ...);
- `Items`: a list taken from a result (`.all()`, `.fetchall()`, a slice);
- `Item`: one value taken from a result (`.first()`, `.one()`, iteration, `.all()[i]`);
- `UNKNOWN`: anything else, including parameters and values from other functions.

Local variables are followed with block-structured reaching definitions: an assignment
that runs on every path to a use hides the earlier ones, a branch adds its own, and a loop
adds the assignments further down its body. The analysis never crosses a function
boundary other than reading enclosing scopes, so a statement passed in or built by a
helper is `UNKNOWN`, and rules report nothing about it.

Rules ask `facts(context, expr)` during their `visit_*` call (the scope is taken from
`context.functions`) and classify `Item`s with `Item.kind`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from sqlsafe.checks import queries
from sqlsafe.checks.base import FileContext, FixPlan, Insert, MemoKey, Replace
from sqlsafe.checks.queries import Entity, Library, Shape
from sqlsafe.checks.scopes import Definition, Use, resolvable_here, scope_of
from sqlsafe.checks.sessions import is_sqlmodel_session, kind_of, receiver_session
from sqlsafe.checks.truth import is_truth_test
from sqlsafe.diagnostics import Applicability

FIRST_METHODS = queries.terminals({Shape.ONE, Shape.OPTIONAL}, column=False)
SCALAR_METHODS = queries.terminals({Shape.ONE, Shape.OPTIONAL}, column=True)
LIST_METHODS = queries.terminals({Shape.LIST}, column=False)
# What a file must spell for a statement to run through a session (SESSION_METHODS): the
# textual promise of the rules about results (`Rule.triggers`).
RESULT_TRIGGERS = ("exec", "scalar")
# Everything a Row has besides its keys (`sqlalchemy.engine.Row`, SQLAlchemy 1.4-2.1).
ROW_PUBLIC_API = frozenset({"count", "index", "t", "tuple"})


@dataclass(frozen=True)
class Stmt:
    library: Library
    count: int | None
    """Number of `select` arguments; None for `text()` or a `*args` call."""
    first: Entity | None
    """The first argument, when it is a mapped class."""
    node: cst.CSTNode = field(repr=False)
    options: tuple[cst.Call, ...] = field(default=(), repr=False)
    """The `.options(...)` calls chained onto it, in order."""

    @property
    def single_entity(self) -> Entity | None:
        return self.first if self.count == 1 else None


@dataclass(frozen=True)
class Res:
    stmt: Stmt
    scalars: bool | None
    """The result yields scalars (a ScalarResult) rather than Rows; None when that depends on
    a `select` whose import could not be resolved."""
    session: cst.BaseExpression = field(repr=False)
    call: cst.Call = field(repr=False)
    """The `session.exec(...)`/`execute(...)`/`scalars(...)` call that produced it."""
    origin: cst.BaseExpression = field(repr=False)
    """Where a `.scalars()` would go: the call, or the `await` around it."""
    from_exec: bool
    through: tuple[Binding, ...] = ()
    unique: bool = False
    """`.unique()` was called on it."""


@dataclass(frozen=True)
class Items:
    res: Res
    scalar: bool | None
    through: tuple[Binding, ...] = ()


ItemKind = Literal["model", "maybe-model", "row-of-entity", "other"]


@dataclass(frozen=True)
class Item:
    res: Res
    scalar: bool | None
    via: str
    """`first`, `one`, `one_or_none`, `scalar`..., `iter` or `index`."""
    through: tuple[Binding, ...] = ()

    @property
    def kind(self) -> ItemKind:
        """`model`: a model instance (or None); `maybe-model`: a model if an unresolved
        `select` is sqlmodel's; `row-of-entity`: a Row holding one model; `other`."""
        stmt = self.res.stmt
        if self.scalar is True:
            return "model" if stmt.first is not None else "other"
        if stmt.single_entity is None:
            return "other"
        return "maybe-model" if self.scalar is None else "row-of-entity"

    @property
    def entity(self) -> Entity | None:
        return self.res.stmt.first


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
Fact = Stmt | Res | Items | Item | _Unknown
Facts = frozenset[Fact]
_UNKNOWN_FACTS: Facts = frozenset({UNKNOWN})


@dataclass(frozen=True)
class Binding:
    """A local variable a value passed through: `scope` is a FunctionDef or the Module."""

    scope: cst.CSTNode = field(repr=False)
    name: str
    holds: Literal["result", "list", "item"]
    definition: Definition | None = field(default=None, repr=False)
    """Set for a comprehension or lambda variable, whose uses are kept per definition."""


# --- evaluation ---------------------------------------------------------------------------

_RELEVANT: MemoKey[bool] = MemoKey("whether statements has anything to find")
_EVALUATOR: MemoKey[Evaluator] = MemoKey("statement evaluator")


def is_relevant(context: FileContext) -> bool:
    """Can this file build a statement at all? Rules skip every other file at once."""

    def compute() -> bool:
        if queries.star_libraries(context):
            return True
        return "select" in context.names.names or any(
            value.startswith(("sqlmodel", "sqlalchemy")) for value in context.names.names.values()
        )

    return context.memo(_RELEVANT, context.module, compute)


class Evaluator:
    """Evaluates expressions of one file; results are cached per node."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.cache: dict[cst.CSTNode, Facts] = {}
        self.active: set[cst.CSTNode] = set()
        self.cuts = 0
        self.depth = 0

    def facts(self, node: cst.BaseExpression, scopes: tuple[cst.FunctionDef, ...]) -> Facts:
        cached = self.cache.get(node)
        if cached is not None:
            return cached
        if node in self.active:
            # A variable defined from itself (`stmt = stmt.where(...)`): the other
            # definitions decide, and nothing computed meanwhile is cached.
            self.cuts += 1
            return frozenset()
        if self.depth > 60:
            return _UNKNOWN_FACTS
        cuts = self.cuts
        self.active.add(node)
        self.depth += 1
        try:
            result = self._facts(node, scopes)
        finally:
            self.active.discard(node)
            self.depth -= 1
        if self.cuts == cuts:
            self.cache[node] = result
        return result

    def _facts(self, node: cst.BaseExpression, scopes: tuple[cst.FunctionDef, ...]) -> Facts:
        if isinstance(node, cst.Await):
            return self._call(node.expression, scopes, awaited=node)
        if isinstance(node, cst.Call):
            return self._call(node, scopes, awaited=None)
        if isinstance(node, cst.Name):
            return self._name(node, scopes)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, scopes)
        if isinstance(node, cst.IfExp):
            return self.facts(node.body, scopes) | self.facts(node.orelse, scopes)
        if isinstance(node, cst.NamedExpr):
            return self.facts(node.value, scopes)
        return _UNKNOWN_FACTS

    # names

    def _name(self, node: cst.Name, scopes: tuple[cst.FunctionDef, ...]) -> Facts:
        chain: list[cst.FunctionDef | cst.Module] = [self.context.module, *scopes]
        for depth in range(len(chain) - 1, -1, -1):
            owner = chain[depth]
            scope = scope_of(self.context, owner)
            innermost = depth == len(chain) - 1
            inner = scope.inner.get(node) if innermost else None
            if inner is not None:
                definitions = [inner]
            elif node.value in scope.declared or node.value in scope.params:
                return _UNKNOWN_FACTS
            elif node.value in scope.definitions:
                definitions = (
                    scope.reaching(node.value, node) if innermost else scope.definitions[node.value]
                )
            else:
                continue
            # Definitions are evaluated in the scope that holds them.
            outer = tuple(scopes[:depth])
            result: set[Fact] = set()
            for definition in definitions:
                for fact in self._definition(definition, outer):
                    result.add(_through(fact, owner, node.value, inner))
            return frozenset(result)
        return _UNKNOWN_FACTS

    def _definition(self, definition: Definition, scopes: tuple[cst.FunctionDef, ...]) -> Facts:
        if definition.expression is None:
            return _UNKNOWN_FACTS
        value = self.facts(definition.expression, scopes)
        if definition.kind == "iter":
            return iterate(value)
        return value

    # calls

    def _call(
        self,
        node: cst.BaseExpression,
        scopes: tuple[cst.FunctionDef, ...],
        awaited: cst.Await | None,
    ) -> Facts:
        if not isinstance(node, cst.Call):
            return _UNKNOWN_FACTS
        func = node.func
        stmt = self._constructor(node, scopes)
        if stmt is not None:
            return frozenset({stmt})
        if not isinstance(func, cst.Attribute):
            return _UNKNOWN_FACTS
        method = func.attr.value
        positional = [arg for arg in node.args if arg.keyword is None]
        if any(arg.star for arg in node.args):
            return _UNKNOWN_FACTS
        if (
            method in queries.SESSION_METHODS
            and len(positional) == 1
            # `result.scalars(0)` is the Result method.
            and not isinstance(positional[0].value, cst.Integer)
        ):
            return self._session_call(node, func, method, positional[0].value, scopes, awaited)
        if awaited is not None:
            return _UNKNOWN_FACTS
        receiver = self.facts(func.value, scopes)
        return frozenset(_method(fact, method, node) for fact in receiver)

    def _session_call(
        self,
        node: cst.Call,
        func: cst.Attribute,
        method: str,
        statement: cst.BaseExpression,
        scopes: tuple[cst.FunctionDef, ...],
        awaited: cst.Await | None,
    ) -> Facts:
        kind = kind_of(receiver_session(self.context, func.value))
        if kind is not None:
            if kind.is_async != (awaited is not None):
                # An async session's call not awaited (another rule's finding), or an
                # await on a sync session: nothing to say about rows.
                return _UNKNOWN_FACTS
            if method == "exec" and not is_sqlmodel_session(self.context, kind):
                return _UNKNOWN_FACTS
        result: set[Fact] = set()
        origin = awaited if awaited is not None else node
        for fact in self.facts(statement, scopes):
            if not isinstance(fact, Stmt):
                result.add(UNKNOWN)
                continue
            scalars = queries.yields_models(method, fact.library, fact.count)
            res = Res(fact, scalars, func.value, node, origin, from_exec=method == "exec")
            result.add(Item(res, True, "scalar") if method == "scalar" else res)
        return frozenset(result)

    def _constructor(self, node: cst.Call, scopes: tuple[cst.FunctionDef, ...]) -> Stmt | None:
        library = queries.select_library(self.context, node.func, scopes)
        if library is None:
            return None
        if library == "text":
            return Stmt("text", None, None, node)
        args = list(node.args)
        if library == "sqlalchemy" and len(args) == 1 and isinstance(args[0].value, cst.List):
            # SQLAlchemy 1.x `select([User])`.
            elements = args[0].value.elements
            values = [e.value for e in elements if not isinstance(e, cst.StarredElement)]
            if len(values) != len(elements):
                return Stmt(library, None, None, node)
            first = queries.entity(self.context, values[0], scopes) if values else None
            return Stmt(library, len(values), first, node)
        if any(arg.star or arg.keyword is not None for arg in args):
            return Stmt(library, None, None, node)
        first = queries.entity(self.context, args[0].value, scopes) if args else None
        return Stmt(library, len(args), first, node)

    # subscripts

    def _subscript(self, node: cst.Subscript, scopes: tuple[cst.FunctionDef, ...]) -> Facts:
        if len(node.slice) != 1:
            return _UNKNOWN_FACTS
        index = node.slice[0].slice
        result: set[Fact] = set()
        for fact in self.facts(node.value, scopes):
            if not isinstance(fact, Items):
                result.add(UNKNOWN)
            elif isinstance(index, cst.Slice):
                result.add(Items(fact.res, fact.scalar))
            else:
                result.add(Item(fact.res, fact.scalar, "index"))
        return frozenset(result)


def _through(fact: Fact, scope: cst.CSTNode, name: str, inner: Definition | None) -> Fact:
    if isinstance(fact, (Res, Items, Item)):
        holds: Literal["result", "list", "item"] = (
            "result" if isinstance(fact, Res) else "list" if isinstance(fact, Items) else "item"
        )
        binding = Binding(scope, name, holds, inner)
        return dataclasses.replace(fact, through=(*fact.through, binding))
    return fact


def _method(fact: Fact, method: str, call: cst.Call) -> Fact:
    """What calling `method` on a value described by `fact` gives."""
    if isinstance(fact, Stmt):
        chain = queries.TEXT_CHAIN if fact.library == "text" else queries.STATEMENT_CHAIN
        if method == "options" and method in chain:
            return dataclasses.replace(fact, options=(*fact.options, call))
        return fact if method in chain else UNKNOWN
    if not isinstance(fact, Res):
        return UNKNOWN
    if method == "unique":
        return dataclasses.replace(fact, unique=True)
    if method in FIRST_METHODS and not call.args:
        return Item(fact, fact.scalars, method, fact.through)
    if method in LIST_METHODS:
        return Items(fact, fact.scalars, fact.through)
    if method in queries.SAME_RESULT_METHODS:
        return fact
    if fact.scalars is False:
        if method == "scalars" and _first_column_argument(call):
            return dataclasses.replace(fact, scalars=True)
        if method in SCALAR_METHODS and not call.args:
            return Item(fact, True, method, fact.through)
        if method == "tuples":
            return fact
    return UNKNOWN


def _first_column_argument(call: cst.Call) -> bool:
    if not call.args:
        return True
    (arg, *rest) = call.args
    return not rest and isinstance(arg.value, cst.Integer) and arg.value.value == "0"


def iterate(facts: Facts) -> Facts:
    """What iterating over a value gives."""
    result: set[Fact] = set()
    for fact in facts:
        if isinstance(fact, Res):
            result.add(Item(fact, fact.scalars, "iter", fact.through))
        elif isinstance(fact, Items):
            result.add(Item(fact.res, fact.scalar, "iter", fact.through))
        else:
            result.add(UNKNOWN)
    return frozenset(result)


def evaluator(context: FileContext) -> Evaluator:
    return context.memo(_EVALUATOR, context.module, lambda: Evaluator(context))


def facts(context: FileContext, node: cst.BaseExpression) -> Facts:
    """The facts about `node`, evaluated in the scope being visited."""
    if not is_relevant(context):
        return _UNKNOWN_FACTS
    return evaluator(context).facts(node, tuple(context.functions))


def iteration_facts(context: FileContext, node: cst.BaseExpression) -> Facts:
    """The facts about each element of iterating over `node`."""
    if not is_relevant(context):
        return _UNKNOWN_FACTS
    return iterate(facts(context, node))


# --- verdicts the rules share -----------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """How the values an expression may hold agree with one another.

    `proven`: every way of producing the value gives the kind asked about, for one entity.
    `suspect`: at least one gives that kind, and every other one is a single-entity query of
    the same entity whose kind could not be resolved or differs (so a helper that returns the
    model in every case, `query_one`, is correct on every path).
    """

    proven: bool
    entity: Entity
    items: tuple[Item, ...]


def model_verdict(found: Facts, vias: frozenset[str] | None = None) -> Verdict | None:
    """Is the value a model instance (where a Row may have been expected)?"""
    return _verdict(found, "model", ("maybe-model", "row-of-entity"), vias)


def row_verdict(found: Facts, vias: frozenset[str] | None = None) -> Verdict | None:
    """Is the value a Row holding exactly one model (where a model may have been expected)?"""
    return _verdict(found, "row-of-entity", (), vias)


def _verdict(
    found: Facts, wanted: ItemKind, tolerated: tuple[ItemKind, ...], vias: frozenset[str] | None
) -> Verdict | None:
    items = [fact for fact in found if isinstance(fact, Item)]
    if not items or len(items) != len(found):
        return None
    if vias is not None and not all(item.via in vias for item in items):
        return None
    entities = {_entity_key(item.entity) for item in items}
    if len(entities) != 1 or None in entities:
        return None
    kinds = {item.kind for item in items}
    if wanted in kinds and kinds <= {wanted, *tolerated}:
        entity = items[0].entity
        assert entity is not None
        ordered = tuple(sorted(items, key=lambda item: item.via))
        return Verdict(kinds == {wanted}, entity, ordered)
    if wanted == "model" and kinds == {"maybe-model"}:
        entity = items[0].entity
        assert entity is not None
        return Verdict(False, entity, tuple(items))
    return None


def _entity_key(entity: Entity | None) -> str | None:
    if entity is None:
        return None
    return entity.qualname or entity.text


def scalar_result(found: Facts) -> tuple[Res, ...] | None:
    """The results, when `found` is only ScalarResults."""
    results = tuple(fact for fact in found if isinstance(fact, Res))
    if not results or len(results) != len(found) or any(r.scalars is not True for r in results):
        return None
    return results


# --- uses of a local variable ---------------------------------------------------------------

UseKind = Literal["model", "row", "escapes"]


def use_kind(context: FileContext, binding: Binding, entity_label: str) -> UseKind:
    """How every use of a variable that holds one query value treats it.

    `model`: only attribute reads that a model has and a Row does not, and truth tests;
    `row`: some use needs a Row (indexing, Row accessors, the entity's key); `escapes`: the
    value goes somewhere this function cannot follow (returned, passed, stored, compared).
    """
    if not isinstance(binding.scope, (cst.FunctionDef, cst.Module)):
        return "escapes"
    scope = scope_of(context, binding.scope)
    if binding.definition is not None:
        uses = scope.inner_uses.get(binding.definition, [])
    else:
        if binding.name in scope.declared:
            return "escapes"
        uses = scope.uses_by_name.get(binding.name, [])
        # The same name bound by a comprehension or lambda elsewhere in the function is
        # another variable; its uses are not this one's, so they do not count.
    verdict: UseKind = "model"
    for use in uses:
        kind = _one_use(use, entity_label)
        if kind == "row":
            return "row"
        if kind == "escapes":
            verdict = "escapes"
    return verdict


def _one_use(use: Use, entity_label: str) -> UseKind:
    parent, grandparent = use.parent, use.grandparent
    if isinstance(parent, cst.Attribute) and parent.value is use.node:
        attr = parent.attr.value
        if attr.startswith("_") or attr in ROW_PUBLIC_API or attr == entity_label:
            return "row"
        return "model"
    if isinstance(parent, cst.Subscript) and parent.value is use.node:
        return "row"
    if is_truth_test(use.node, {use.node: parent, parent: grandparent}.get):
        return "model"
    return "escapes"


# --- fixes the rules share --------------------------------------------------------------------


def is_index_zero(node: cst.Subscript) -> bool:
    if len(node.slice) != 1:
        return False
    index = node.slice[0].slice
    return (
        isinstance(index, cst.Index)
        and isinstance(index.value, cst.Integer)
        and (index.value.value == "0")
    )


def helper_call(
    context: FileContext, verdict: Verdict, replaced: cst.BaseExpression, helper: str
) -> str | None:
    """`helper(session, stmt, Model)` to stand for `replaced`, or None when it cannot.

    Only for a value taken straight from a synchronous `session.exec(stmt)` (no variable
    in between, no other arguments), with `replaced` either `session.exec(stmt)` itself or
    one call on it: `.first()` for `query_one`, `.all()` for `query_all`, whose semantics
    the helpers keep. The model must be nameable here as it is written in the `select`.
    """
    calls = {item.res.call for item in verdict.items}
    if len(calls) != 1 or any(item.through for item in verdict.items):
        return None
    res = verdict.items[0].res
    # One `session.exec(stmt)` call, whose `stmt` may be built differently on different paths.
    if res.origin is not res.call or len(res.call.args) != 1:
        return None
    wanted = {"query_one": "first", "query_all": "all"}[helper]
    direct = replaced is res.call and helper == "query_all"
    chained = (
        isinstance(replaced, cst.Call)
        and not replaced.args
        and isinstance(replaced.func, cst.Attribute)
        and replaced.func.value is res.call
        and replaced.func.attr.value == wanted
    )
    if not (direct or chained) or not resolvable_here(context, verdict.entity.text):
        return None
    code = context.code
    return f"{helper}({code(res.session)}, {code(res.call.args[0].value)}, {verdict.entity.text})"


def insert_scalars(context: FileContext, origin: cst.BaseExpression) -> Replace | Insert:
    """`.scalars()` right after the result-producing call (parenthesising a bare await)."""
    return append_call(context, origin, ".scalars()")


def append_call(context: FileContext, receiver: cst.BaseExpression, call: str) -> Replace | Insert:
    """`call` (such as `.unique()`) applied to `receiver`, which is parenthesised first when
    it binds less tightly than an attribute (`await x`, `a if c else b`)."""
    if receiver.rpar:
        # A node's position leaves its own parentheses out: go after the closing one.
        return Insert(receiver.rpar[-1], call, before=False)
    if not isinstance(receiver, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        return Replace(receiver, f"({context.code(receiver)}){call}")
    return Insert(receiver, call, before=False)


def model_message(verdict: Verdict, what: str) -> str:
    label = verdict.entity.label
    if verdict.proven:
        return (
            f"{what} on a `{label}` instance: this query returns the model, not a Row, "
            "so this raises at runtime"
        )
    return (
        f"{what} on a `{label}` query result that may be the model rather than a Row (the "
        "`select` is not resolved to one library, or differs between paths): it then raises"
    )


def index_fix(context: FileContext, node: cst.Subscript, verdict: Verdict) -> FixPlan | None:
    """Drop a proven `[0]`; for a possible bug, `query_one(...)` for the `.first()` form."""
    if verdict.proven:
        return FixPlan(
            (Replace(node, node.value),),
            Applicability.SAFE,
            f"Use the `{verdict.entity.label}` itself",
        )
    call = helper_call(context, verdict, node.value, "query_one")
    if call is None:
        return None
    return FixPlan(
        (Replace(node, call),),
        Applicability.UNSAFE,
        "Use `query_one()`, which returns the model with either `select`",
        imports=((context.settings.helpers_module, "query_one"),),
    )
