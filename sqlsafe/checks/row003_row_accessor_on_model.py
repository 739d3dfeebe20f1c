"""ROW003: Row-only accessors on a model instance, Result-only methods on a ScalarResult."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import queries, shims, statements
from sqlsafe.checks.base import FixPlan, Replace, Rule
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

# Attributes a Row has and a model instance does not. Row's public `t`, `tuple`, `count` and
# `index` are left out: a model may well have a field of that name.
ROW_ACCESSORS = frozenset({"_mapping", "_asdict", "_tuple", "_fields", "_t"})
# What each Result method becomes on a ScalarResult, when it has an equivalent there.
SCALAR_RESULT_EQUIVALENT = {
    "scalar": "first",
    "scalar_one": "one",
    "scalar_one_or_none": "one_or_none",
    "fetchone": "first",
}


class RowAccessorOnModel(Rule):
    """
    ## What it does
    Checks for Row and Result API used where a query gives model instances:

    - Row-only accessors on the model: `._mapping`, `._asdict()`, `._tuple()`, `._fields`,
      `._t`, and `.<EntityName>` (`hero.Hero`);
    - Result-only methods on the `ScalarResult` that `session.exec(select(Model))` returns
      (and that `.scalars()`/`session.scalars()` return): `.scalars()`, `.fetchone()`,
      `.scalar()`, `.scalar_one()`, `.scalar_one_or_none()`, `.mappings()`.

    ## Why is this bad?
    `session.exec()` of a one-argument `sqlmodel.select(Hero)` yields `Hero` objects through a
    `ScalarResult`. A `Hero` has no `_mapping` or `Hero` attribute
    (`AttributeError: 'Hero' object has no attribute '_mapping'`), and a `ScalarResult` has no
    `scalars` or `fetchone` (`AttributeError: 'ScalarResult' object has no attribute
    'scalars'`). Both come from code written for `session.execute()`, which gives Rows.

    ## Example
    ```python
    from sqlmodel import Session, select

    def heroes(session: Session) -> list[Hero]:
        return session.exec(select(Hero)).scalars().all()

    def first_hero(session: Session) -> Hero | None:
        row = session.exec(select(Hero)).first()
        return row.Hero if row else None
    ```

    Use instead:
    ```python
    from sqlmodel import Session, select

    def heroes(session: Session) -> list[Hero]:
        return session.exec(select(Hero)).all()

    def first_hero(session: Session) -> Hero | None:
        row = session.exec(select(Hero)).first()
        return row if row else None
    ```

    ## When it reports
    Only when the query is proven to give models on every path (the conditions of `ROW001`:
    a one-argument `sqlmodel.select` of a mapped class built in the same function or module,
    run by `session.exec()`; for the Result methods, any one-argument `sqlmodel.select`).
    Unresolved `select` imports and statements passed in are not reported.

    ## Fix safety
    Safe, where offered: `.<EntityName>` and `.scalars()` are dropped; `.scalar()`,
    `.scalar_one()` and `.scalar_one_or_none()` become `.first()`, `.one()` and
    `.one_or_none()`, which do the same on a ScalarResult; `.fetchone()` becomes `.first()`
    when it is called on `session.exec(...)` directly (on a variable, a loop may call it
    again, and `.first()` closes the result). The old code could only raise.
    `._mapping`, `._asdict()`, `._tuple()`, `._fields`, `._t` and `.mappings()` have no
    mechanical replacement and get no fix.

    ## References
    - [SQLModel: Read data](https://sqlmodel.tiangolo.com/tutorial/select/)
    - [SQLAlchemy: `ScalarResult`](https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.ScalarResult)
    """

    code = "ROW003"
    name = "row-accessor-on-model"
    summary = "Row or Result API used on a model instance or a ScalarResult"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = statements.RESULT_TRIGGERS

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        return syntax.runs_statement()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if not attr[:1].isupper() and attr not in ROW_ACCESSORS:
            return
        verdict = statements.model_verdict(statements.facts(self.context, node.value))
        if verdict is None or not verdict.proven or shims.unreachable(self.context, node):
            return
        label = verdict.entity.label
        fix = None
        if attr == label:
            fix = FixPlan(
                (Replace(node, node.value),), Applicability.SAFE, f"Use the `{label}` itself"
            )
        elif attr not in ROW_ACCESSORS:
            return
        self.report(
            node,
            f"`.{attr}` on a `{label}` instance: this query returns the model, not a Row, "
            "so this raises `AttributeError`",
            fix,
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        if method not in queries.RESULT_ONLY_METHODS:
            return
        results = statements.scalar_result(statements.facts(self.context, func.value))
        if results is None or shims.unreachable(self.context, node):
            return
        fix = None
        if method == "scalars" and not node.args:
            fix = FixPlan(
                (Replace(node, func.value),),
                Applicability.SAFE,
                "Remove `.scalars()`: the result already yields the values",
            )
        elif method in SCALAR_RESULT_EQUIVALENT and not node.args:
            direct = all(not result.through for result in results)
            if method != "fetchone" or direct:
                new = SCALAR_RESULT_EQUIVALENT[method]
                fix = FixPlan(
                    (Replace(func.attr, cst.Name(new)),),
                    Applicability.SAFE,
                    f"Use `.{new}()`",
                )
        self.report(
            node,
            f"`.{method}()` on a `ScalarResult`: it has no such method and raises "
            "`AttributeError`; the values are already scalars",
            fix,
        )


RULE = RowAccessorOnModel
