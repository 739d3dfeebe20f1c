"""ROW001: `[0]` on the model that `.first()`/`.one()` of a one-entity query returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import shims, statements
from sqlsafe.checks.base import FileContext, FixPlan, Replace, Rule
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

VIAS = statements.FIRST_METHODS | statements.SCALAR_METHODS


class IndexModelResult(Rule):
    """
    ## What it does
    Checks for `[0]` on the value of `.first()`, `.one()` or `.one_or_none()` when the query
    returns a model instance rather than a Row: `session.exec()` of a one-argument
    `sqlmodel.select(Model)`, or any query read through `.scalars()`, `session.scalars()` or
    `session.scalar()`. The result may be followed through local variables, including the
    `row[0] if row else None` form.

    ## Why is this bad?
    SQLModel's `session.exec(select(User))` yields `User` objects, not Rows, on every
    SQLModel version. Indexing one raises `TypeError: 'User' object is not subscriptable`.
    Code written for `session.execute(...)` or for SQLAlchemy's `select`, which do give Rows,
    breaks this way when it is moved to `exec` or to `sqlmodel.select`. The form
    `row[0] if row else None` hides the bug: it returns `None` while the table is empty, so
    tests against an empty database pass.

    ## Example
    ```python
    from sqlmodel import Session, select

    def find(session: Session, email: str) -> User | None:
        row = session.exec(select(User).where(User.email == email)).first()
        return row[0] if row else None
    ```

    Use instead:
    ```python
    from sqlmodel import Session, select

    def find(session: Session, email: str) -> User | None:
        row = session.exec(select(User).where(User.email == email)).first()
        return row
    ```

    ## When it reports
    The statement must be built in the same function (or module) as the `[0]`: a
    `select(...)` call, possibly through local variables and chained `.where()`, `.join()`,
    `.order_by()`, `.limit()`, `.options()` and the other methods that keep a select's
    columns. The select's only argument must be a mapped class: a class the project index
    knows as a model, or else a capitalised name imported or defined as a class in the file
    (`User`, `models.User`; not `User.id`, not a constant such as `USER`).

    It also reports, as a possible bug, a query whose result cannot be proven either way but
    is a model on at least one path and is never anything but a one-entity query: the
    `select` is imported from a module that is neither SQLModel nor SQLAlchemy and the
    project index cannot resolve it (or star imports from both), or a variable holds
    `sqlmodel.select(User)` on one branch and `sqlalchemy.select(User)` on another.

    It does not report: `session.execute(...)` results, `sqlalchemy.select`, selects of
    several columns or entities, `text()`, `.all()[0]`, statements passed in as parameters
    or built by another function (nothing shows they are wrong), and one-column selects such
    as `select(User.name)` (indexing a string or a JSON value is valid).

    ## Fix safety
    Where every path to the `[0]` is proven to give the model, the fix drops the `[0]`
    (and turns `row[0] if row else None` into `row`). It is safe: the old code could only
    return `None` or raise `TypeError`; the new code returns `None` or the model.

    For a possible bug, the fix replaces `session.exec(stmt).first()[0]` with
    `query_one(session, stmt, Model)` from the configured `helpers-module`, which returns
    the model with either `select`. It is unsafe: on a path where the old code was correct
    it now runs through the helper. It is offered only for that direct `.first()` form of a
    synchronous session; otherwise the finding has no fix.

    ## References
    - [SQLModel: Read one row](https://sqlmodel.tiangolo.com/tutorial/one/)
    - [SQLAlchemy: `Result.scalars`](https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.Result.scalars)
    """

    code = "ROW001"
    name = "index-on-model-result"
    summary = "`[0]` on a query result that is a model instance, not a Row"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = statements.RESULT_TRIGGERS

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        return syntax.zero_index and syntax.runs_statement()

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.handled: set[cst.Subscript] = set()

    def visit_IfExp(self, node: cst.IfExp) -> None:
        # `row[0] if row else None` and `row[0] if row is not None else None`.
        body, test = node.body, node.test
        if not (
            isinstance(body, cst.Subscript)
            and isinstance(body.value, cst.Name)
            and isinstance(node.orelse, cst.Name)
            and node.orelse.value == "None"
            and _tests(test, body.value.value)
        ):
            return
        verdict = self.verdict(body)
        if verdict is None:
            return
        self.handled.add(body)
        fix = None
        if verdict.proven:
            fix = FixPlan(
                (Replace(node, body.value),),
                Applicability.SAFE,
                f"Use the `{verdict.entity.label}` itself",
            )
        self.report(body, statements.model_message(verdict, "`[0]`"), fix)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if node in self.handled:
            return
        verdict = self.verdict(node)
        if verdict is None:
            return
        self.report(
            node,
            statements.model_message(verdict, "`[0]`"),
            statements.index_fix(self.context, node, verdict),
        )

    def verdict(self, node: cst.Subscript) -> statements.Verdict | None:
        if not statements.is_index_zero(node):
            return None
        verdict = statements.model_verdict(statements.facts(self.context, node.value), VIAS)
        return None if verdict is None or shims.unreachable(self.context, node) else verdict


def _tests(test: cst.BaseExpression, name: str) -> bool:
    if isinstance(test, cst.Name):
        return test.value == name
    return (
        isinstance(test, cst.Comparison)
        and isinstance(test.left, cst.Name)
        and test.left.value == name
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, cst.IsNot)
        and isinstance(test.comparisons[0].comparator, cst.Name)
        and test.comparisons[0].comparator.value == "None"
    )


RULE = IndexModelResult
