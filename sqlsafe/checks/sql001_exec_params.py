"""SQL001: a second positional argument to sqlmodel's `Session.exec`."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks.base import FixPlan, Insert, Rule
from sqlsafe.checks.sessions import is_sqlmodel_session, kind_of, receiver_session
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax


class ExecPositionalParams(Rule):
    """
    ## What it does
    Checks for a second positional argument to `exec()` on a SQLModel `Session` or
    `AsyncSession`, such as `session.exec(text("select :x"), {"x": 1})`.

    ## Why is this bad?
    SQLModel's `exec()` takes the statement as its only positional argument; bind
    parameters go in the keyword-only `params=`. A second positional argument always raises
    `TypeError: Session.exec() takes 2 positional arguments but 3 were given`, on every
    SQLModel version for `Session`, and from SQLModel 0.0.12 on for `AsyncSession`. Code
    ported from `session.execute(stmt, params)` (which does take parameters positionally)
    fails only when the line runs, often on a rarely used path.

    ## Example
    ```python
    from sqlmodel import Session, text

    with Session(engine) as session:
        session.exec(text("select * from user where id = :id"), {"id": user_id})
    ```

    Use instead:
    ```python
    from sqlmodel import Session, text

    with Session(engine) as session:
        session.exec(text("select * from user where id = :id"), params={"id": user_id})
    ```

    ## Fix safety
    This rule's fix is marked as safe: the call can only raise `TypeError` as written, and
    `params=` gives it exactly the meaning of `Session.execute(stmt, params)`.

    Only receivers proven to be SQLModel sessions are reported: a name bound by
    `with Session(...) as s`, by a `sessionmaker(class_=Session)` or a configured session
    factory, or a parameter annotated as a SQLModel session. `session.execute(stmt, {...})`
    and `exec` methods of other objects are not reported.

    ## References
    - [SQLModel: `Session.exec`](https://sqlmodel.tiangolo.com/tutorial/select/)
    - [SQLAlchemy: `Session.execute`](https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.execute)
    """

    code = "SQL001"
    name = "exec-positional-params"
    summary = "Parameters passed positionally to `Session.exec()`"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = ("exec",)

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        return any(
            len(call.args) >= 2
            and not any(type(arg) is ast.Starred for arg in call.args)
            and all(keyword.arg is not None for keyword in call.keywords)
            for call in syntax.method_calls(("exec",))
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "exec":
            return
        positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
        if len(positional) < 2 or any(arg.star for arg in node.args):
            return
        kind = kind_of(receiver_session(self.context, func.value))
        if kind is None or not is_sqlmodel_session(self.context, kind):
            return
        session = "AsyncSession" if kind.is_async else "Session"
        message = (
            f"`{session}.exec()` takes parameters only as `params=`; this call raises `TypeError`"
        )
        fix = None
        has_params = any(
            arg.keyword is not None and arg.keyword.value == "params" for arg in node.args
        )
        if len(positional) == 2 and not has_params:
            fix = FixPlan(
                changes=(Insert(positional[1].value, "params="),),
                applicability=Applicability.SAFE,
                message="Pass the parameters as `params=`",
            )
        self.report(positional[1], message, fix)


RULE = ExecPositionalParams
