"""AWAIT001: a coroutine method of an `AsyncSession` called without `await`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import scopes
from sqlsafe.checks.base import FileContext, FixPlan, Index, Insert, MemoKey, Replace, Rule
from sqlsafe.checks.plan import Plan
from sqlsafe.checks.sessions import (
    is_async_session,
    kind_of,
    receiver_session,
    session_of_annotation,
)
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity
from sqlsafe.traversal import children

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

# The methods that are `async def` on SQLAlchemy's and SQLModel's `AsyncSession` (SQLAlchemy
# 1.4 to 2.1). `add`, `add_all`, `expunge`, `expire` and `begin` are plain methods.
COROUTINE_METHODS = frozenset(
    {
        "aclose",
        "close",
        "commit",
        "connection",
        "delete",
        "delete_all",
        "exec",
        "execute",
        "flush",
        "get",
        "get_one",
        "invalidate",
        "merge",
        "merge_all",
        "refresh",
        "reset",
        "rollback",
        "run_sync",
        "scalar",
        "scalars",
        "stream",
        "stream_scalars",
    }
)

# The coroutine methods of the results `await session.stream(...)` gives (`AsyncResult`,
# `AsyncScalarResult`, `AsyncMappingResult`), and the plain methods that turn one such result
# into another.
RESULT_COROUTINES = frozenset(
    {
        "all",
        "fetchall",
        "fetchmany",
        "fetchone",
        "first",
        "one",
        "one_or_none",
        "scalar",
        "scalar_one",
        "scalar_one_or_none",
    }
)
RESULT_VIEWS = frozenset({"scalars", "mappings", "unique", "columns", "yield_per"})
STREAMS = frozenset({"stream", "stream_scalars"})

# How the value of an expression is used, as its parent says; an expression whose parent
# records nothing is used in a way the rule does not judge.
STATEMENT = "statement"
ATTRIBUTE = "attribute"
SUBSCRIPT = "subscript"
ITERATION = "iteration"
TRUTH = "truth"
COMPARED = "compared"
ASSIGNED = "assigned"
RETURNED = "returned"
"""Returned from an `async def`: its caller's `await` gives this coroutine, not its result."""
AWAITED = "awaited"
HANDED_ON = "handed-on"
"""Passed to a call (`asyncio.gather`, `TaskGroup.create_task`, `wait_for`), returned from
a plain function, yielded or put in a container: whoever receives the coroutine awaits it."""

CONSEQUENCE = {
    STATEMENT: "it never runs (`RuntimeWarning: coroutine ... was never awaited`)",
    ATTRIBUTE: "the attribute is looked up on the coroutine and raises `AttributeError`",
    SUBSCRIPT: "indexing the coroutine raises `TypeError`",
    ITERATION: "iterating over the coroutine raises `TypeError`",
    TRUTH: "the coroutine is always true and never runs",
    COMPARED: "the coroutine is compared instead of its result, and never runs",
    RETURNED: "it is returned from an `async def`, so the caller's `await` gives the coroutine "
    "instead of its result",
    ASSIGNED: "the coroutine is stored in `{target}`, which is never awaited",
}


# The uses of a stored coroutine that show its result was wanted.
NEEDS_RESULT = frozenset({STATEMENT, ATTRIBUTE, SUBSCRIPT, ITERATION, TRUTH, COMPARED, RETURNED})


_STORES: MemoKey[dict[str, bool]] = MemoKey("whether a class stores an async session")


@dataclass
class _Candidate:
    node: cst.BaseExpression
    what: str
    """The awaitable, as the message names it: "`AsyncSession.commit()`"."""
    usage: str
    can_fix: bool
    target: cst.Name | None = None
    """The name an assigned coroutine is stored in."""
    scope: cst.CSTNode | None = None
    """The function (or module) whose uses of `target` decide."""


