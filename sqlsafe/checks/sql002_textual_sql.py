"""SQL002: a plain string passed as the statement to a session or connection."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Literal

import libcst as cst

from sqlsafe.checks import scopes
from sqlsafe.checks.base import FixPlan, Insert, Rule
from sqlsafe.checks.connections import is_connection
from sqlsafe.checks.names import TEXT
from sqlsafe.checks.sessions import is_sqlmodel_session, kind_of, receiver_session
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

METHODS = frozenset({"exec", "execute", "scalar", "scalars"})

Built = Literal["literal", "runtime"]


class TextualSqlWithoutText(Rule):
    """
    ## What it does
    Checks for a plain string passed as the statement to `exec()`, `execute()`, `scalar()`
    or `scalars()` of a SQLModel or SQLAlchemy `Session`/`AsyncSession`, or to `execute()`,
    `scalar()` or `scalars()` of a SQLAlchemy `Connection`/`AsyncConnection`, such as
    `session.execute("select count(*) from hero")`.

    ## Why is this bad?
    SQLAlchemy 2.x no longer turns strings into SQL. A session raises
    `ArgumentError: Textual SQL expression 'select 1' should be explicitly declared as
    text('select 1')`, and a connection raises `ObjectNotExecutableError: Not an executable
    object: 'select 1'`. Code written for SQLAlchemy 1.x, which accepted the string, fails only
    when the line runs.

    A string assembled at run time (an f-string, `%`, `+` or `.format()`) is also an SQL
    injection risk: the values belong in bind parameters, not in the SQL text.

    ## Example
    ```python
    from sqlmodel import Session

    def count_heroes(session: Session) -> int:
        return session.execute("select count(*) from hero").scalar_one()

    def heroes_named(session: Session, name: str):
        return session.execute(f"select * from hero where name = '{name}'").all()
    ```

    Use instead:
    ```python
    from sqlalchemy import text
    from sqlmodel import Session

    def count_heroes(session: Session) -> int:
        return session.execute(text("select count(*) from hero")).scalar_one()

    def heroes_named(session: Session, name: str):
        return session.execute(
            text("select * from hero where name = :name"), {"name": name}
        ).all()
    ```

    ## When it reports
    The receiver must be proven to be a session (as for `SQL001`: a `with Session(...)`
    block, a session factory, an annotated parameter; `exec()` only on SQLModel sessions) or
    a connection (a parameter annotated `Connection`, `engine.connect()`/`engine.begin()` of
    an engine made by `create_engine()` in the same module or annotated `Engine`, Alembic's
    `op.get_bind()`). The statement is a string literal, or a local variable or module
    constant every assignment of which is one. Alembic's `op.execute("...")` takes strings
    and is not reported.

    ## Fix safety
    The fix wraps a string literal (or the variable holding one) in `text(...)` and imports
    `text` if needed. It is safe: the call can only raise as written, and `text()` is the
    declaration the error asks for, the same SQL with `:name` read as a bind parameter (so
    parameters passed beside it, `execute(sql, {"name": ...})`, keep working). A string built
    at run time gets no fix: its values must become bind parameters, which needs a person.

    ## References
    - [SQLAlchemy 2.0 migration: `text()` is required](https://docs.sqlalchemy.org/en/20/changelog/migration_20.html#execute-method-more-strict-execution-options-are-more-prominent)
    - [SQLAlchemy: `text()`](https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.text)
    """

    code = "SQL002"
    name = "textual-sql-without-text"
    summary = "Plain string passed as SQL to a session or connection"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = ("exec", "scalar")

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        return any(
            call.args and _may_be_string(call.args[0]) for call in syntax.method_calls(METHODS)
        )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value not in METHODS:
            return
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            return
        statement = node.args[0].value
        built = self._string(statement)
        if built is None:
            return
        receiver = self._receiver(func.value, func.attr.value)
        if receiver is None:
            return
        call = f"`{receiver}.{func.attr.value}()`"
        error = "ObjectNotExecutableError" if "Connection" in receiver else "ArgumentError"
        if built == "runtime":
            message = (
                f"SQL string built at run time passed to {call}: SQLAlchemy 2.x raises "
                f"`{error}`; use `text()` with bind parameters for the values"
            )
            self.report(statement, message)
            return
        message = (
            f"Plain string passed to {call}: SQLAlchemy 2.x raises `{error}`; "
            "declare it with `text()`"
        )
        self.report(statement, message, self._fix(statement))

    def _receiver(self, receiver: cst.BaseExpression, method: str) -> str | None:
        """The receiver's class as the message names it, if it is proven."""
        kind = kind_of(receiver_session(self.context, receiver))
        if kind is not None:
            if method == "exec" and not is_sqlmodel_session(self.context, kind):
                return None
            return "AsyncSession" if kind.is_async else "Session"
        if method != "exec" and is_connection(self.context, receiver):
            return "Connection"
        return None

    def _string(self, expression: cst.BaseExpression) -> Built | None:
        """Whether `expression` is a string literal, a string built at run time, or neither."""
        if isinstance(expression, cst.Name):
            return self._variable(expression)
        return string_kind(expression)

    def _variable(self, name: cst.Name) -> Built | None:
        """A local variable (or module constant) whose every assignment is a string."""
        owner = self.context.functions[-1] if self.context.functions else self.context.module
        scope = scopes.scope_of(self.context, owner)
        if name.value in scope.params or name.value in scope.declared:
            return None
        definitions = scope.reaching(name.value, name)
        if not definitions and owner is not self.context.module:
            if scopes.bound_locally(self.context, name.value):
                return None
            definitions = scopes.scope_of(self.context, self.context.module).definitions.get(
                name.value, []
            )
        kinds = {
            string_kind(d.expression) if d.kind == "value" and d.expression is not None else None
            for d in definitions
        }
        if not kinds or None in kinds:
            return None
        return "runtime" if "runtime" in kinds else "literal"

    def _fix(self, statement: cst.BaseExpression) -> FixPlan | None:
        imports: tuple[tuple[str, str], ...] = ()
        bound = self.context.names.names.get("text")
        if bound is None:
            if scopes.bound_locally(self.context, "text"):
                return None
            imports = (("sqlalchemy", "text"),)
        elif bound not in TEXT or scopes.bound_locally(self.context, "text"):
            return None
        return FixPlan(
            changes=(Insert(statement, "text("), Insert(statement, ")", before=False)),
            applicability=Applicability.SAFE,
            message="Wrap the SQL in `text()`",
            imports=imports,
        )


def string_kind(expression: cst.BaseExpression) -> Built | None:
    """A str literal ("literal"), a str assembled from one at run time ("runtime"), or None."""
    if isinstance(expression, cst.SimpleString):
        return None if "b" in expression.prefix.lower() else "literal"
    if isinstance(expression, cst.FormattedString):
        dynamic = any(isinstance(p, cst.FormattedStringExpression) for p in expression.parts)
        return "runtime" if dynamic else "literal"
    if isinstance(expression, cst.ConcatenatedString):
        parts = {string_kind(expression.left), string_kind(expression.right)}
        if None in parts:
            return None
        return "runtime" if "runtime" in parts else "literal"
    if isinstance(expression, cst.BinaryOperation):
        if isinstance(expression.operator, cst.Modulo):
            return "runtime" if string_kind(expression.left) is not None else None
        if isinstance(expression.operator, cst.Add):
            sides = {string_kind(expression.left), string_kind(expression.right)}
            if sides == {"literal"}:
                return "literal"
            return "runtime" if sides - {None} else None
        return None
    if (
        isinstance(expression, cst.Call)
        and isinstance(expression.func, cst.Attribute)
        and expression.func.attr.value == "format"
        and string_kind(expression.func.value) is not None
    ):
        return "runtime"
    return None


def _may_be_string(expression: ast.expr) -> bool:
    """What `string_kind` may take for a string, or a variable that may hold one."""
    kind = type(expression)
    if kind is ast.Constant:
        return isinstance(expression.value, str)  # type: ignore[attr-defined]
    if kind is ast.Call:
        func = expression.func  # type: ignore[attr-defined]
        return type(func) is ast.Attribute and func.attr == "format"
    return kind is ast.Name or kind is ast.JoinedStr or kind is ast.BinOp


RULE = TextualSqlWithoutText
