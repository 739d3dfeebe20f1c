"""Session blocks a function owns, and what state the ORM instances loaded from them are in.

One abstract walk over a function's statements (or a module's top level), in program
order, answers what DETACH001-003 and SCOPE001 ask:

* which names hold ORM instances, results or statements, and from which owned session;
* what expires them (`commit`, `rollback`, `expire`, `expire_all`, the exit of a `begin()`
  block), what reloads them (`refresh`, reading a column inside the block) and which
  relationships are loaded (loader options, touching them inside the block);
* for every `return`, the state the returned instance is in when its session closes;
* every attribute read of an instance after its session closed, and, in async code, every
  read inside the block that would need IO (it raises `MissingGreenlet` there).

Certainty is kept apart from possibility: a state that differs between two paths becomes
`MAYBE`, and the rules claim a failure only for `YES`. Sessions the function receives are not
tracked at all: their objects stay attached for as long as the caller's session lives.
Nested functions and classes are analysed on their own; lambdas are not followed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum

import libcst as cst

from sqlsafe.checks import queries
from sqlsafe.checks.base import FileContext, Index, MemoKey, ModelFacts
from sqlsafe.checks.names import dotted
from sqlsafe.checks.queries import Library, Shape
from sqlsafe.checks.scopes import COMPREHENSIONS
from sqlsafe.checks.sessions import (
    SessionKind,
    is_sqlmodel_session,
    parameter_bindings,
    session_made_by,
)
from sqlsafe.traversal import LAYOUT, children


class Expiry(IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


@dataclass(eq=False)
class Block:
    """A session the function owns: a `with` item, or an assigned session it closes."""

    name: str
    kind: SessionKind
    node: cst.CSTNode
    """The `With` (or the `Assign`) that opened the session."""
    begins: bool
    """The block commits when it exits (`with s.begin()`, `sessionmaker.begin()`)."""
    path: tuple[tuple[cst.CSTNode, int], ...] = ()
    """Where the opening statement sits: (suite, index) from the outermost suite inwards."""
    exit_cause: str = "the commit at the end of the `begin()` block"
    """What commits when the block ends, for messages."""
    parameter: bool = False
    """An `AsyncSession` the function receives: never closed here, and its factory's
    `expire_on_commit` is not known."""

    @property
    def is_async(self) -> bool:
        return self.kind.is_async


@dataclass(frozen=True)
class Instance:
    """An ORM instance (or a list of them) loaded from, or added to, an owned session."""

    block: Block
    model: str | None
    """Qualified name of the model class, when the code names it."""
    shape: Shape
    origin: cst.CSTNode
    expired: Expiry = Expiry.NO
    refreshed: bool = False
    """Columns were reloaded by `refresh()` after the last expiry."""
    loaded: frozenset[str] = frozenset()
    """Relationships and deferred columns known to be loaded."""
    pending: bool = False
    """Added and not flushed yet: it becomes transient (harmless) if the session closes."""
    attached: bool = True
    """False once the session closed or expunged it: its state is frozen."""
    cause: str = ""
    """What expired it, for messages: "`session.commit()`", "the exit of `begin()`"."""
    # Where the story's steps happened, for the findings' related locations. Not compared:
    # two paths that differ only in where they committed merge as before.
    expired_at: cst.CSTNode | None = field(default=None, compare=False)
    """The call (or the `begin()` block) that expired it."""
    refreshed_at: cst.CSTNode | None = field(default=None, compare=False)
    closed_at: cst.CSTNode | None = field(default=None, compare=False)
    """The `with` whose exit closed its session, or the `close()`/`expunge()` call."""

    def element(self) -> Instance:
        return replace(self, shape=Shape.ONE)


@dataclass(frozen=True)
class Result:
    """A query result, or a statement, whose rows are instances of `model`."""

    block: Block | None
    model: str
    loaded: frozenset[str]
    rows: bool = False
    """Rows wrapping the instance (`session.execute(select(M))`), not instances yet."""
    library: Library = "sqlmodel"
    """Whose `select` built the statement."""
    statement: bool = False
    """A statement not run yet (`select(M)`, `session.query(M)` is run by its terminals)."""
    query: bool = False


@dataclass(frozen=True)
class Transient:
    """A new object not added to any session yet."""

    model: str | None
    origin: cst.CSTNode


Value = Instance | Result | Transient


@dataclass(frozen=True)
class Read:
    """An attribute read of a tracked instance that fails."""

    node: cst.CSTNode
    attribute: str
    instance: Instance
    path: tuple[tuple[cst.CSTNode, int], ...]
    inside: bool
    """Inside the open async block (`MissingGreenlet`) rather than after the close."""


@dataclass(frozen=True)
class ReturnSite:
    node: cst.Return
    statement: cst.SimpleStatementLine | None
    """The line holding the return, when the return stands alone on it."""
    instance: Instance | None
    """The returned instance in the state it has when its session closes."""
    inside: bool
    """The return is inside the owning block (the value can still be converted there)."""
    commits_at_exit: bool
    """Leaving the block commits (a `begin()` block)."""


@dataclass
class Analysis:
    returns: list[ReturnSite] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    yields: bool = False

    def instance_returns(self) -> list[ReturnSite]:
        return [site for site in self.returns if site.instance is not None]


# Calls that read their argument without keeping it: a closed instance passed to them stays
# closed. Anything else (`s2.add(u)`, `s2.merge(u)`, a helper) may re-attach it.
_INSPECTING = frozenset({"print", "len", "isinstance", "type", "id", "repr", "str", "bool"})
_LOADER_OPTIONS = frozenset(
    {"selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager"}
)
# Nodes an expression walk does not enter: code that runs later, if at all, and layout.
_OPAQUE = LAYOUT | {cst.Lambda, cst.FunctionDef, cst.ClassDef}
_BEGIN_EXIT = "the commit at the end of the `begin()` block"
_CONSTRUCTORS = frozenset({"model_validate", "from_orm", "parse_obj", "validate"})


# What a file must spell to own a session (`session_made_by`): a session class or maker
# (`Session`, `AsyncSession`, `sessionmaker`, `async_session`...) or `factory.begin()`.
SESSION_TRIGGERS = ("ession", "begin")


def session_triggers(index: Index) -> tuple[str, ...]:
    """The textual promise of the rules about owned sessions (`Rule.triggers`): the words
    above, or the name of one of the project's session factories, whatever it is called."""
    return (*SESSION_TRIGGERS, *sorted(index.factory_names))


