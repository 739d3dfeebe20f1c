"""WHERE001: `is`, `in`, `not`, `and`, `or` applied to column expressions in a SQL clause."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import scopes
from sqlsafe.checks.base import FixPlan, MemoKey, Replace, Rule
from sqlsafe.checks.names import COL, dotted
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

# Methods whose positional arguments are all conditions.
CONDITION_METHODS = frozenset({"where", "filter", "having"})
# Methods whose arguments after the first (the joined target) are the ON clause.
JOIN_METHODS = frozenset({"join", "outerjoin"})
LIBRARIES = ("sqlalchemy", "sqlmodel")
# The modules that define or re-export `and_`, `or_`, `not_` and `case`.
FUNCTION_MODULES = (
    "sqlalchemy",
    "sqlalchemy.sql",
    "sqlalchemy.sql.expression",
    "sqlmodel",
    "sqlmodel.sql.expression",
)
# Calls that make a table: `.c.<name>` of one is a column.
TABLES = frozenset(
    {
        "sqlalchemy.Table",
        "sqlalchemy.table",
        "sqlalchemy.schema.Table",
        "sqlalchemy.sql.table",
        "sqlalchemy.sql.expression.table",
    }
)
# Calls that make a column without a table.
COLUMNS = frozenset(
    {
        "sqlalchemy.column",
        "sqlalchemy.literal_column",
        "sqlalchemy.sql.column",
        "sqlalchemy.sql.expression.column",
        "sqlalchemy.sql.expression.literal_column",
    }
)
CONSTANTS = frozenset({"None", "True", "False"})
CLAUSE_FUNCTIONS = frozenset({"and_", "or_", "not_", "case"})
TRUTH_RAISES = "`TypeError: Boolean value of this clause is not defined`"


def _bare(node: cst.BaseExpression) -> cst.BaseExpression:
    """`node` without the parentheses it needs no more as a call's argument (a tuple's and a
    generator's are part of them)."""
    if not node.lpar or isinstance(node, (cst.Tuple, cst.GeneratorExp)):
        return node
    return node.with_changes(lpar=(), rpar=())


def _needs_parentheses(node: cst.BaseExpression) -> bool:
    atoms = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)
    return not node.lpar and not isinstance(node, atoms)


def _operands(node: cst.BooleanOperation) -> list[cst.BaseExpression]:
    """`a and b and c` -> [a, b, c]: the chain of one operator, as `and_()` takes it."""
    kind = type(node.operator)
    found: list[cst.BaseExpression] = []
    for side in (node.left, node.right):
        if isinstance(side, cst.BooleanOperation) and type(side.operator) is kind and not side.lpar:
            found.extend(_operands(side))
        else:
            found.append(side)
    return found


_IMPORTS: MemoKey[frozenset[str]] = MemoKey("names WHERE001 finds imported")


