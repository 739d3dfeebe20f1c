"""SCOPE001: an attribute read that needs a session the object no longer has."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks.base import FixPlan, Index, Insert, Rule
from sqlsafe.checks.lifetimes import (
    SESSION_TRIGGERS,
    Block,
    Expiry,
    Read,
    analyse,
    session_triggers,
    statements_after,
)
from sqlsafe.checks.plan import Plan
from sqlsafe.checks.story import story
from sqlsafe.diagnostics import Applicability, FixAvailability
from sqlsafe.traversal import children

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax


class ReadAfterSession(Rule):
    """
    ## What it does
    Checks for attribute reads of an ORM instance after the `with` block (or the `close()`)
    of the session that loaded it, when the attribute cannot be loaded any more: every
    attribute once a `commit()`, `rollback()` or the end of a `begin()` block expired the
    instance, and relationships or deferred columns that were not loaded inside the block.
    In async code it also checks for reads inside the block that would need IO: after
    `await session.commit()`, and of lazy relationships. The same lazy reads are checked on
    instances loaded through an `AsyncSession` the function receives (a FastAPI
    `session: AsyncSession = Depends(...)`); a column read after `await session.commit()`
    there is not reported, since whether the commit expires depends on the factory's
    `expire_on_commit`, which the function does not show. The blocks of `with`
    `get_session()` factories that commit after their `yield` count as `begin()` blocks.

    ## Why is this bad?
    Reading an expired or unloaded attribute needs a query, and a closed session cannot run
    one: `DetachedInstanceError: Instance <User> is not bound to a Session; attribute
    refresh operation cannot proceed`. An `AsyncSession` cannot load lazily even while it
    is open: the read raises `MissingGreenlet` (on SQLAlchemy 2.1 a `StatementError`
    wrapping it, which `except MissingGreenlet` no longer catches).

    A lazy many-to-one read through an `AsyncSession` works when its target is already in
    the session's identity map (no SQL is needed), which a fresh request session rarely
    holds; the message says so for sessions the function receives.

    Loaded columns of an instance whose session only read, objects from an
    `expire_on_commit=False` session, relationships loaded with `selectinload`, eager ones
    (`lazy="selectin"`), relationships named in `refresh(obj, [...])` or touched inside a
    synchronous block, reads through `awaitable_attrs`, and objects added to another session
    are not reported.

    ## Example
    ```python
    with Session(engine) as session:
        hero = session.get(Hero, hero_id)
        hero.name = "Deadpond"
        session.commit()
    print(hero.name)
    ```

    Use instead:
    ```python
    with Session(engine) as session:
        hero = session.get(Hero, hero_id)
        hero.name = "Deadpond"
        session.commit()
        print(hero.name)
    ```

    ## Fix safety
    The fix moves the statements from the end of the block down to the one holding the read
    into the block, by indenting them. It is offered only for a synchronous block that
    commits nothing on exit and when the statements follow the block directly in the same
    body, so that they run in the same order with the session still open: the read loads
    the attribute with at most one query. It is marked safe. In async code, and after a
    `begin()` block (where moving the read would run it before the commit), no fix is
    offered: `await session.refresh(obj)` or `selectinload(...)` are the remedies.

    ## References
    - [SQLAlchemy: DetachedInstanceError](https://docs.sqlalchemy.org/en/20/errors.html#error-bhk3)
    - [SQLAlchemy: asyncio, preventing implicit IO](https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession)
    """

    code = "SCOPE001"
    name = "read-after-session-close"
    summary = "Attribute read of an ORM instance that its closed or async session cannot load"
    fix_availability = FixAvailability.SOMETIMES
    triggers = SESSION_TRIGGERS

    @classmethod
    def triggers_for(cls, index: Index, plan: Plan | None = None) -> tuple[str, ...]:
        return session_triggers(index)

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        return any(scope.may_read_detached() for scope in syntax.session_scopes)

    def visit_Module(self, node: cst.Module) -> None:
        self._report(None)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._report(node)

    def _report(self, function: cst.FunctionDef | None) -> None:
        for read in analyse(self.context, function).reads:
            notes = story(read.instance, closed=not read.inside)
            self.report(read.node, _message(read), self._move(read), notes)

    def _move(self, read: Read) -> FixPlan | None:
        block = read.instance.block
        if read.inside or block.is_async or not _plain_with(block):
            return None
        where = statements_after(read.path, block)
        if where is None:
            return None
        suite, first, last = where
        moved = list(getattr(suite, "body", ()))[first : last + 1]
        if any(_defines(statement) for statement in moved):
            return None
        assert isinstance(block.node, cst.With)
        body = block.node.body
        if not isinstance(body, cst.IndentedBlock):
            return None
        step = body.indent if body.indent is not None else self.context.module.default_indent
        inserts = tuple(
            Insert(start, step) for statement in moved for start in _line_starts(statement)
        )
        return FixPlan(
            inserts,
            Applicability.SAFE,
            f"Move the read into the `with` block of `{block.name}`",
        )


def _message(read: Read) -> str:
    instance = read.instance
    session = instance.block.name
    expired = instance.expired is Expiry.YES
    if read.inside:
        if expired:
            return (
                f"`{read.attribute}` is read after {instance.cause} expired the instance: "
                f"inside an `AsyncSession` (`{session}`) the reload raises `MissingGreenlet`"
            )
        caveat = ""
        if instance.block.parameter:
            caveat = (
                " (unless it is a many-to-one relationship whose target the session already "
                "holds: that one loads without SQL)"
            )
        return (
            f"`{read.attribute}` is not loaded and an `AsyncSession` (`{session}`) cannot "
            f"load it lazily: this raises `MissingGreenlet`{caveat}"
        )
    if expired:
        return (
            f"`{read.attribute}` is read after `{session}` closed, and {instance.cause} had "
            "expired the instance: this raises `DetachedInstanceError`"
        )
    return (
        f"`{read.attribute}` is read after `{session}` closed without loading it: "
        "this raises `DetachedInstanceError`"
    )


def _plain_with(block: Block) -> bool:
    """A `with` that only closes the session on exit (no `begin()`, which commits)."""
    if not isinstance(block.node, cst.With) or block.begins:
        return False
    return not any(
        isinstance(item.item, cst.Call)
        and isinstance(item.item.func, cst.Attribute)
        and item.item.func.attr.value == "begin"
        for item in block.node.items
    )


def _defines(statement: cst.CSTNode) -> bool:
    """Decorated definitions start their line elsewhere than the node: not moved."""
    stack = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return True
        stack.extend(children(node))
    return False


def _line_starts(statement: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Nodes that begin a line of `statement`: indenting them all moves it one level in.

    Continuation lines inside brackets and the lines of multi-line strings are left alone:
    Python does not read indentation there."""
    yield statement
    stack = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.SimpleStatementSuite):
            continue
        if isinstance(node, cst.IndentedBlock):
            yield from node.body
        elif isinstance(node, cst.If) and isinstance(node.orelse, cst.If):
            yield node.orelse  # `elif`
        for child in children(node):
            if isinstance(child, _CLAUSES):
                yield child
            stack.append(child)


_CLAUSES = (cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.MatchCase)


RULE = ReadAfterSession