_ANALYSIS: MemoKey[Analysis] = MemoKey("instance lifetimes")


def analyse(context: FileContext, function: cst.FunctionDef | None) -> Analysis:
    """The analysis of one function (or of the module's top level for None), computed once."""
    node: cst.CSTNode = function if function is not None else context.module
    return context.memo(_ANALYSIS, node, lambda: _Walker(context, function).run())


def model_facts(context: FileContext, instance: Instance) -> ModelFacts | None:
    return context.index.model(instance.model) if instance.model is not None else None


def lazy_attributes(facts: ModelFacts, instance: Instance) -> frozenset[str]:
    """What reading after the close would have to load: relationships and deferred columns,
    less the eager (`lazy="selectin"`, `"joined"`, ...) relationships that a query or a
    `refresh()` loads with the object (measured on SQLAlchemy 2.1 against SQLite). An expiry
    unloads those too."""
    lazy = facts.relationships | facts.deferred
    if instance.expired is Expiry.NO and not instance.pending:
        lazy -= facts.eager_relationships
    return lazy


def unloaded(context: FileContext, instance: Instance) -> frozenset[str] | None:
    """Relationships and deferred columns not loaded at close; None when the model is unknown."""
    facts = model_facts(context, instance)
    if facts is None:
        return None
    return lazy_attributes(facts, instance) - instance.loaded


@dataclass
class _State:
    values: dict[str, Value] = field(default_factory=dict)
    sessions: dict[str, Block] = field(default_factory=dict)

    def copy(self) -> _State:
        return _State(dict(self.values), dict(self.sessions))


def _merge_instances(a: Instance, b: Instance) -> Instance | None:
    if a.block is not b.block or a.attached != b.attached:
        return None
    return replace(
        a,
        model=a.model if a.model == b.model else None,
        shape=a.shape if a.shape == b.shape else Shape.OPTIONAL,
        expired=a.expired if a.expired == b.expired else Expiry.MAYBE,
        refreshed=a.refreshed and b.refreshed,
        loaded=a.loaded & b.loaded,
        pending=a.pending and b.pending,
    )


def _merge(a: _State | None, b: _State | None) -> _State | None:
    """The state after two paths join; None stands for a path that does not reach here."""
    if a is None:
        return b.copy() if b is not None else None
    if b is None:
        return a.copy()
    values: dict[str, Value] = {}
    for name in a.values.keys() | b.values.keys():
        first, second = a.values.get(name), b.values.get(name)
        if first is None or second is None:
            values[name] = first or second  # type: ignore[assignment]
        elif first == second:
            values[name] = first
        elif isinstance(first, Instance) and isinstance(second, Instance):
            merged = _merge_instances(first, second)
            if merged is not None:
                values[name] = merged
    sessions = {name: block for name, block in a.sessions.items() if b.sessions.get(name) is block}
    return _State(values, sessions)