class PythonOperatorInClause(Rule):
    """
    ## What it does
    Checks for Python's `is None`, `is not None`, `is True`, `is False`, `in`, `not`, `and`
    and `or` applied to column expressions inside `where()`, `filter()`, `having()`, the
    ON clause of `join()` / `outerjoin()`, `and_()` / `or_()` / `not_()`, and the conditions
    of `case((condition, value), ...)`.

    ## Why is this bad?
    SQLAlchemy builds SQL from Python operators it can overload: `==`, `!=`, `<`, `&`, `|`,
    `~`. Python evaluates `is`, `in`, `not`, `and` and `or` itself, before SQLAlchemy sees
    the expression, and the clause gets a plain Python value:

    - `where(Squad.gone is None)` is `where(False)`, `WHERE false`: the query silently
      returns no rows (`is not None` is `WHERE true`: every row);
    - `where(Squad.id in ids)` is `where(False)` too (`not in`: every row);
    - `where(Squad.active and Squad.name == "red")` keeps only one of the two conditions (a
      mapped attribute is always true, and `a == b` is true only when both sides are the same
      object); `not Squad.active` is `False`, and `not (Squad.name == "red")` is `True`;
    - for any other clause (`Squad.id > 1`, `Squad.name.like(...)`, `and_(...)`) `not`,
      `and` and `or` raise `TypeError: Boolean value of this clause is not defined`;
    - `"red" in Squad.name` raises `NotImplementedError: Operator 'contains' is not
      supported on this expression`.

    Ruff's E711 and E712 fixes turn `== None` and `== True` into this mistake.

    ## Example
    ```python
    from sqlmodel import Session, select

    def active_users(session: Session, ids: list[int]) -> list[User]:
        stmt = select(User).where(User.team_id is not None, User.id in ids)
        return session.exec(stmt).all()
    ```

    Use instead:
    ```python
    from sqlmodel import Session, select

    def active_users(session: Session, ids: list[int]) -> list[User]:
        stmt = select(User).where(User.team_id.is_not(None), User.id.in_(ids))
        return session.exec(stmt).all()
    ```

    ## When it reports
    A column expression is decided from resolved names: an attribute of a model the project
    index knows (a SQLModel table model, or a declarative class with `Column` /
    `mapped_column` attributes), `sqlmodel.col(...)` of one, `table.c.name` of a name
    assigned only from `Table(...)` / `table(...)` (or `Model.__table__.c.name`),
    `column(...)`, a method called on one, a comparison or arithmetic with one, or a
    SQLAlchemy or SQLModel function called with one.
    `if user.deleted_at is None:` (an instance, not the class), `is None` outside a clause,
    and method names alone (`where` of an unrelated object) are not reported.

    ## Fix safety
    `X is None` becomes `X.is_(None)` (`is_not`, `is_(True)`, `is_(False)` alike), `X in v`
    becomes `X.in_(v)` (`not_in`), `not X` becomes `not_(X)` and `a and b` becomes
    `and_(a, b)` (`or_`), importing the function from `sqlalchemy` when the file does not
    have it. Each rewrite is one-to-one.

    The fix is safe when the code as written can only raise: `not`, `and` and `or` whose
    first truth test is of a clause that raises `TypeError`. Otherwise it is unsafe: the
    query returned no rows, every row, or ignored a condition, and after the fix it returns
    the rows the condition selects, which changes what the program does. No fix is offered
    for `value in column` (`.contains()` and `.in_()` mean different things), nor where a
    comment inside the expression would be lost, nor for `is`, `in` and `not` on a
    relationship (`.is_()` and `.in_()` raise `NotImplementedError` there, and `not_()` of
    one compares the key columns instead of testing for NULL: compare a many-to-one with
    `== None`, or use `.has()` / `.any()`).

    ## References
    - [SQLAlchemy: Operator reference](https://docs.sqlalchemy.org/en/20/core/operators.html)
    - [SQLAlchemy: `ColumnOperators.is_`](https://docs.sqlalchemy.org/en/20/core/sqlelement.html#sqlalchemy.sql.expression.ColumnOperators.is_)
    """

    code = "WHERE001"
    name = "python-operator-in-clause"
    summary = "Python `is`, `in`, `not`, `and` or `or` applied to a column in a SQL clause"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES
    triggers = ("where", "filter", "having", "join", "and_", "or_", "not_")

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        methods = syntax.method_calls(CONDITION_METHODS | JOIN_METHODS)
        if any(_python_operator_in(call) for call in methods):
            return True
        # `and_()`, `or_()`, `not_()` and `case()`, under whatever name they are imported.
        calls = (*syntax.other_calls, *syntax.method_calls(CLAUSE_FUNCTIONS))
        return any(
            _python_operator_in(call)
            and any(
                name.rpartition(".")[2] in CLAUSE_FUNCTIONS for name in syntax.qualnames(call.func)
            )
            for call in calls
        )

    def visit_Call(self, node: cst.Call) -> None:
        for condition in self._conditions(node):
            self._check(condition, in_boolean=False)

    # -- where conditions are ---------------------------------------------------------------

    def _conditions(self, call: cst.Call) -> list[cst.BaseExpression]:
        # `*conditions` adds conditions this rule cannot see; the others are still checked.
        positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
        func = call.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if method in CONDITION_METHODS:
                return positional
            if method in JOIN_METHODS:
                onclause = [
                    arg.value
                    for arg in call.args
                    if arg.keyword is not None and arg.keyword.value == "onclause"
                ]
                return positional[1:] + onclause
        function = self._library_function(func)
        if function in ("and_", "or_", "not_"):
            return positional
        if function == "case":
            # `case((condition, value), ...)`: the first element of each pair.
            return [
                value.elements[0].value
                for value in positional
                if isinstance(value, cst.Tuple) and value.elements
            ]
        return []

    def _library_function(self, func: cst.BaseExpression) -> str | None:
        """The name of the SQLAlchemy or SQLModel function `func` names, if it is one of the
        modules that define or re-export `and_`, `or_`, `not_` and `case`."""
        qualname = self._qualify(func)
        if qualname is None:
            return None
        module, _, name = qualname.rpartition(".")
        return name if module in FUNCTION_MODULES else None

    def _qualify(self, node: cst.BaseExpression) -> str | None:
        text = dotted(node)
        if text is None or not scopes.resolvable_here(self.context, text):
            return None
        return self.context.names.qualify(node)

    # -- what a column expression is --------------------------------------------------------

    def _attribute(self, node: cst.BaseExpression) -> bool:
        """A mapped attribute of a model class (`Squad.gone`), or `col()` of one."""
        return self._mapped(node) is not None

    def _relationship(self, node: cst.BaseExpression) -> bool:
        """A relationship of a model class: `.is_()` and `.in_()` raise on one, and `not_()`
        of one compares key columns."""
        return self._mapped(node) == "relationship"

    def _mapped(self, node: cst.BaseExpression) -> str | None:
        """ "column" or "relationship" for a mapped attribute of a model class."""
        if isinstance(node, cst.Call) and self._qualify(node.func) in COL and node.args:
            node = node.args[0].value
        if not isinstance(node, cst.Attribute):
            return None
        qualname = self._qualify(node.value)
        model = self.context.index.model(qualname) if qualname is not None else None
        if model is None:
            return None
        if node.attr.value in model.columns:
            return "column"
        return "relationship" if node.attr.value in model.relationships else None

    def _table_column(self, node: cst.BaseExpression) -> bool:
        """`logs.c.step_run_id`, with `logs` assigned only from `Table(...)` / `table(...)`
        here, or `Model.__table__.c.name`."""
        if not (
            isinstance(node, cst.Attribute)
            and isinstance(node.value, cst.Attribute)
            and node.value.attr.value in ("c", "columns")
        ):
            return False
        table = node.value.value
        if isinstance(table, cst.Attribute) and table.attr.value == "__table__":
            qualname = self._qualify(table.value)
            return qualname is not None and self.context.index.model(qualname) is not None
        if not isinstance(table, cst.Name):
            return False
        owners: list[cst.FunctionDef | cst.Module] = [
            *reversed(self.context.functions),
            self.context.module,
        ]
        for scope in owners:
            found = scopes.scope_of(self.context, scope)
            definitions = found.definitions.get(table.value, [])
            if not definitions and table.value not in found.params:
                continue
            return bool(definitions) and all(
                isinstance(definition.expression, cst.Call)
                and self._qualify(definition.expression.func) in TABLES
                for definition in definitions
            )
        return False

    def _column(self, node: cst.BaseExpression) -> bool:
        """Does `node` evaluate to a SQL expression built from a model's columns?"""
        if self._attribute(node) or self._table_column(node):
            return True
        if isinstance(node, cst.Call):
            func = node.func
            qualname = self._qualify(func)
            if qualname in COLUMNS:
                return True
            if qualname is not None and qualname.startswith(LIBRARIES):
                return any(self._column(arg.value) for arg in node.args)
            # A method of a column: `Squad.name.like("r%")`, `Squad.gone.is_(None)`.
            return isinstance(func, cst.Attribute) and self._column(func.value)
        if isinstance(node, cst.Comparison):
            if any(self._python_operator(target) for target in node.comparisons):
                return False
            sides = [node.left, *(target.comparator for target in node.comparisons)]
            return any(self._column(side) for side in sides)
        if isinstance(node, cst.UnaryOperation):
            return not isinstance(node.operator, cst.Not) and self._column(node.expression)
        if isinstance(node, cst.BinaryOperation):
            return self._column(node.left) or self._column(node.right)
        return False

    @staticmethod
    def _python_operator(target: cst.ComparisonTarget) -> bool:
        return isinstance(target.operator, (cst.Is, cst.IsNot, cst.In, cst.NotIn))

    def _truth_raises(self, node: cst.BaseExpression) -> bool:
        """Does `bool(node)` raise? A mapped attribute is true, and `==` / `!=` compare the
        identity of their operands; every other clause raises `TypeError`."""
        if self._attribute(node):
            return False
        equality = (cst.Equal, cst.NotEqual)
        if (
            isinstance(node, cst.Comparison)
            and len(node.comparisons) == 1
            and isinstance(node.comparisons[0].operator, equality)
        ):
            return False
        return self._column(node)

    def _involves_column(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.BooleanOperation):
            return any(self._involves_column(operand) for operand in (node.left, node.right))
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return self._involves_column(node.expression)
        if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            target = node.comparisons[0]
            if self._python_operator(target):
                return self._column(node.left) or self._column(target.comparator)
        return self._column(node)

    # -- the checks -------------------------------------------------------------------------

    def _check(self, node: cst.BaseExpression, in_boolean: bool) -> None:
        if isinstance(node, cst.BooleanOperation):
            if not in_boolean and self._involves_column(node):
                self._boolean(node)
            self._check(node.left, in_boolean=True)
            self._check(node.right, in_boolean=True)
        elif isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            if self._involves_column(node.expression):
                self._not(node)
            self._check(node.expression, in_boolean=False)
        elif isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
            target = node.comparisons[0]
            if isinstance(target.operator, (cst.Is, cst.IsNot)):
                self._identity(node, target)
            elif isinstance(target.operator, (cst.In, cst.NotIn)):
                self._membership(node, target)

    def _identity(self, node: cst.Comparison, target: cst.ComparisonTarget) -> None:
        for column, value in ((node.left, target.comparator), (target.comparator, node.left)):
            if not (isinstance(value, cst.Name) and value.value in CONSTANTS):
                continue
            if not self._column(column):
                continue
            negated = isinstance(target.operator, cst.IsNot)
            operator, method = ("is not", "is_not") if negated else ("is", "is_")
            # `is` compares two Python objects: a column is never None, True or False.
            outcome = "`true`, so every row matches" if negated else "`false`, so no row matches"
            constant = value.value
            message = (
                f"`{operator} {constant}` is evaluated by Python before SQLAlchemy sees it: "
                f"the condition is the constant {outcome}"
            )
            if self._relationship(column):
                message += f"; use `{'!=' if negated else '=='} None` or `.has()`"
                self._report(node, message, None, Applicability.UNSAFE)
                return
            replacement = f"{self._receiver(column)}.{method}({constant})"
            message += f"; use `.{method}({constant})`"
            self._report(node, message, replacement, Applicability.UNSAFE)
            return

    def _membership(self, node: cst.Comparison, target: cst.ComparisonTarget) -> None:
        negated = isinstance(target.operator, cst.NotIn)
        operator = "not in" if negated else "in"
        if self._column(node.left):
            outcome = "`true`" if negated else "`false`"
            matches = "every row matches" if negated else "no row matches"
            method = "not_in" if negated else "in_"
            message = (
                f"`{operator}` is evaluated by Python before SQLAlchemy sees it: the condition "
                f"is {outcome} for a list of values, so {matches}; use `.{method}()`"
            )
            values = self.context.module.code_for_node(target.comparator)
            replacement = None
            if not self._relationship(node.left):
                replacement = f"{self._receiver(node.left)}.{method}({values})"
            self._report(node, message, replacement, Applicability.UNSAFE)
        elif self._column(target.comparator):
            message = (
                f"`{operator}` with a column on the right raises `NotImplementedError: "
                "Operator 'contains' is not supported on this expression`; use `.in_()` or "
                "`.contains()`"
            )
            self._report(node, message, None, Applicability.UNSAFE)

    def _not(self, node: cst.UnaryOperation) -> None:
        operand = node.expression
        raises = self._truth_raises(operand)
        outcome = f"raises {TRUTH_RAISES}" if raises else "is a constant, not a SQL `NOT`"
        message = f"`not` is evaluated by Python before SQLAlchemy sees it: it {outcome}"
        function = self._function("not_")
        replacement = None
        if function is not None and not self._relationship(operand):
            code = self.context.module.code_for_node(_bare(operand))
            replacement = (f"{function[0]}({code})", function[1])
        self._report(
            node,
            message + "; use `not_()`",
            replacement,
            Applicability.SAFE if raises else Applicability.UNSAFE,
        )

    def _boolean(self, node: cst.BooleanOperation) -> None:
        word = "and" if isinstance(node.operator, cst.And) else "or"
        operands = _operands(node)
        raises = self._truth_raises(operands[0])
        outcome = (
            f"raises {TRUTH_RAISES}"
            if raises
            else "keeps only one of its operands, so a condition is silently dropped"
        )
        message = f"`{word}` is evaluated by Python before SQLAlchemy sees it: it {outcome}"
        replacement = self._conjunction_call(node)
        self._report(
            node,
            message + f"; use `{word}_()`",
            replacement,
            Applicability.SAFE if raises else Applicability.UNSAFE,
        )

    def _conjunction_call(
        self, node: cst.BooleanOperation
    ) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        """`and_(a, b)` for `a and b`, nested chains of the other operator converted too."""
        function = self._function("and_" if isinstance(node.operator, cst.And) else "or_")
        if function is None:
            return None
        name, imports = function
        parts = []
        code = self.context.module.code_for_node
        for operand in _operands(node):
            if isinstance(operand, cst.BooleanOperation):
                inner = self._conjunction_call(operand)
                if inner is None:
                    return None
                parts.append(inner[0])
                imports += inner[1]
            else:
                parts.append(code(_bare(operand)))
        if code(node).count("#") != sum(part.count("#") for part in parts):
            return None
        return f"{name}({', '.join(parts)})", imports

    # -- fixes ------------------------------------------------------------------------------

    def _receiver(self, column: cst.BaseExpression) -> str:
        code = self.context.module.code_for_node(column)
        return f"({code})" if _needs_parentheses(column) else code

    def _function(self, name: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
        """How to call SQLAlchemy's `name` here, and the import that needs."""
        names = [
            (local, qualname)
            for local, qualname in self.context.names.names.items()
            if self._imported_here(local)
        ]
        for local, qualname in names:
            module, _, defined = qualname.rpartition(".")
            if module in FUNCTION_MODULES and defined == name:
                return local, ()
        for local, qualname in names:
            if qualname in FUNCTION_MODULES:
                return f"{local}.{name}", ()
        if name in self.context.names.names or self._bound_in_function(name):
            return None
        return name, (("sqlalchemy", name),)

    def _imported_here(self, local: str) -> bool:
        """Is `local` bound by an import that has run wherever this code runs: one at the top
        of the module (not under `if TYPE_CHECKING:` or in another function), or one in an
        enclosing function?"""
        if not scopes.resolvable_here(self.context, local):
            return False
        for function in self.context.functions:
            definitions = scopes.scope_of(self.context, function).definitions.get(local)
            if definitions:
                return all(definition.kind == "import" for definition in definitions)
        return local in self.context.memo(_IMPORTS, self.context.module, self._imports)

    def _imports(self) -> frozenset[str]:
        found = set()
        for statement in self.context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(
                    small.names, cst.ImportStar
                ):
                    for alias in small.names:
                        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                            found.add(alias.asname.name.value)
                        else:
                            found.add((dotted(alias.name) or "").partition(".")[0])
        return frozenset(found)

    def _bound_in_function(self, name: str) -> bool:
        for function in self.context.functions:
            scope = scopes.scope_of(self.context, function)
            if name in scope.params or name in scope.definitions:
                return True
        return False

    def _report(
        self,
        node: cst.BaseExpression,
        message: str,
        replacement: str | tuple[str, tuple[tuple[str, str], ...]] | None,
        applicability: Applicability,
    ) -> None:
        fix = None
        if replacement is not None:
            text, imports = (replacement, ()) if isinstance(replacement, str) else replacement
            if node.lpar:
                text = f"({text})"
            fix = FixPlan(
                (Replace(node, text),), applicability, "Use the SQL operator", imports=imports
            )
        self.report(node, message, fix)


def _python_operator_in(call: ast.Call) -> bool:
    """Whether a condition the rule reads in `call` (a positional argument, `onclause=`, the
    first element of a `case()` pair) is an `and`, `or`, `not`, `is` or `in` itself: the
    rule reports only these and the ones inside them."""
    conditions = [arg for arg in call.args if type(arg) is not ast.Starred]
    conditions += [k.value for k in call.keywords if k.arg == "onclause"]
    conditions += [c.elts[0] for c in conditions if type(c) is ast.Tuple and c.elts]
    return any(_python_operator(condition) for condition in conditions)


def _python_operator(node: ast.expr) -> bool:
    kind = type(node)
    if kind is ast.BoolOp:
        return True
    if kind is ast.UnaryOp:
        return type(node.op) is ast.Not  # type: ignore[attr-defined]
    return (
        kind is ast.Compare
        and len(node.ops) == 1  # type: ignore[attr-defined]
        and type(node.ops[0]) in (ast.Is, ast.IsNot, ast.In, ast.NotIn)  # type: ignore[attr-defined]
    )


RULE = PythonOperatorInClause
