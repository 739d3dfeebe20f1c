"""LOAD001: a result with a joined eager load of a collection, consumed without `unique()`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import queries, scopes, statements
from sqlsafe.checks.base import FixPlan, Rule
from sqlsafe.checks.sessions import kind_of, receiver_session
from sqlsafe.checks.statements import Facts, Res, Stmt
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

# Loader options that put the relationship into the statement's own SELECT: a collection
# loaded this way repeats its parent row once per element.
JOINED = frozenset({"joinedload", "contains_eager"})
LOADERS = frozenset(
    {
        *JOINED,
        "selectinload",
        "subqueryload",
        "immediateload",
        "lazyload",
        "defaultload",
        "noload",
        "raiseload",
    }
)
# Result methods that fetch rows and raise `InvalidRequestError` on such a result (checked
# against SQLite in tests/checks/test_load001.py); `first()` and `scalar()` do not raise.
CONSUMERS = frozenset({"all", "one", "one_or_none", "fetchall", "fetchmany", "partitions"})
# The same, on a Result of Rows only (a ScalarResult lacks them: another rule's finding).
ROW_RESULT_CONSUMERS = frozenset({"fetchone", "scalar_one", "scalar_one_or_none"})
# Builtins that iterate over their argument.
ITERATING = frozenset({"list", "tuple", "set", "sorted", "next"})


class JoinedCollectionWithoutUnique(Rule):
    """
    ## What it does
    Checks for the result of a statement that eager-loads a collection relationship with
    `joinedload()` or `contains_eager()`, read with `.all()`, `.one()`, `.one_or_none()`,
    `.fetchall()`, `.fetchmany()`, `.partitions()`, `.scalar_one()`, `.fetchone()` or by
    iteration, without `.unique()` first.

    ## Why is this bad?
    A joined eager load of a one-to-many or many-to-many relationship returns the parent row
    once per child. SQLAlchemy 2.x does not silently deduplicate them for `Session.execute()`
    (nor `Session.exec()`, `Session.scalars()` and their async forms): as soon as the query
    returns rows, reading them raises `InvalidRequestError: The unique() method must be
    invoked on this Result, as it contains results that include joined eager loads against
    collections`. Tests with empty tables pass; production data fails.

    `.first()` and `.scalar()` do not raise. A many-to-one `joinedload()`, `selectinload()`
    of a collection, and a joined load that starts below a `selectinload()` are fine.

    ## Example
    ```python
    from sqlalchemy.orm import joinedload
    from sqlmodel import Session, select

    def teams(session: Session) -> list[Team]:
        return session.exec(select(Team).options(joinedload(Team.heroes))).all()
    ```

    Use instead:
    ```python
    from sqlalchemy.orm import joinedload
    from sqlmodel import Session, select

    def teams(session: Session) -> list[Team]:
        return session.exec(select(Team).options(joinedload(Team.heroes))).unique().all()
    ```

    ## When it reports
    The statement's `select()` and its `.options(...)` are built in the same function or
    module (directly or through local variables), it runs on a proven session (a
    `with Session(...)` block, a session factory, an annotated parameter; a Core
    `Connection` does no ORM loading and does not raise), and the loaded relationship is a
    collection by the project's model declarations: annotated `list[...]`/`Mapped[list[...]]`
    (or another collection type), declared with `uselist=True`, `secondary=` or
    `collection_class=`, or a plain `relationship()` to a model whose table alone has a
    foreign key to this one's. Legacy `session.query(...)` deduplicates by itself and is not
    reported.

    ## Fix safety
    The fix inserts `.unique()` before the call that reads the rows. It is safe for a
    single-entity statement: the code can only raise as written once rows come back, and
    `unique()` gives each parent once, which is what the joined load means. With several
    columns or entities, `unique()` hashes every value in a row (an unhashable column value
    then raises), so the fix is unsafe there.

    ## References
    - [SQLAlchemy: joined eager loading and `unique()`](https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html#joined-eager-loading)
    - [SQLAlchemy: `Result.unique()`](https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.Result.unique)
    """

    code = "LOAD001"
    name = "joined-collection-without-unique"
    summary = "Joined eager load of a collection read without `unique()`"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = ("joinedload", "contains_eager")

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        return syntax.runs_statement()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in CONSUMERS or method in ROW_RESULT_CONSUMERS:
                self._check(func.value, node, f"`.{method}()`", rows_only=method not in CONSUMERS)
        elif (
            isinstance(func, cst.Name)
            and func.value in ITERATING
            and len(node.args) == 1
            and not node.args[0].keyword
            and not node.args[0].star
            and func.value not in self.context.names.names
            and not scopes.bound_locally(self.context, func.value)
        ):
            self._check(node.args[0].value, node, f"`{func.value}()`")

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is None:
            self._check(node.iter, node.iter, "Iterating")

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is None:
            self._check(node.iter, node.iter, "Iterating")

    def _check(
        self,
        receiver: cst.BaseExpression,
        reported: cst.CSTNode,
        what: str,
        rows_only: bool = False,
    ) -> None:
        if _yields_per(receiver):
            # `yield_per` with a joined collection raises on its own; `unique()` cannot help.
            return
        found = statements.facts(self.context, receiver)
        joined = self._joined_collections(found, rows_only)
        if joined is None:
            return
        attribute, results = joined
        message = (
            f"{what} on a result that joins the collection `{attribute}` raises "
            "`InvalidRequestError` once rows come back; call `.unique()` first"
        )
        single = all(res.stmt.count == 1 and res.stmt.first is not None for res in results)
        fix = FixPlan(
            (statements.append_call(self.context, receiver, ".unique()"),),
            Applicability.SAFE if single else Applicability.UNSAFE,
            "Call `.unique()` before reading the rows",
        )
        self.report(reported, message, fix)

    def _joined_collections(
        self, found: Facts, rows_only: bool
    ) -> tuple[str, tuple[Res, ...]] | None:
        """The collection joined (as written) when every value is such a result."""
        results = tuple(fact for fact in found if isinstance(fact, Res))
        if not results or len(results) != len(found):
            return None
        if any(res.unique or (rows_only and res.scalars is not False) for res in results):
            return None
        # A Core connection runs the statement without ORM loading (no error, duplicate rows
        # and all): only results of proven sessions.
        if any(kind_of(receiver_session(self.context, res.session)) is None for res in results):
            return None
        joined = [self._joined_collection(res.stmt) for res in results]
        first = joined[0]
        if first is None or any(attribute is None for attribute in joined):
            return None
        return first, results

    def _joined_collection(self, stmt: Stmt) -> str | None:
        for options in stmt.options:
            for arg in options.args:
                if arg.star or arg.keyword is not None:
                    continue
                found = self._collection_in_chain(arg.value)
                if found is not None:
                    return found
        return None

    def _collection_in_chain(self, option: cst.BaseExpression) -> str | None:
        """The first collection a loader chain joins into the statement itself: every link up
        to it is a joined load (below a `selectinload`, the join happens in another query)."""
        links = self._links(option)
        for strategy, args in links or ():
            if strategy not in JOINED:
                return None
            for arg in args:
                if self._is_collection(arg.value):
                    return self.context.module.code_for_node(arg.value)
        return None

    def _links(self, option: cst.BaseExpression) -> list[tuple[str, list[cst.Arg]]] | None:
        """`joinedload(A.b).selectinload(B.c)` as [("joinedload", [A.b]), ("selectinload",
        [B.c])], root first; `Load(A)` starts an empty chain; None for anything else."""
        if not isinstance(option, cst.Call):
            return None
        func = option.func
        args = [arg for arg in option.args if arg.keyword is None and not arg.star]
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            if func.attr.value not in LOADERS:
                return None
            head = self._links(func.value)
            return None if head is None else [*head, (func.attr.value, args)]
        qualname = self.context.names.qualify(func) or ""
        module, _, member = qualname.rpartition(".")
        if not module.startswith("sqlalchemy.orm"):
            return None
        if member == "Load":
            return []
        return [(member, args)] if member in LOADERS else None

    def _is_collection(self, attribute: cst.BaseExpression) -> bool:
        """`Model.relationship` (or its `.of_type(...)`/`.and_(...)`) naming a collection."""
        while (
            isinstance(attribute, cst.Call)
            and isinstance(attribute.func, cst.Attribute)
            and attribute.func.attr.value in ("of_type", "and_")
        ):
            attribute = attribute.func.value
        if not isinstance(attribute, cst.Attribute):
            return False
        entity = queries.entity(self.context, attribute.value, self.context.functions)
        model = self.context.index.model(entity.qualname) if entity and entity.qualname else None
        return model is not None and attribute.attr.value in model.collections


def _yields_per(receiver: cst.BaseExpression) -> bool:
    node = receiver
    while isinstance(node, (cst.Call, cst.Attribute)):
        if isinstance(node, cst.Attribute) and node.attr.value == "yield_per":
            return True
        node = node.func if isinstance(node, cst.Call) else node.value
    return False


RULE = JoinedCollectionWithoutUnique
