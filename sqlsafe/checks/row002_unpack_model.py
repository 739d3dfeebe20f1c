"""ROW002: a model result unpacked or indexed as if it were a one-element Row."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import shims, statements
from sqlsafe.checks.base import FileContext, FixPlan, Replace, Rule
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

ELEMENT_VIAS = frozenset({"iter", "index"})


class UnpackModelResult(Rule):
    """
    ## What it does
    Checks for one-element unpacking and indexing of values that a query returns as model
    instances, not Rows:

    - `(user,) = session.exec(select(User)).one()`;
    - `for (user,) in session.exec(select(User)):` and the same in comprehensions;
    - `for row in session.exec(select(User)).all(): row[0]`, and `.all()[i][0]`.

    The queries are the ones `ROW001` knows to return models: `session.exec()` of a
    one-argument `sqlmodel.select(Model)`, and anything read through `.scalars()`,
    `session.scalars()` or `session.scalar()`.

    ## Why is this bad?
    The elements are `User` objects. Unpacking one raises `ValueError: too many values to
    unpack (expected 1)` (a pydantic model iterates over its fields), and indexing one
    raises `TypeError: 'User' object is not subscriptable`. The code was written for Rows,
    which `session.execute()` and SQLAlchemy's `select` give.

    ## Example
    ```python
    from sqlmodel import Session, select

    def emails(session: Session) -> list[str]:
        return [user.email for (user,) in session.exec(select(User))]
    ```

    Use instead:
    ```python
    from sqlmodel import Session, select

    def emails(session: Session) -> list[str]:
        return [user.email for user in session.exec(select(User))]
    ```

    ## When it reports
    Exactly when `ROW001` would for the same query (see `sqlsafe rule ROW001`): the statement
    is built in the same function or module, and its only argument is a mapped class. A
    query whose `select` cannot be resolved to one library (or that is sqlmodel's `select`
    on one path and SQLAlchemy's on another, for the same entity) is reported as a possible
    bug. Statements passed in or built elsewhere, `session.execute()` results, selects of
    several columns, and `text()` are never reported.

    ## Fix safety
    When the query is proven to return models, the fix drops the unpacking or the `[0]`:
    `(user,) = ...` becomes `user = ...`, `for (user,) in` becomes `for user in`. It is
    safe: the old code could only raise (or, for `.first()`, unpack `None` and raise).

    For a possible bug, the fix uses the helpers from the configured `helpers-module`:
    `(user,) = session.exec(stmt).first()` becomes `user = query_one(session, stmt, User)`
    and `for (user,) in session.exec(stmt).all():` becomes
    `for user in query_all(session, stmt, User):`. It is unsafe, and offered only for these
    direct forms on a synchronous session.

    ## References
    - [SQLModel: Read data](https://sqlmodel.tiangolo.com/tutorial/select/)
    - [SQLAlchemy: `Result.scalars`](https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.Result.scalars)
    """

    code = "ROW002"
    name = "unpack-model-result"
    summary = "A model query result unpacked or indexed as a one-element Row"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = statements.RESULT_TRIGGERS

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        unpacks = syntax.zero_index or syntax.one_element_unpacking
        return unpacks and syntax.runs_statement()

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if not statements.is_index_zero(node):
            return
        found = statements.facts(self.context, node.value)
        verdict = statements.model_verdict(found, ELEMENT_VIAS)
        if verdict is not None and not shims.unreachable(self.context, node):
            message = statements.model_message(verdict, "`[0]`")
            self.report(node, message, statements.index_fix(self.context, node, verdict))

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0]
        name = _single(target.target)
        if name is None:
            return
        verdict = statements.model_verdict(statements.facts(self.context, node.value))
        if verdict is None or shims.unreachable(self.context, node):
            return
        fix = None
        if verdict.proven:
            fix = _drop_unpacking(verdict, _unpacked(target.target, name))
        else:
            call = statements.helper_call(self.context, verdict, node.value, "query_one")
            if call is not None:
                changes = (*_unpacked(target.target, name), Replace(node.value, call))
                fix = _helper_fix(self.context, "query_one", changes)
        self.report(target.target, statements.model_message(verdict, "Unpacking"), fix)

    def visit_For(self, node: cst.For) -> None:
        self._loop(node.target, node.iter, node.asynchronous)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._loop(node.target, node.iter, node.asynchronous)

    def _loop(
        self,
        target: cst.BaseAssignTargetExpression,
        iterable: cst.BaseExpression,
        asynchronous: cst.Asynchronous | None,
    ) -> None:
        name = _single(target)
        if name is None or asynchronous is not None:
            return
        verdict = statements.model_verdict(statements.iteration_facts(self.context, iterable))
        if verdict is None or shims.unreachable(self.context, target):
            return
        fix = None
        if verdict.proven:
            fix = _drop_unpacking(verdict, _unpacked(target, name))
        else:
            call = statements.helper_call(self.context, verdict, iterable, "query_all")
            if call is not None:
                changes = (*_unpacked(target, name), Replace(iterable, call))
                fix = _helper_fix(self.context, "query_all", changes)
        self.report(target, statements.model_message(verdict, "Unpacking"), fix)


def _single(target: cst.BaseExpression) -> cst.Name | None:
    """`u` of the targets `(u,)`, `u,` and `[u]`."""
    if not isinstance(target, (cst.Tuple, cst.List)) or len(target.elements) != 1:
        return None
    element = target.elements[0]
    if isinstance(element, cst.StarredElement) or not isinstance(element.value, cst.Name):
        return None
    return element.value


def _unpacked(target: cst.BaseExpression, name: cst.Name) -> tuple[Replace, ...]:
    """`(u,)` -> `u`. A node's range leaves out its own parentheses, so they go separately."""
    parentheses = (*getattr(target, "lpar", ()), *getattr(target, "rpar", ()))
    return (Replace(target, name), *(Replace(paren, "") for paren in parentheses))


def _drop_unpacking(verdict: statements.Verdict, changes: tuple[Replace, ...]) -> FixPlan:
    return FixPlan(
        changes, Applicability.SAFE, f"Use the `{verdict.entity.label}` without unpacking"
    )


def _helper_fix(context: FileContext, helper: str, changes: tuple[Replace, ...]) -> FixPlan:
    return FixPlan(
        changes,
        Applicability.UNSAFE,
        f"Use `{helper}()`, which returns models with either `select`",
        imports=((context.settings.helpers_module, helper),),
    )


RULE = UnpackModelResult
