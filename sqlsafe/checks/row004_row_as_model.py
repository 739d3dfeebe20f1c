"""ROW004: a Row holding one model used as if it were the model."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import queries, shims, statements
from sqlsafe.checks.base import FixPlan, Rule
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax


class RowAsModel(Rule):
    """
    ## What it does
    Checks for attribute access to a model field on a Row that holds a single model: the
    value of `.first()`, `.one()` or `.one_or_none()`, or an element, of
    `session.execute(select(User))` (with either library's `select`) or of
    `session.exec(sqlalchemy.select(User))`.

    ## Why is this bad?
    These queries give Rows, even for a single entity: `Row(User,)`. Reading `row.email`
    raises `AttributeError: email` (the Row's only key is `User`). The code was written for
    `session.exec(sqlmodel.select(User))`, which does give `User` objects, and broke when
    the call became `execute` or the import became SQLAlchemy's `select`.

    ## Example
    ```python
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    def email_of(session: Session, user_id: int) -> str | None:
        user = session.execute(select(User).where(User.id == user_id)).first()
        return user.email if user else None
    ```

    Use instead:
    ```python
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    def email_of(session: Session, user_id: int) -> str | None:
        user = session.execute(select(User).where(User.id == user_id)).scalars().first()
        return user.email if user else None
    ```

    ## When it reports
    The statement must be built in the same function or module, by a resolved `select`
    whose only argument is a mapped class (the project index's models; without it, a
    capitalised imported name or a class defined in the file, not a column like
    `User.id`). Every path to the access must give such a Row for the same entity.
    Attributes a Row has are not reported: names starting with `_`, `count`, `index`, `t`,
    `tuple`, and the entity's own key (`row.User`). Selects of several columns or entities
    (`row.email` is a valid key of `select(User.id, User.email)`), `text()`, statements
    passed in, and `select`s that cannot be resolved to one library are not reported.

    ## Fix safety
    The fix inserts `.scalars()` after the `execute(...)`/`exec(...)` call, so the query
    gives `User` objects. It is safe when every use of the value is as a model: the
    access reaches it through no variable, or only through variables whose every use is a
    model attribute or a truth test (`if row`, `row is None`). It is unsafe when the value
    is also returned, passed on, stored, or held by a variable of the whole result or list,
    since other code may expect Rows. There is no fix when some use needs a Row (`row[0]`,
    `row._mapping`, `row.User`), or when the value may come from more than one query.

    ## References
    - [SQLAlchemy: Selecting ORM entities](https://docs.sqlalchemy.org/en/20/orm/queryguide/select.html#selecting-orm-entities-and-attributes)
    - [SQLModel: Read data](https://sqlmodel.tiangolo.com/tutorial/select/)
    """

    code = "ROW004"
    name = "row-as-model"
    summary = "A Row holding one model used as the model"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = statements.RESULT_TRIGGERS

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        return syntax.runs_statement()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr.startswith("_") or attr in statements.ROW_PUBLIC_API:
            return
        verdict = statements.row_verdict(statements.facts(self.context, node.value))
        if verdict is None or attr == verdict.entity.label or shims.unreachable(self.context, node):
            return
        label = verdict.entity.label
        field = self._field(verdict.entity, attr)
        call = "exec" if verdict.items[0].res.from_exec else "execute"
        self.report(
            node,
            f"`.{attr}` on a Row: `session.{call}()` of this `select({verdict.entity.text})` "
            f"gives `Row({label},)`, not `{label}`{field}, so this raises `AttributeError`",
            self._fix(verdict),
        )

    def _field(self, entity: queries.Entity, attr: str) -> str:
        facts = self.context.index.model(entity.qualname) if entity.qualname else None
        if facts is not None and (attr in facts.columns or attr in facts.relationships):
            return f" (`{attr}` is a field of `{entity.label}`)"
        return ""

    def _fix(self, verdict: statements.Verdict) -> FixPlan | None:
        origins = {item.res.origin for item in verdict.items}
        if len(origins) != 1:
            return None
        applicability = Applicability.SAFE
        for item in verdict.items:
            for binding in item.through:
                if binding.holds != "item":
                    applicability = Applicability.UNSAFE
                    continue
                uses = statements.use_kind(self.context, binding, verdict.entity.label)
                if uses == "row":
                    return None
                if uses == "escapes":
                    applicability = Applicability.UNSAFE
        (origin,) = origins
        return FixPlan(
            (statements.insert_scalars(self.context, origin),),
            applicability,
            f"Insert `.scalars()` to get `{verdict.entity.label}` objects",
        )


RULE = RowAsModel
