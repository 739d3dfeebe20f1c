"""ROW005: a version shim that tests whether a query result is a model or a Row."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import shims, statements
from sqlsafe.checks.base import FileContext, FixPlan, Rule
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax


class RowModelShim(Rule):
    """
    ## What it does
    Checks for code that handles a query result both as a model instance and as a Row
    ("version shims") when the query is proven to give only one of them: an `if`/`elif`
    chain or a conditional expression testing `hasattr(x, "<field>")`,
    `hasattr(x, "__getitem__")`, `hasattr(x, "_mapping")`, `getattr(x, "_mapping", None)`,
    `isinstance(x, Row)`, `isinstance(x, tuple)` or `isinstance(x, <Model>)`, and a `try`
    around `x[0]` whose `except` catches the `TypeError` that indexing a model raises.

    ## Why is this bad?
    What `.first()` returns depends on the call and the `select`, not on the SQLModel
    version: `session.exec()` of a one-argument `sqlmodel.select(User)` gives `User`
    objects, and `session.execute()` (or a SQLAlchemy `select`) gives Rows. Once the query
    is known, one side of the shim is dead code: it never runs, it hides which shape the
    code really gets, and the dead side looks like a bug (`x[0]` on a model) to readers and
    to other checks. Removing these shims is the cleanup this migration exists for.

    ## Example
    ```python
    def find_key(session: Session, h: str) -> APIKey | None:
        result = session.exec(select(APIKey).where(APIKey.key_hash == h)).first()
        if result is None:
            key = None
        elif hasattr(result, "key_hash"):  # already a model
            key = result
        else:  # a Row
            key = result[0]
        return key
    ```

    Use instead:
    ```python
    def find_key(session: Session, h: str) -> APIKey | None:
        result = session.exec(select(APIKey).where(APIKey.key_hash == h)).first()
        if result is None:
            key = None
        else:  # already a model
            key = result
        return key
    ```

    ## When it reports
    Only when every way the tested variable gets its value is proven to give the same shape
    (the conditions of `ROW001` for models, of `ROW004` for Rows), so that the test has
    one value wherever it runs. A test on a field (`hasattr(x, "email")`) needs the project
    index to know the model's fields. `None` from `.first()` is taken into account: a
    chain that tests `x is None` first is decided by the probe after it.

    `ROW001`-`ROW004` do not report code in a branch that such a test makes unreachable.

    ## Fix safety
    The fix collapses the shim to the branch that runs and is safe: the tests it removes
    only read the variable (or never run), and the code it removes never runs. The live
    branch keeps its comments; the test that decides becomes an `else`, or the `if`
    statement is replaced by the branch's statements; a `try` becomes the statements of the
    part that runs. An `if` with no `else` whose test is always false is deleted (the
    comment lines above it stay).

    There is no fix when a test that runs and that the fix removes or turns into the `else`
    does more than probe the variable (a call in it would no longer run), when the `except`
    binds the exception (`as error`) or the `try` has a `finally`, when the code holds a
    string spanning lines (re-indenting would change it), or when the `if` to delete is the
    only statement of its block.

    ## References
    - [SQLModel: Read one row](https://sqlmodel.tiangolo.com/tutorial/one/)
    - [SQLAlchemy: `Row`](https://docs.sqlalchemy.org/en/20/core/connections.html#sqlalchemy.engine.Row)
    """

    code = "ROW005"
    name = "row-model-shim"
    summary = "A test of a query result's shape (model or Row) whose answer is known"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    triggers = statements.RESULT_TRIGGERS

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        # A shim is dead code only where a query's result is proven.
        return syntax.runs_statement()

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._candidates: set[cst.CSTNode] = set()
        """Scopes that spell a probe or hold a `try`: only they can hold a shim. Noted on
        the way down, so that the other scopes are reported on at their end without a walk
        of their own (most functions test nothing)."""

    def _scope(self) -> cst.CSTNode:
        return self.context.functions[-1] if self.context.functions else self.context.module

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in shims.PROBES:
            self._candidates.add(self._scope())

    def visit_Try(self, node: cst.Try) -> None:
        self._candidates.add(self._scope())

    def leave_Module(self, original_node: cst.Module) -> None:
        self._report(original_node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._report(original_node)

    def _report(self, scope: cst.CSTNode) -> None:
        if scope not in self._candidates:
            return
        for shim in shims.shims(self.context, scope):
            fix = None
            if shim.fix is not None:
                fix = FixPlan(shim.fix, Applicability.SAFE, "Keep only the code that runs")
            self.report(shim.guard, shim.message, fix)


RULE = RowModelShim