class UnawaitedSessionCall(Rule):
    """
    ## What it does
    Checks for a coroutine method of an `AsyncSession` (`commit`, `flush`, `refresh`,
    `execute`, `exec`, `scalar`, `scalars`, `get`, `delete`, `merge`, `rollback`, `close`,
    `run_sync`, `stream`, ...) called without `await`; also for the coroutine methods of
    the result of `await session.stream(...)` (`.all()`, `.first()`, ..., directly or after
    `.scalars()` / `.mappings()`) and for `obj.awaitable_attrs.<name>`, used without
    `await`.

    ## Why is this bad?
    These methods are coroutine functions: calling one only creates a coroutine, and nothing
    happens until it is awaited. `session.commit()` as a statement commits nothing (the rows
    are not in the database; Python prints `RuntimeWarning: coroutine 'AsyncSession.commit'
    was never awaited` when the coroutine is collected, which is easy to miss in logs).
    `session.exec(stmt).first()` raises `AttributeError: 'coroutine' object has no attribute
    'first'`, and a truth test such as `if session.get(User, 1):` is always true.

    ## Example
    ```python
    from sqlmodel.ext.asyncio.session import AsyncSession

    async def rename(session: AsyncSession, user: User, name: str) -> None:
        user.name = name
        session.add(user)
        session.commit()
    ```

    Use instead:
    ```python
    from sqlmodel.ext.asyncio.session import AsyncSession

    async def rename(session: AsyncSession, user: User, name: str) -> None:
        user.name = name
        session.add(user)
        await session.commit()
    ```

    ## When it reports
    The receiver must be proven to be an `AsyncSession`: a parameter annotated with it, a
    name bound by `async with AsyncSession(...)`, by an `async_sessionmaker` (or a
    `sessionmaker(class_=AsyncSession)`) or by an async session factory the project index
    knows, or `self.<name>` in a method of a class that declares `<name>: AsyncSession` or
    whose `__init__` stores an `AsyncSession` parameter there. A stream result is `await
    session.stream(...)` (or `stream_scalars`) on such a session, a view of it
    (`.scalars()`, `.mappings()`, `.unique()`), or a local name only ever assigned one.
    `awaitable_attrs` is known by its name: it is what SQLAlchemy's `AsyncAttrs` mixin adds.

    The awaitable is reported when it is a statement of its own, when an attribute of it is
    read, when it is indexed, iterated, tested for truth or compared, when an `async def`
    returns it (`return session.get(User, key)` makes `await load(key)` give the coroutine,
    not the user), or when it is assigned to a name that is only used in those ways.

    Not reported: awaited calls; coroutines passed to a function (`asyncio.gather`,
    `asyncio.create_task`, `TaskGroup.create_task`, `asyncio.wait_for`), returned from a
    plain `def`, yielded or collected in a list or tuple, whose receiver awaits them;
    methods of a synchronous `Session`; `add`, `add_all`, `expunge` and `begin`, which are
    not coroutine functions.

    ## Fix safety
    The fix inserts `await`, parenthesised where an attribute or index follows. It is
    offered only directly inside an `async def`, and it is unsafe: the call now runs, so a
    commit, delete or flush that never happened before now changes the database.

    ## References
    - [SQLAlchemy: Asynchronous I/O](https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html)
    - [Python: Coroutines and tasks](https://docs.python.org/3/library/asyncio-task.html#coroutines)
    """

    code = "AWAIT001"
    name = "unawaited-session-call"
    summary = "`AsyncSession` coroutine method called without `await`"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = ("AsyncSession", "async_sessionmaker", "awaitable_attrs")

    @classmethod
    def triggers_for(cls, index: Index, plan: Plan | None = None) -> tuple[str, ...]:
        # An async session is proven by one of these words, or by the name of a project
        # session factory, session class or alias (`AsyncSessionDep`) the index knows.
        return (*cls.triggers, *sorted(index.factory_names | index.alias_names))

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        calls = syntax.method_calls(COROUTINE_METHODS | RESULT_COROUTINES)
        return any(syntax.not_awaited(call) for call in calls) or any(
            syntax.not_awaited(read) for read in syntax.awaitable_reads
        )

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.usage: dict[int, str] = {}
        self.targets: dict[int, cst.Name] = {}
        # Names that are not references: attribute names and keywords of calls.
        self.not_references: set[int] = set()
        # Innermost last: the functions and lambdas the traversal is in.
        self.scopes: list[cst.FunctionDef | cst.Lambda] = []
        self.classes: list[cst.ClassDef] = []
        self.uses: dict[tuple[int, str], list[cst.Name]] = {}
        self.pending: list[_Candidate] = []

    # -- how each expression's value is used, recorded by its parent ----------------------

    def _mark(self, node: cst.CSTNode | None, usage: str) -> None:
        if node is not None:
            self.usage[id(node)] = usage

    def visit_Expr(self, node: cst.Expr) -> None:
        self._mark(node.value, STATEMENT)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._mark(node.value, ATTRIBUTE)
        self.not_references.add(id(node.attr))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._mark(node.value, SUBSCRIPT)

    def visit_For(self, node: cst.For) -> None:
        self._mark(node.iter, ITERATION)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._mark(node.iter, ITERATION)

    def visit_If(self, node: cst.If) -> None:
        self._mark(node.test, TRUTH)

    def visit_While(self, node: cst.While) -> None:
        self._mark(node.test, TRUTH)

    def visit_IfExp(self, node: cst.IfExp) -> None:
        self._mark(node.test, TRUTH)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        # `left or default` tests `left` for truth (the right operand is only passed on).
        self._mark(node.left, TRUTH)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        if isinstance(node.operator, cst.Not):
            self._mark(node.expression, TRUTH)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._mark(node.left, COMPARED)
        for target in node.comparisons:
            self._mark(target.comparator, COMPARED)

    def visit_Await(self, node: cst.Await) -> None:
        self._mark(node.expression, AWAITED)

    def visit_Arg(self, node: cst.Arg) -> None:
        self._mark(node.value, HANDED_ON)
        if node.keyword is not None:
            self.not_references.add(id(node.keyword))

    def visit_Return(self, node: cst.Return) -> None:
        innermost = self.scopes[-1] if self.scopes else None
        in_coroutine = isinstance(innermost, cst.FunctionDef) and innermost.asynchronous
        self._mark(node.value, RETURNED if in_coroutine else HANDED_ON)

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.BaseExpression):
            self._mark(node.value, HANDED_ON)

    def visit_Element(self, node: cst.Element) -> None:
        self._mark(node.value, HANDED_ON)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._mark(node.value, HANDED_ON)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._mark(node.elt, HANDED_ON)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._mark(node.elt, HANDED_ON)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._mark(node.elt, HANDED_ON)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._mark(node.value, HANDED_ON)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            self._mark(node.value, ASSIGNED)
            self.targets[id(node.value)] = node.targets[0].target

    # -- scopes, and the names an assigned coroutine may be used through ------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.scopes.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()
        self._decide(original_node)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._mark(node.body, HANDED_ON)
        self.scopes.append(node)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.scopes.pop()

    def leave_Module(self, original_node: cst.Module) -> None:
        self._decide(original_node)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self.not_references:
            return
        # A use counts for every enclosing scope: a nested function may await the coroutine.
        for scope in (*self.scopes, self.context.module):
            self.uses.setdefault((id(scope), node.value), []).append(node)

    # -- the calls ---------------------------------------------------------------------------

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method in COROUTINE_METHODS and self._async_session(func.value):
            self._found(node, f"`AsyncSession.{method}()`")
        elif method in RESULT_COROUTINES and self._async_result(func.value, depth=0):
            self._found(node, f"`AsyncResult.{method}()`")

    def leave_Attribute(self, original_node: cst.Attribute) -> None:
        # `AsyncAttrs` gives every mapped attribute an awaitable twin.
        owner = original_node.value
        if isinstance(owner, cst.Attribute) and owner.attr.value == "awaitable_attrs":
            self._found(original_node, f"`awaitable_attrs.{original_node.attr.value}`")

    def _async_session(self, receiver: cst.BaseExpression) -> bool:
        if self._lambda_parameter(receiver):
            return False
        kind = kind_of(receiver_session(self.context, receiver))
        if kind is not None:
            return is_async_session(self.context, kind)
        return self._instance_session(receiver)

    def _instance_session(self, receiver: cst.BaseExpression) -> bool:
        """`self.session` in a method of a class that declares `session: AsyncSession` or
        whose `__init__` stores an `AsyncSession` parameter there (a repository object)."""
        if not (
            isinstance(receiver, cst.Attribute)
            and isinstance(receiver.value, cst.Name)
            and self.classes
            and self.context.functions
        ):
            return False
        owner, method = self.classes[-1], self.context.functions[-1]
        params = method.params.params
        if method not in owner.body.body or not params:
            return False
        if params[0].name.value != receiver.value.value:
            return False
        attribute = receiver.attr.value
        stores = self.context.memo(_STORES, owner, dict)
        if attribute not in stores:
            stores[attribute] = self._stores(owner, attribute)
        return stores[attribute]

    def _stores(self, owner: cst.ClassDef, attribute: str) -> bool:
        for statement in owner.body.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if (
                        isinstance(small, cst.AnnAssign)
                        and isinstance(small.target, cst.Name)
                        and small.target.value == attribute
                    ):
                        return self._is_async_annotation(small.annotation)
            elif isinstance(statement, cst.FunctionDef) and statement.name.value == "__init__":
                return self._init_stores(statement, attribute)
        return False

    def _init_stores(self, init: cst.FunctionDef, attribute: str) -> bool:
        """Every `self.<attribute> = ...` of `__init__` stores a parameter annotated as an
        `AsyncSession` (and there is at least one)."""
        params = init.params.params
        if not params:
            return False
        annotations = {
            param.name.value: param.annotation
            for param in (*params[1:], *init.params.kwonly_params)
            if param.annotation is not None
        }
        stored: list[cst.BaseExpression | None] = []
        pending: list[cst.CSTNode] = [init.body]
        while pending:
            node = pending.pop()
            pending.extend(children(node))
            if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                targets = (
                    [target.target for target in node.targets]
                    if isinstance(node, cst.Assign)
                    else [node.target]
                )
                if any(self._is_self_attribute(t, params[0], attribute) for t in targets):
                    # Only a plain assignment can store the parameter itself.
                    stored.append(node.value if isinstance(node, cst.Assign) else None)
        return bool(stored) and all(
            isinstance(value, cst.Name)
            and value.value in annotations
            and self._is_async_annotation(annotations[value.value])
            for value in stored
        )

    @staticmethod
    def _is_self_attribute(node: cst.BaseExpression, this: cst.Param, attribute: str) -> bool:
        return (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Name)
            and node.value.value == this.name.value
            and node.attr.value == attribute
        )

    def _is_async_annotation(self, annotation: cst.Annotation) -> bool:
        kind = session_of_annotation(self.context, annotation.annotation)
        return kind is not None and is_async_session(self.context, kind)

    def _async_result(self, node: cst.BaseExpression, depth: int) -> bool:
        """`await session.stream(stmt)`, a view of one (`.scalars()`, `.mappings()`, ...), or
        a local name only ever assigned one."""
        while (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value in RESULT_VIEWS
        ):
            node = node.func.value
        if isinstance(node, cst.Await):
            stream = node.expression
            return (
                isinstance(stream, cst.Call)
                and isinstance(stream.func, cst.Attribute)
                and stream.func.attr.value in STREAMS
                and self._async_session(stream.func.value)
            )
        if not isinstance(node, cst.Name) or depth > 3:
            return False
        function = self.context.functions[-1] if self.context.functions else self.context.module
        definitions = scopes.scope_of(self.context, function).definitions.get(node.value, [])
        return bool(definitions) and all(
            definition.kind == "value"
            and definition.expression is not None
            and self._async_result(definition.expression, depth + 1)
            for definition in definitions
        )

    def _found(self, node: cst.BaseExpression, what: str) -> None:
        usage = self.usage.get(id(node))
        if usage is None or usage in (AWAITED, HANDED_ON):
            return
        innermost = self.scopes[-1] if self.scopes else None
        can_fix = isinstance(innermost, cst.FunctionDef) and innermost.asynchronous is not None
        candidate = _Candidate(node, what, usage, can_fix)
        if usage == ASSIGNED:
            candidate.target = self.targets[id(node)]
            candidate.scope = innermost if innermost is not None else self.context.module
            self.pending.append(candidate)
        else:
            self._report(candidate)

    def _lambda_parameter(self, receiver: cst.BaseExpression) -> bool:
        """`run_sync(lambda session: session.execute(...).all())`: the lambda's own
        (synchronous) session, whatever the enclosing function calls `session`."""
        if not isinstance(receiver, cst.Name):
            return False
        for scope in self.scopes:
            if isinstance(scope, cst.Lambda):
                params = scope.params
                names = (*params.posonly_params, *params.params, *params.kwonly_params)
                if any(param.name.value == receiver.value for param in names):
                    return True
        return False

    def _decide(self, scope: cst.CSTNode) -> None:
        """Report the coroutines assigned in `scope` whose name is only used in ways that
        need the result (an attribute, an index, ...), or not used at all."""
        waiting = []
        for candidate in self.pending:
            if candidate.scope is not scope:
                waiting.append(candidate)
                continue
            assert candidate.target is not None
            target = candidate.target
            uses = self.uses.get((id(scope), target.value), [])
            if all(self.usage.get(id(use)) in NEEDS_RESULT for use in uses if use is not target):
                self._report(candidate)
        self.pending = waiting

    def _report(self, candidate: _Candidate) -> None:
        node, usage = candidate.node, candidate.usage
        target = candidate.target.value if candidate.target is not None else None
        consequence = CONSEQUENCE[usage].format(target=target)
        message = f"{candidate.what} is a coroutine and is not awaited: {consequence}"
        fix = None
        if candidate.can_fix:
            code = self.context.module.code_for_node(node)
            change: Insert | Replace = (
                Replace(node, f"(await {code})")
                if usage in (ATTRIBUTE, SUBSCRIPT)
                else Insert(node, "await ")
            )
            fix = FixPlan((change,), Applicability.UNSAFE, "Add `await`")
        self.report(node, message, fix)


RULE = UnawaitedSessionCall