class _Walker:
    def __init__(self, context: FileContext, function: cst.FunctionDef | None) -> None:
        self.context = context
        self.function = function
        self.analysis = Analysis()
        self.state: _State | None = _State()
        self.path: list[tuple[cst.CSTNode, int]] = []
        # Blocks whose session closes when control leaves the code being walked, and those
        # whose exit commits first (an inner `with s.begin():`), innermost last.
        self.exiting: list[Block] = []
        self.committing: list[Block] = []
        # Parameters not rebound yet: an object the caller passes in becomes the session's
        # when the function adds it (a FastAPI create endpoint's `hero: Hero`).
        self.params: dict[str, cst.Param] = {}
        if function is not None:
            parameters = function.params
            for param in (
                *parameters.posonly_params,
                *parameters.params,
                *parameters.kwonly_params,
            ):
                self.params[param.name.value] = param

    @property
    def functions(self) -> tuple[cst.FunctionDef, ...]:
        """The scopes whose bindings may shadow a module-level name here."""
        return () if self.function is None else (self.function,)

    def run(self) -> Analysis:
        body: cst.CSTNode = self.function.body if self.function is not None else self.context.module
        assert self.state is not None
        if self.function is not None:
            # An AsyncSession parameter (a FastAPI dependency) cannot load lazily either: its
            # instances are tracked for reads, and it stays open when the function returns.
            for name, binding in parameter_bindings(self.context, self.function).items():
                if binding.kind.is_async:
                    kind = replace(binding.kind, expire_on_commit=None)
                    block = Block(name, kind, binding.node, begins=False, parameter=True)
                    self.state.sessions[name] = block
        self.suite(body)
        return self.analysis

    # -- statements -----------------------------------------------------------------------

    def suite(self, suite: cst.CSTNode) -> None:
        statements = getattr(suite, "body", ())
        if isinstance(suite, cst.SimpleStatementSuite):
            statements = [suite]
        for index, statement in enumerate(statements):
            if self.state is None:
                return
            self.path.append((suite, index))
            try:
                self.statement(statement)
            finally:
                self.path.pop()

    def statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in node.body:
                if self.state is None:
                    return
                self.small(small, node)
        elif isinstance(node, cst.With):
            self.with_(node)
        elif isinstance(node, cst.If):
            self.if_(node)
        elif isinstance(node, (cst.For, cst.While)):
            self.loop(node)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self.try_(node)
        elif isinstance(node, cst.Match):
            self.expression(node.subject)
            before = self.state
            after: _State | None = None
            for case in node.cases:
                self.state = before.copy() if before is not None else None
                self.suite(case.body)
                after = _merge(after, self.state)
            self.state = _merge(after, before)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            self.forget(node.name.value)

    def small(self, node: cst.BaseSmallStatement, line: cst.CSTNode) -> None:
        if isinstance(node, cst.Return):
            self.return_(node, line)
            self.state = None
        elif isinstance(node, (cst.Raise, cst.Continue, cst.Break)):
            if isinstance(node, cst.Raise) and node.exc is not None:
                self.expression(node.exc)
            self.state = None
        elif isinstance(node, cst.Assign):
            self.expression(node.value)
            value = self.value(node.value)
            for target in node.targets:
                self.bind(target.target, value)
            self.assigned_session(node)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.expression(node.value)
                self.bind(node.target, self.value(node.value))
        elif isinstance(node, cst.AugAssign):
            self.expression(node.value)
            self.bind(node.target, None)
        elif isinstance(node, cst.Expr):
            self.expression(node.value)
        elif isinstance(node, cst.Del):
            self.bind(node.target, None)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            names = node.names if not isinstance(node.names, cst.ImportStar) else ()
            for alias in names:
                bound = alias.asname.name if alias.asname is not None else alias.name
                head = dotted(bound) if isinstance(bound, (cst.Name, cst.Attribute)) else None
                if head:
                    self.forget(head.split(".")[0])

    def assigned_session(self, node: cst.Assign) -> None:
        """`s = Session(engine)`: owned only if closed here (`s.close()`, `finally:`)."""
        assert self.state is not None
        kind = session_made_by(self.context, node.value)
        if kind is None or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if isinstance(target, cst.Name):
            block = Block(target.value, kind, node, begins=False, path=tuple(self.path))
            self.analysis.blocks.append(block)
            self.state.sessions[target.value] = block

    def return_(self, node: cst.Return, line: cst.CSTNode) -> None:
        if node.value is not None:
            self.expression(node.value)
        value = self.value(node.value) if node.value is not None else None
        statement = (
            line if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 else None
        )
        if not isinstance(value, Instance):
            self.analysis.returns.append(ReturnSite(node, statement, None, False, False))
            return
        block = value.block
        if not value.attached:
            self.analysis.returns.append(ReturnSite(node, statement, value, False, False))
            return
        if block not in self.exiting:
            # An assigned session not closed on the way out: the object stays attached.
            self.analysis.returns.append(ReturnSite(node, statement, None, False, False))
            return
        commits = block.begins or block in self.committing
        cause = block.exit_cause if block.begins else _BEGIN_EXIT
        at_close = _closed(_committed(value, cause, block.node) if commits else value, block.node)
        self.analysis.returns.append(ReturnSite(node, statement, at_close, True, commits))

    def with_(self, node: cst.With) -> None:
        opened: list[Block] = []
        committing: list[Block] = []
        assert self.state is not None
        for item in node.items:
            self.expression(item.item)
            name = (
                item.asname.name.value
                if item.asname is not None and isinstance(item.asname.name, cst.Name)
                else None
            )
            begun = self.begun_session(item.item)
            if begun is not None:
                committing.append(begun)
            kind = session_made_by(self.context, item.item)
            if kind is not None and name is not None:
                factory = self.commits_on_exit(item.item)
                block = Block(
                    name, kind, node, _is_begin(item.item) or factory is not None, tuple(self.path)
                )
                if factory is not None:
                    block.exit_cause = f"the commit `{factory}()` makes when the block ends"
                self.analysis.blocks.append(block)
                self.state.sessions[name] = block
                self.forget(name, keep_session=True)
                opened.append(block)
            elif item.asname is not None:
                self.bind(item.asname.name, None)
        self.exiting.extend(opened)
        self.committing.extend(committing)
        try:
            self.suite(node.body)
        finally:
            del self.exiting[len(self.exiting) - len(opened) :]
            del self.committing[len(self.committing) - len(committing) :]
        if self.state is None:
            return
        for block in committing:
            self.commit(block, _BEGIN_EXIT, node)
        for block in reversed(opened):
            if block.begins:
                self.commit(block, block.exit_cause, node)
            self.close(block, node)

    def if_(self, node: cst.If) -> None:
        self.expression(node.test)
        before = self.state.copy() if self.state is not None else None
        self.suite(node.body)
        after_body = self.state
        self.state = before
        orelse = node.orelse
        if isinstance(orelse, cst.If):
            self.if_(orelse)
        elif isinstance(orelse, cst.Else):
            self.suite(orelse.body)
        self.state = _merge(after_body, self.state)

    def loop(self, node: cst.For | cst.While) -> None:
        if isinstance(node, cst.For):
            self.expression(node.iter)
            element = self.value(node.iter)
            before = self.state.copy() if self.state is not None else None
            self.bind(node.target, _element(element))
        else:
            self.expression(node.test)
            before = self.state.copy() if self.state is not None else None
        self.suite(node.body)
        # The body may run any number of times, including none; `break` leaves the
        # state it had, which the merge with the state before the loop covers loosely.
        self.state = _merge(before, self.state) or before
        if node.orelse is not None:
            self.suite(node.orelse.body)
            self.state = _merge(before, self.state) or before

    def try_(self, node: cst.Try | cst.TryStar) -> None:
        before = self.state.copy() if self.state is not None else None
        closing = self.closed_in_finally(node)
        self.exiting.extend(closing)
        try:
            self.suite(node.body)
            if node.orelse is not None and self.state is not None:
                self.suite(node.orelse.body)
            after = self.state
            handler_start = _merge(before, after)
            for handler in node.handlers:
                self.state = handler_start.copy() if handler_start is not None else None
                if handler.name is not None:
                    self.bind(handler.name.name, None)
                self.suite(handler.body)
                after = _merge(after, self.state)
        finally:
            del self.exiting[len(self.exiting) - len(closing) :]
        if node.finalbody is not None:
            # The finally block also runs on paths that left early: start from all of them.
            self.state = _merge(after, handler_start) if after is None else after
            self.suite(node.finalbody.body)
        else:
            self.state = after

    def closed_in_finally(self, node: cst.Try | cst.TryStar) -> list[Block]:
        """Assigned sessions a `finally:` closes: returns in the `try` leave their block."""
        if node.finalbody is None or self.state is None:
            return []
        found = []
        for statement in node.finalbody.body.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                call = small.value if isinstance(small, cst.Expr) else None
                if isinstance(call, cst.Await):
                    call = call.expression
                if (
                    isinstance(call, cst.Call)
                    and isinstance(call.func, cst.Attribute)
                    and call.func.attr.value == "close"
                    and isinstance(call.func.value, cst.Name)
                ):
                    block = self.state.sessions.get(call.func.value.value)
                    if block is not None:
                        found.append(block)
        return found

    # -- expressions ----------------------------------------------------------------------

    def expression(self, node: cst.CSTNode) -> None:
        """Apply the effects of evaluating `node`, in evaluation order."""
        if self.state is None:
            return
        # Dispatch on the node's exact type: libcst's node classes have no subclasses, and
        # `isinstance` against them is an ABC check, the main cost of this walk over every
        # node of an expression.
        kind = type(node)
        if kind in _OPAQUE:
            return
        if kind is cst.Yield:
            self.analysis.yields = True
        elif kind in COMPREHENSIONS:
            assert isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp))
            self.comprehension(node)
            return
        elif kind is cst.Call:
            assert isinstance(node, cst.Call)
            self.call(node)
            return
        elif kind is cst.NamedExpr:
            assert isinstance(node, cst.NamedExpr)
            self.expression(node.value)
            self.bind(node.target, self.value(node.value))
            return
        elif kind is cst.Attribute:
            assert isinstance(node, cst.Attribute)
            self.expression(node.value)
            if isinstance(node.value, cst.Name):
                self.read(node, node.value.value, node.attr.value)
            return
        for child in children(node):
            self.expression(child)

    def comprehension(
        self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp | cst.DictComp
    ) -> None:
        assert self.state is not None
        outer = self.state
        self.state = outer.copy()
        clause: cst.CompFor | None = node.for_in
        while clause is not None:
            self.expression(clause.iter)
            self.bind(clause.target, _element(self.value(clause.iter)))
            for condition in clause.ifs:
                self.expression(condition.test)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self.expression(node.key)
            self.expression(node.value)
        else:
            self.expression(node.elt)
        inner = self.state
        self.state = outer
        if inner is not None:
            # Effects on names of the enclosing scope (a relationship loaded, a reload)
            # survive; the comprehension's own targets do not.
            for name, value in inner.values.items():
                if name in outer.values:
                    outer.values[name] = value

    def call(self, node: cst.Call) -> None:
        assert self.state is not None
        func = node.func
        if isinstance(func, cst.Attribute):
            self.expression(func.value)
        else:
            self.expression(func)
        for arg in node.args:
            self.expression(arg.value)
        if self.state is None:
            return
        if (
            isinstance(func, cst.Name)
            and func.value == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[0].value, cst.Name)
            and isinstance(node.args[1].value, cst.SimpleString)
        ):
            name = node.args[1].value.evaluated_value
            if isinstance(name, str):
                self.read(node, node.args[0].value.value, name)
            return
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name):
            block = self.state.sessions.get(func.value.value)
            if block is not None:
                self.session_call(block, func.attr.value, node)
                return
        called = dotted(func)
        if called in _INSPECTING:
            return
        for arg in node.args:
            if isinstance(arg.value, cst.Name):
                value = self.state.values.get(arg.value.value)
                if isinstance(value, Instance) and not value.attached:
                    # Passed on after the close: it may be merged into another session.
                    self.forget(arg.value.value)

    def session_call(self, block: Block, method: str, node: cst.Call) -> None:
        assert self.state is not None
        args = [arg for arg in node.args if arg.keyword is None]
        first = args[0].value if args else None
        target = first.value if isinstance(first, cst.Name) else None
        cause = f"`{block.name}.{method}()`"
        if method == "commit":
            self.commit(block, cause, node)
        elif method == "rollback":
            self.each(block, lambda i: _rolled_back(i, cause, node))
        elif method == "expire_all":
            self.each(block, lambda i: _expired(i, cause, node))
        elif method == "close":
            self.close(block, node)
        elif method == "flush":
            self.each(block, lambda i: replace(i, pending=False))
        elif method == "expunge_all":
            self.each(block, lambda i: _closed(i, node))
        elif method == "merge" and target is not None:
            merged = self.state.values.get(target)
            if isinstance(merged, Instance) and not merged.attached:
                # Merged into a live session, it reads fine afterwards: stop tracking it.
                self.forget(target)
        elif method in ("add", "add_all") and first is not None:
            added = [first] if method == "add" else _elements_of(first)
            for element in added:
                if isinstance(element, cst.Name):
                    self.add(block, element.value, element)
        elif target is not None:
            value = self.state.values.get(target)
            if not isinstance(value, Instance) or value.block is not block:
                return
            if method == "expire":
                names = _attribute_names(node)
                if names is None:
                    self.state.values[target] = _expired(value, cause, node)
                else:
                    self.state.values[target] = replace(
                        value,
                        loaded=value.loaded - names,
                        expired=max(value.expired, Expiry.MAYBE),
                    )
            elif method == "refresh":
                names = _attribute_names(node)
                if names is None:
                    self.state.values[target] = replace(
                        value, expired=Expiry.NO, refreshed=True, pending=False, refreshed_at=node
                    )
                else:
                    self.state.values[target] = replace(value, loaded=value.loaded | names)
            elif method == "expunge":
                self.state.values[target] = _closed(value, node)

    def add(self, block: Block, name: str, node: cst.CSTNode) -> None:
        assert self.state is not None
        value = self.state.values.get(name)
        if isinstance(value, Transient):
            self.state.values[name] = Instance(
                block, value.model, Shape.ONE, value.origin, pending=True
            )
        elif isinstance(value, Instance) and not value.attached:
            # Added to another live session: it can load again.
            self.state.values[name] = replace(value, block=block, attached=True)
        elif value is None and name in self.params:
            annotation = self.params[name].annotation
            model = self.qualify(annotation.annotation) if annotation is not None else None
            if model is not None and self.context.index.model(model) is None:
                model = None
            self.state.values[name] = Instance(block, model, Shape.ONE, node, pending=True)

    def commit(self, block: Block, cause: str, at: cst.CSTNode) -> None:
        if block.kind.expire_on_commit:
            self.each(block, lambda i: _committed(i, cause, at))
        elif block.kind.expire_on_commit is None:
            # The factory's configuration is not visible: the commit may or may not expire.
            unsure = f"{cause} (unless the session factory sets `expire_on_commit=False`)"
            self.each(
                block,
                lambda i: (
                    replace(e, expired=Expiry.MAYBE)
                    if (e := _committed(i, unsure, at)).expired is Expiry.YES
                    else e
                ),
            )
        else:
            self.each(block, lambda i: replace(i, pending=False))

    def close(self, block: Block, at: cst.CSTNode) -> None:
        assert self.state is not None
        self.each(block, lambda i: _closed(i, at))
        for name, open_block in list(self.state.sessions.items()):
            if open_block is block:
                del self.state.sessions[name]

    def each(self, block: Block, change: object) -> None:
        assert self.state is not None
        for name, value in self.state.values.items():
            if isinstance(value, Instance) and value.block is block and value.attached:
                self.state.values[name] = change(value)  # type: ignore[operator]

    def read(self, node: cst.CSTNode, name: str, attribute: str) -> None:
        assert self.state is not None
        value = self.state.values.get(name)
        if not isinstance(value, Instance) or value.shape is Shape.LIST:
            return
        if attribute.startswith("__") or attribute in ("awaitable_attrs", "metadata"):
            return
        facts = model_facts(self.context, value)
        if facts is not None and attribute not in (
            facts.columns | facts.relationships | facts.deferred
        ):
            # A method or a plain property: whether it loads anything is not known.
            return
        lazy = facts is not None and attribute in lazy_attributes(facts, value)
        if not value.attached:
            if value.pending:
                return
            if value.expired is Expiry.YES or (lazy and attribute not in value.loaded):
                self.record(node, attribute, value, inside=False)
            return
        if value.block.is_async:
            if value.pending:
                return
            if value.expired is Expiry.YES or (lazy and attribute not in value.loaded):
                self.record(node, attribute, value, inside=True)
            return
        # Inside a live sync session the read loads what it needs: expired columns come
        # back together, a relationship once touched stays loaded.
        loaded = value.loaded | {attribute} if facts is None or lazy else value.loaded
        self.state.values[name] = replace(value, expired=Expiry.NO, loaded=loaded)

    def record(self, node: cst.CSTNode, attribute: str, value: Instance, inside: bool) -> None:
        self.analysis.reads.append(Read(node, attribute, value, tuple(self.path), inside))

    # -- values ---------------------------------------------------------------------------

    def value(self, node: cst.BaseExpression | None) -> Value | None:
        """What evaluating `node` yields, as far as the rules care (effects already applied)."""
        if node is None or self.state is None:
            return None
        if isinstance(node, cst.Await):
            return self.value(node.expression)
        if isinstance(node, cst.Name):
            return self.state.values.get(node.value)
        if isinstance(node, cst.Subscript):
            container = self.value(node.value)
            if isinstance(container, Instance) and container.shape is Shape.LIST:
                return container.element()
            return None
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        if isinstance(func, cst.Attribute):
            if isinstance(func.value, cst.Name) and func.value.value in self.state.sessions:
                return self.session_value(self.state.sessions[func.value.value], func, node)
            method = func.attr.value
            if method in _CONSTRUCTORS:
                return Transient(self.qualify(func.value), node)
            receiver = self.value(func.value)
            if isinstance(receiver, Result):
                return self.result_value(receiver, method, node)
            return None
        statement = self.statement_of(node)
        if statement is not None:
            return statement
        model = self.qualify(func)
        if model is not None and self.looks_like_class(func, model):
            return Transient(model, node)
        return None

    def session_value(self, block: Block, func: cst.Attribute, node: cst.Call) -> Value | None:
        method = func.attr.value
        args = [arg.value for arg in node.args if arg.keyword is None]
        if method in ("get", "get_one") and args:
            model = self.qualify(args[0])
            if model is None:
                return None
            shape = Shape.ONE if method == "get_one" else Shape.OPTIONAL
            return Instance(block, model, shape, node, loaded=_options_of(node))
        if method == "merge" and args:
            merged = self.value(args[0])
            model = merged.model if isinstance(merged, (Instance, Transient)) else None
            return Instance(block, model, Shape.ONE, node)
        if method in queries.SESSION_METHODS and args:
            statement = self.value(args[0])
            if not isinstance(statement, Result) or not statement.statement:
                return None
            if method == "exec" and not is_sqlmodel_session(self.context, block.kind):
                return None
            models = queries.yields_models(method, statement.library, 1)
            if models is None:
                return None
            if method == "scalar":
                shape = queries.TERMINALS[method][0]
                return Instance(block, statement.model, shape, node, loaded=statement.loaded)
            return replace(statement, block=block, statement=False, rows=not models)
        if method == "query" and len(args) == 1:
            model = self.entity(args[0])
            return None if model is None else Result(block, model, frozenset(), query=True)
        return None

    def result_value(self, result: Result, method: str, node: cst.Call) -> Value | None:
        if method == "options" and (result.statement or result.query):
            return replace(result, loaded=result.loaded | _options_of(node))
        if result.statement:
            return result if method in queries.STATEMENT_CHAIN else None
        chain = queries.QUERY_CHAIN if result.query else queries.SAME_RESULT_METHODS
        if method in chain:
            return result
        if method == "scalars" and result.rows:
            return replace(result, rows=False)
        if result.block is None:
            return None
        if result.query and method == "get":
            return Instance(result.block, result.model, Shape.OPTIONAL, node, loaded=result.loaded)
        terminal = queries.TERMINALS.get(method)
        # Of a Row only its first column, the instance, is one; the rest give Rows.
        if terminal is None or (result.rows and not terminal[1]):
            return None
        return Instance(result.block, result.model, terminal[0], node, loaded=result.loaded)

    def statement_of(self, node: cst.Call) -> Result | None:
        """`select(M)` with exactly one entity; what is chained on it follows in `value`."""
        library = queries.select_library(self.context, node.func, self.functions)
        if library not in ("sqlmodel", "sqlalchemy"):
            return None
        if len(node.args) != 1 or node.args[0].star or node.args[0].keyword is not None:
            return None
        model = self.entity(node.args[0].value)
        if model is None:
            return None
        return Result(None, model, frozenset(), statement=True, library=library)

    def qualify(self, node: cst.BaseExpression) -> str | None:
        return self.context.names.qualify(node) or dotted(node)

    def entity(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of the mapped class `node` names (`queries.entity`)."""
        found = queries.entity(self.context, node, self.functions)
        return None if found is None else found.qualname

    def looks_like_class(self, func: cst.BaseExpression, qualname: str) -> bool:
        return self.context.index.model(qualname) is not None or _is_class_like(func)

    # -- bindings -------------------------------------------------------------------------

    def bind(self, target: cst.CSTNode, value: Value | None) -> None:
        if self.state is None:
            return
        if isinstance(target, cst.Name):
            self.forget(target.value)
            self.params.pop(target.value, None)
            if value is not None:
                self.state.values[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self.bind(element.value, None)
        elif isinstance(target, cst.StarredElement):
            self.bind(target.value, None)
        elif isinstance(target, (cst.Attribute, cst.Subscript)):
            self.expression(target.value)

    def forget(self, name: str, keep_session: bool = False) -> None:
        if self.state is None:
            return
        self.state.values.pop(name, None)
        if not keep_session:
            self.state.sessions.pop(name, None)

    def commits_on_exit(self, node: cst.BaseExpression) -> str | None:
        """`with get_session() as s` of a factory that commits after its `yield`: its name."""
        if not isinstance(node, cst.Call):
            return None
        qualname = self.context.names.qualify(node.func)
        factory = self.context.index.factory(qualname) if qualname is not None else None
        if factory is None or not factory.commits_on_exit:
            return None
        return dotted(node.func)

    def begun_session(self, node: cst.BaseExpression) -> Block | None:
        """The open session whose `begin()` this is (`with s.begin():`)."""
        if (
            self.state is not None
            and isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "begin"
            and isinstance(node.func.value, cst.Name)
        ):
            return self.state.sessions.get(node.func.value.value)
        return None


def _is_begin(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "begin"
    )


def _is_class_like(node: cst.BaseExpression) -> bool:
    name = dotted(node)
    return name is not None and name.rpartition(".")[2][:1].isupper()


def _element(value: Value | None) -> Value | None:
    if isinstance(value, Instance) and value.shape is Shape.LIST:
        return value.element()
    if (
        isinstance(value, Result)
        and value.block is not None
        and not value.statement
        and not value.rows
    ):
        return Instance(value.block, value.model, Shape.ONE, value.block.node, loaded=value.loaded)
    return None


def _elements_of(node: cst.BaseExpression) -> Sequence[cst.BaseExpression]:
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return [element.value for element in node.elements]
    return []


def _attribute_names(call: cst.Call) -> frozenset[str] | None:
    """The names in `refresh(obj, ["a"])` / `attribute_names=[...]`; None when absent."""
    for position, arg in enumerate(call.args):
        if (arg.keyword is None and position == 1) or (
            arg.keyword is not None and arg.keyword.value == "attribute_names"
        ):
            names = [_string(element) for element in _elements_of(arg.value)]
            if not names or any(name is None for name in names):
                return frozenset({"?"})
            return frozenset(n for n in names if n is not None)
    return None


def _string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _options_of(call: cst.Call) -> frozenset[str]:
    """First-hop attributes a call's loader options load: `selectinload(User.team)`."""
    found: set[str] = set()
    for arg in call.args:
        option = arg.value
        while isinstance(option, cst.Call):
            func = option.func
            name = dotted(func) or ""
            if name.rpartition(".")[2] in _LOADER_OPTIONS and option.args:
                target = option.args[0].value
                if isinstance(target, cst.Attribute):
                    found.add(target.attr.value)
                elif (text := _string(target)) is not None:
                    found.add(text.split(".")[0])
            option = func.value if isinstance(func, cst.Attribute) else None  # type: ignore[assignment]
    return frozenset(found)


def _committed(value: Instance, cause: str, at: cst.CSTNode) -> Instance:
    return _expired(replace(value, pending=False), cause, at)


def _expired(value: Instance, cause: str, at: cst.CSTNode) -> Instance:
    if value.pending or not value.attached:
        return value
    return replace(
        value,
        expired=Expiry.YES,
        refreshed=False,
        loaded=frozenset(),
        cause=cause,
        expired_at=at,
        refreshed_at=None,
    )


def _rolled_back(value: Instance, cause: str, at: cst.CSTNode) -> Instance:
    if value.pending:
        # An object added and never flushed leaves the session: it is transient.
        return replace(value, attached=False)
    return _expired(value, cause, at)


def _closed(value: Instance, at: cst.CSTNode) -> Instance:
    return replace(value, attached=False, closed_at=at)


@dataclass(frozen=True)
class Detachment:
    """The DETACH rule a returned instance falls under, and why the return fails."""

    code: str
    reason: str


def detachment(context: FileContext, site: ReturnSite) -> Detachment | None:
    """Which DETACH rule a returned instance falls under, if any."""
    instance = site.instance
    if instance is None or instance.pending:
        # Never flushed: the close leaves a transient object, which reads fine.
        return None
    if instance.expired is Expiry.YES:
        return Detachment(
            "DETACH002",
            f"{instance.cause} expired it, so every attribute read after the session closes "
            "raises `DetachedInstanceError`",
        )
    if instance.expired is Expiry.MAYBE:
        return Detachment(
            "DETACH001",
            f"{instance.cause} may expire it before the session closes, and then every "
            "attribute read after the close raises `DetachedInstanceError`",
        )
    missing = unloaded(context, instance)
    if instance.refreshed:
        facts = model_facts(context, instance)
        if facts is None or not missing:
            return None
        return Detachment(
            "DETACH003",
            f"`refresh()` loads columns only, so {_names(missing)} not loaded: "
            + _after_close(missing),
        )
    if missing is None:
        model = instance.model.rpartition(".")[2] if instance.model else "its class"
        return Detachment(
            "DETACH001",
            f"the project index does not know `{model}`, so its lazy relationships and "
            "deferred columns cannot be ruled out; they raise `DetachedInstanceError` when "
            "read after the session closes",
        )
    if missing:
        return Detachment(
            "DETACH001",
            f"{_names(missing)} not loaded: " + _after_close(missing),
        )
    return None


def _after_close(names: frozenset[str]) -> str:
    it = "it" if len(names) == 1 else "them"
    return f"reading {it} after the session closes raises `DetachedInstanceError`"


def _names(names: frozenset[str]) -> str:
    listed = ", ".join(f"`{name}`" for name in sorted(names))
    return f"{listed} {'is' if len(names) == 1 else 'are'}"


def statements_after(
    path: Sequence[tuple[cst.CSTNode, int]], block: Block
) -> tuple[cst.CSTNode, int, int] | None:
    """(suite, first index after the block's statement, index of the statement holding the
    read) when the read sits in the suite the block's statement belongs to; else None."""
    if not block.path:
        return None
    suite, with_index = block.path[-1]
    depth = len(block.path) - 1
    if len(path) <= depth or tuple(path[:depth]) != block.path[:-1]:
        return None
    read_suite, read_index = path[depth]
    if read_suite is not suite or read_index <= with_index:
        return None
    return suite, with_index + 1, read_index


def iter_functions(module: cst.Module) -> Iterator[tuple[str, cst.FunctionDef]]:
    """(qualified name within the module, node) of module-level functions and methods."""
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            yield statement.name.value, statement
        elif isinstance(statement, cst.ClassDef):
            for inner in statement.body.body:
                if isinstance(inner, cst.FunctionDef):
                    yield f"{statement.name.value}.{inner.name.value}", inner


__all__ = [
    "Analysis",
    "Block",
    "Detachment",
    "Expiry",
    "Instance",
    "Read",
    "ReturnSite",
    "Shape",
    "analyse",
    "detachment",
    "iter_functions",
    "statements_after",
    "unloaded",
]
