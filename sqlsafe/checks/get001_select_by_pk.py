"""GET001: a lookup by the whole primary key written as a query instead of `Session.get()`."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks import queries, scopes, statements
from sqlsafe.checks.base import FileContext, FixPlan, ModelFacts, Replace, Rule
from sqlsafe.checks.names import COL, dotted
from sqlsafe.checks.queries import Shape
from sqlsafe.checks.sessions import is_sqlmodel_session, kind_of, receiver_session
from sqlsafe.diagnostics import Applicability, FixAvailability, Severity
from sqlsafe.traversal import children

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

# `Session.get_one()` appeared in SQLAlchemy 2.0.22; `Session.get()` in 1.4.
GET_ONE_VERSION = (2, 0, 22)
GET_VERSION = (1, 4)

FILTERS = frozenset({"where", "filter", "filter_by"})
# Terminal method -> the Session method that does the same by primary key, for the terminals
# that give the model itself on a ScalarResult (ON_MODELS) and on a Result of Rows (ON_ROWS).
ON_MODELS, ON_ROWS = (
    {
        name: "get_one" if shape is Shape.ONE else "get"
        for name, (shape, column) in queries.TERMINALS.items()
        if shape is not Shape.LIST and column == takes_column
    }
    for takes_column in (False, True)
)


@dataclass(frozen=True)
class Lookup:
    session: cst.BaseExpression
    entity: str
    keys: dict[str, cst.BaseExpression]
    """Primary-key attribute -> the value compared with it, in mapper order (in the order
    written when `as_dict`)."""
    as_dict: bool
    """Pass the key as `{"attribute": value}`: the mapper's order is version-dependent."""
    for_update: str | None
    """The `with_for_update=` argument `get` needs, as code."""
    method: str
    awaited: bool
    fixable: bool = True
    """False for a statement held in a variable: the rewrite would leave its assignment
    behind, and a fix cannot yet remove a statement."""
    result_value: cst.BaseExpression | None = None
    """For a result held in a variable, the awaited call assigned to it: the fix puts the
    `get` there, and the variable in place of the method called on it."""


class SelectByPrimaryKey(Rule):
    """
    ## What it does
    Checks for a query that loads one model by its whole primary key and nothing else, such
    as `session.exec(select(User).where(User.id == user_id)).first()`, where
    `session.get(User, user_id)` says the same thing.

    Also checks for the legacy `session.query(User).get(user_id)`.

    ## Why is this bad?
    `Session.get()` is SQLAlchemy's and SQLModel's way to load an object by primary key. It
    looks in the session's identity map first and returns an object the session already
    holds without sending any SQL; the query always makes a round trip to the database (and
    then returns that same object anyway). It also states the intent in one call instead of
    a statement, a condition per key column and a result method.

    `Query.get()` is deprecated since SQLAlchemy 1.4 (a `LegacyAPIWarning` on 2.x);
    `Session.get()` is its replacement.

    ## Example
    ```python
    from sqlmodel import Session, select

    def load(session: Session, user_id: int) -> User | None:
        return session.exec(select(User).where(User.id == user_id)).first()
    ```

    Use instead:
    ```python
    from sqlmodel import Session

    def load(session: Session, user_id: int) -> User | None:
        return session.get(User, user_id)
    ```

    ## When it reports
    The statement is `select(Model)` (SQLModel's or SQLAlchemy's) or
    `session.query(Model)` with one entity, filtered with `.where()` / `.filter()` (`==` in
    either order, several conditions or `and_(...)`) or `.filter_by()` on every
    primary-key column of the model and nothing else, written inline and run on a proven
    session:

    - `session.exec(stmt).first()` / `.one_or_none()` (a SQLModel `select`);
    - `session.execute(stmt).scalar_one_or_none()` / `.scalar()` and
      `session.execute(stmt).scalars().first()` / `.one_or_none()`;
    - `session.scalars(stmt).first()` / `.one_or_none()` and `session.scalar(stmt)`;
    - `session.query(Model).filter(...).first()` / `.one_or_none()`;
    - the `await`ed forms on an `AsyncSession`: `(await session.exec(stmt)).first()` becomes
      `await session.get(Model, key)`;
    - an awaited result held in a variable that is assigned once and used once:
      `result = await session.execute(stmt)` then `result.scalar_one_or_none()` becomes
      `result = await session.get(Model, key)` then `result`;
    - `.one()` / `.scalar_one()`, which become `session.get_one()`, only when
      `sqlalchemy-version` is 2.0.22 or later (`get_one` does not exist before).

    The model and its primary key come from the project index: a column named `id` is not
    taken for the key, and a model the index does not know is not reported. A composite key
    needs a condition on every key column and becomes a tuple in the mapper's key order.

    A statement held in a local variable (`stmt = select(User).where(...)`, then
    `session.exec(stmt).first()`) is reported when only one assignment can reach the use,
    without a fix: the rewrite would leave the assignment behind.

    Not reported: a partial key, extra conditions, joins, ordering, limits, `.options()` and
    `.execution_options()`, `.distinct()`, `.all()`, `session.execute(stmt).first()` (a Row,
    not the model), a comparison with `None`, a synchronous result held in a variable before
    `.first()` (SQLModel's tutorials teach that form) or a result variable used again,
    a statement that is a parameter or reassigned on some path, and receivers that are not
    proven to be sessions.

    ## Fix safety
    The fix for a query is unsafe: `get` and the query differ in edge cases, measured on
    SQLModel 0.0.8, 0.0.22 and 0.0.50 with SQLAlchemy 1.4, 2.0 and 2.1:

    - **Autoflush**: the query flushes pending changes before it runs; `get` does not
      flush when the object is already in the session.
    - **Unflushed deletes**: after `session.delete(obj)` without a flush, `get` returns the
      deleted object; the query flushes the `DELETE` and returns `None`.
    - **Global criteria**: `with_loader_criteria` options added in a `do_orm_execute` hook
      (soft-delete or tenant filters) are skipped by `get` when the object is already in the
      identity map, so it can return a row the query hides.
    - **Round trips**: `get` sends no SQL when the object is loaded (and still referenced:
      the identity map holds objects weakly); the query always does. Neither refreshes the
      attributes of an object already loaded.
    - **Key types**: a key of the wrong type (`"1"` for an integer key) misses the identity
      map, so `get` queries, and returns the same object.
    - **`with_for_update`**: `.with_for_update()` becomes `with_for_update=True` (or a dict
      of its arguments); `get` then always queries, like the statement.
    - **`.one()`**: becomes `get_one()`, which raises `NoResultFound` for a missing row like
      `.one()`; it does not exist before SQLAlchemy 2.0.22.
    - **Composite keys**: the tuple is in mapper order; when that order depends on the
      SQLAlchemy version (key columns declared in several classes), the fix passes a dict of
      attribute names instead, which `get` accepts on 1.4 and later.

    Rewriting the select-by-key lookups of a real project's test suite to `get` made 2 of its
    60 tests fail. A project that uses no `do_orm_execute` / `with_loader_criteria` hooks
    and accepts the autoflush difference can mark the fix safe with
    `lint.extend-safe-fixes = ["GET001"]`.

    The fix for `session.query(Model).get(key)` is safe: `Session.get()` is the documented
    replacement and behaves the same.

    ## References
    - [SQLAlchemy: `Session.get`](https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.get)
    - [SQLAlchemy: `Session.get_one`](https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.get_one)
    - [SQLAlchemy 2.0 migration: `Query.get()`](https://docs.sqlalchemy.org/en/20/changelog/migration_20.html#orm-query-get-method-moves-to-session)
    - [SQLModel: Read one row with `get`](https://sqlmodel.tiangolo.com/tutorial/one/#select-data-with-get)
    """

    code = "GET001"
    name = "select-by-primary-key"
    summary = "Lookup by primary key written as a query; use `Session.get()`"
    severity = Severity.WARNING
    fix_availability = FixAvailability.SOMETIMES
    triggers = (*statements.RESULT_TRIGGERS, "query")

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        # A lookup compares every key column with `==` (or names it in `filter_by`) in a
        # statement a session runs or a legacy query; `query(Model).get(key)` is the other.
        if any(_may_compare_keys(call) for call in syntax.method_calls(FILTERS)):
            return any(syntax.method_calls(("exec", "execute", "scalars", "scalar", "query")))
        return any(
            type(call.func.value) is ast.Call  # type: ignore[attr-defined]
            for call in syntax.method_calls(("get",))
        ) and any(syntax.method_calls(("query",)))

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # Expressions used as operands of `.attr` or `[...]`: an `await` put in their place
        # needs parentheses.
        self.operands: set[cst.CSTNode] = set()
        self.awaited: set[cst.CSTNode] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.operands.add(node.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self.operands.add(node.value)

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(node.expression)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not statements.is_relevant(self.context):
            return
        if func.attr.value == "get":
            self._legacy_get(node, func)
            return
        lookup = self._session_scalar(node, func) or self._terminal(node, func)
        if lookup is None:
            return
        call = f"{dotted(lookup.session) or 'session'}.{lookup.method}()"
        self.report(
            node,
            f"`{lookup.entity}` is loaded by its primary key with a query; use `{call}`",
            self._fix(node, lookup, Applicability.UNSAFE),
        )

    # -- the forms --------------------------------------------------------------------------

    def _legacy_get(self, node: cst.Call, func: cst.Attribute) -> None:
        """`session.query(Model).get(key)`."""
        key = _only_argument(node)
        if key is None or node in self.awaited or not isinstance(func.value, cst.Call):
            return
        if self.context.settings.sqlalchemy_version < GET_VERSION:
            return
        query = self._query(func.value)
        if query is None or query[2]:
            return
        session, entity, _ = query
        text = dotted(entity)
        if text is None or self._model(entity) is None:
            return
        # The key goes over as written, whatever the model's key columns are called.
        lookup = Lookup(session, text, {"": key}, False, None, "get", awaited=False)
        self.report(
            node,
            "`Query.get()` is deprecated; use `Session.get()`",
            self._fix(node, lookup, Applicability.SAFE),
        )

    def _session_scalar(self, node: cst.Call, func: cst.Attribute) -> Lookup | None:
        """`session.scalar(stmt)` and `await session.scalar(stmt)`."""
        statement = _only_argument(node)
        if func.attr.value != "scalar" or statement is None:
            return None
        awaited = node in self.awaited
        return self._lookup(func.value, "scalar", statement, "scalar", awaited, False)

    def _terminal(self, node: cst.Call, func: cst.Attribute) -> Lookup | None:
        """`<result>.first()` and the other one-object methods, on each way to a result."""
        method = func.attr.value
        if node.args or method not in ON_MODELS.keys() | ON_ROWS.keys():
            return None
        result, awaited = _unawait(func.value)
        through_scalars = _calls(result, "scalars") and not awaited
        if through_scalars:
            result, awaited = _unawait(result.func.value)  # type: ignore[attr-defined]
        held = self._held_result(result) if not awaited else None
        if held is not None:
            result, awaited = _unawait(held)
        if not isinstance(result, cst.Call) or not isinstance(result.func, cst.Attribute):
            return None
        if _is_query(result):
            if through_scalars or awaited or method not in ON_MODELS:
                return None
            return self._query_lookup(result, ON_MODELS[method])
        producer = result.func.attr.value
        statement = _only_argument(result)
        if producer not in ("exec", "execute", "scalars") or statement is None:
            return None
        lookup = self._lookup(
            result.func.value, producer, statement, method, awaited, through_scalars
        )
        if lookup is None or held is None:
            return lookup
        return dataclasses.replace(lookup, result_value=held)

    def _lookup(
        self,
        receiver: cst.BaseExpression,
        producer: str,
        statement: cst.BaseExpression,
        method: str,
        awaited: bool,
        through_scalars: bool,
    ) -> Lookup | None:
        """A select run by `session.<producer>(statement)`, then `.scalars()` if
        `through_scalars`, then `.<method>()`."""
        kind = kind_of(receiver_session(self.context, receiver))
        if kind is None or kind.is_async != awaited:
            return None
        if producer == "exec" and not is_sqlmodel_session(self.context, kind):
            return None
        held = self._held_statement(statement)
        chain = _chain(held or statement)
        if chain is None:
            return None
        base, filters = chain
        library = queries.select_library(self.context, base.func, self.context.functions)
        if library not in ("sqlmodel", "sqlalchemy"):
            return None
        # A ScalarResult has no `.scalars()`.
        scalar_result = queries.yields_models(producer, library, 1)
        if through_scalars and scalar_result:
            return None
        if producer == "scalar":
            table = {"scalar": "get"}
        else:
            table = ON_MODELS if scalar_result or through_scalars else ON_ROWS
        if method not in table:
            return None
        lookup = self._keyed(receiver, _only_argument(base), filters, table[method], awaited)
        if lookup is not None and held is not None:
            lookup = dataclasses.replace(lookup, fixable=False)
        return lookup

    def _held_statement(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        """What a local variable holds when only one assignment can reach this use."""
        if not isinstance(node, cst.Name):
            return None
        scope = self._scope()
        if node.value in scope.params or node.value in scope.declared:
            return None
        reaching = scope.reaching(node.value, node)
        if len(reaching) != 1 or reaching[0].kind != "value":
            return None
        return reaching[0].expression

    def _held_result(self, node: cst.BaseExpression) -> cst.BaseExpression | None:
        """The awaited call a local variable holds, when it is assigned once and this is its
        only use (`result = await session.execute(stmt)`, then `result.scalar_one()`)."""
        held = self._held_statement(node)
        if not isinstance(held, cst.Await) or not isinstance(node, cst.Name):
            return None
        scope = self._scope()
        uses = scope.uses_by_name.get(node.value, [])
        if len(scope.definitions.get(node.value, [])) != 1 or [u.node for u in uses] != [node]:
            return None
        return held

    def _scope(self) -> scopes.Scope:
        functions = self.context.functions
        return scopes.scope_of(self.context, functions[-1] if functions else self.context.module)

    def _query(
        self, query: cst.Call
    ) -> tuple[cst.BaseExpression, cst.BaseExpression, list[cst.Call]] | None:
        """`session.query(Model).filter(...)` on a proven synchronous session: the session,
        the entity and the chained calls."""
        chain = _chain(query)
        if chain is None:
            return None
        base, filters = chain
        func = base.func
        entity = _only_argument(base)
        if not isinstance(func, cst.Attribute) or func.attr.value != "query" or entity is None:
            return None
        kind = kind_of(receiver_session(self.context, func.value))
        if kind is None or kind.is_async:
            return None
        return func.value, entity, filters

    def _query_lookup(self, query: cst.Call, method: str) -> Lookup | None:
        found = self._query(query)
        if found is None:
            return None
        session, entity, filters = found
        return self._keyed(session, entity, filters, method, awaited=False)

    # -- the statement ----------------------------------------------------------------------

    def _model(self, entity: cst.BaseExpression) -> ModelFacts | None:
        text = dotted(entity)
        if text is None or not scopes.resolvable_here(self.context, text):
            return None
        qualname = self.context.names.qualify(entity)
        return None if qualname is None else self.context.index.model(qualname)

    def _keyed(
        self,
        session: cst.BaseExpression,
        entity_node: cst.BaseExpression | None,
        filters: list[cst.Call],
        method: str,
        awaited: bool,
    ) -> Lookup | None:
        """The lookup, when the filters compare every key column with a value and do
        nothing else."""
        if method == "get_one" and self.context.settings.sqlalchemy_version < GET_ONE_VERSION:
            return None
        model = self._model(entity_node) if entity_node is not None else None
        if model is None or not model.primary_key:
            return None
        entity = dotted(entity_node)  # type: ignore[arg-type]
        assert entity is not None
        keys: dict[str, cst.BaseExpression] = {}
        for_update: str | None = None
        for call in filters:
            assert isinstance(call.func, cst.Attribute)
            name = call.func.attr.value
            if name == "with_for_update":
                if for_update is not None:
                    return None
                for_update = _for_update_argument(self.context, call)
                if for_update is None:
                    return None
                continue
            pairs = self._pairs(call, name, entity)
            if not pairs:
                return None
            for attribute, value in pairs:
                if attribute in keys:
                    return None
                keys[attribute] = value
        if set(keys) != set(model.primary_key):
            return None
        as_dict = len(keys) > 1 and not model.primary_key_order_proven
        if not as_dict:
            keys = {attribute: keys[attribute] for attribute in model.primary_key}
        return Lookup(session, entity, keys, as_dict, for_update, method, awaited)

    def _pairs(
        self, call: cst.Call, name: str, entity: str
    ) -> list[tuple[str, cst.BaseExpression]] | None:
        """(attribute, value) for each condition of a `.where()`/`.filter()`/`.filter_by()`;
        None when one is anything but an equality of a column of the entity with a value."""
        if name == "filter_by":
            return _keyword_pairs(call)
        conditions = self._flattened(call.args)
        if conditions is None:
            return None
        pairs: list[tuple[str, cst.BaseExpression]] = []
        for condition in conditions:
            pair = self._equality(condition, entity)
            if pair is None:
                return None
            pairs.append(pair)
        return pairs

    def _equality(
        self, condition: cst.BaseExpression, entity: str
    ) -> tuple[str, cst.BaseExpression] | None:
        """`Model.key == value` or `value == Model.key` -> (key, value)."""
        if not isinstance(condition, cst.Comparison) or len(condition.comparisons) != 1:
            return None
        target = condition.comparisons[0]
        if not isinstance(target.operator, cst.Equal):
            return None
        for column, value in (
            (condition.left, target.comparator),
            (target.comparator, condition.left),
        ):
            attribute = self._column_of(column, entity)
            if attribute is None:
                continue
            if _is_none(value) or self._uses_a_model(value):
                return None
            return attribute, value
        return None

    def _column_of(self, node: cst.BaseExpression, entity: str) -> str | None:
        """`Model.key`, or `col(Model.key)` (SQLModel's typing helper) -> "key"."""
        if (
            isinstance(node, cst.Call)
            and len(node.args) == 1
            and self.context.names.qualify(node.func) in COL
        ):
            node = node.args[0].value
        name = dotted(node)
        if name is None or not name.startswith(f"{entity}."):
            return None
        attribute = name[len(entity) + 1 :]
        return None if "." in attribute else attribute

    def _uses_a_model(self, value: cst.BaseExpression) -> bool:
        """A compared value that names a mapped class is a column expression (`User.id ==
        User.parent_id`) or brings another table into the query (`User.id ==
        Team.owner_id`): not a key value."""
        names = _Names()
        value.visit(names)
        qualify = self.context.names.qualify
        index = self.context.index
        return any(
            (qualname := qualify(node)) is not None and index.model(qualname) is not None
            for node in names.found
        )

    def _flattened(self, args: Sequence[cst.Arg]) -> list[cst.BaseExpression] | None:
        """The conditions of `.where(a, b)`, with `and_(c, d)` inside it opened up."""
        found: list[cst.BaseExpression] = []
        for arg in args:
            if arg.keyword is not None or arg.star:
                return None
            value = arg.value
            if isinstance(value, cst.Call) and _is_and(self.context.names.qualify(value.func)):
                inner = self._flattened(value.args)
                if inner is None:
                    return None
                found.extend(inner)
            else:
                found.append(value)
        return found

    # -- the fix ----------------------------------------------------------------------------

    def _fix(self, node: cst.Call, lookup: Lookup, applicability: Applicability) -> FixPlan | None:
        code = self.context.code
        values = list(lookup.keys.values())
        replaced = node if lookup.result_value is None else lookup.result_value
        if not lookup.fixable or _has_comments(self.context, replaced, [lookup.session, *values]):
            return None
        if len(values) == 1:
            key = code(values[0])
        elif lookup.as_dict:
            key = "{" + ", ".join(f'"{a}": {code(v)}' for a, v in lookup.keys.items()) + "}"
        else:
            key = "(" + ", ".join(code(v) for v in values) + ")"
        arguments = f"{lookup.entity}, {key}"
        if lookup.for_update is not None:
            arguments += f", with_for_update={lookup.for_update}"
        replacement = f"{code(lookup.session)}.{lookup.method}({arguments})"
        if lookup.result_value is not None:
            assert isinstance(node.func, cst.Attribute)
            variable = _unawait(node.func.value)[0]
            if isinstance(variable, cst.Call):  # `result.scalars().first()`
                variable = variable.func.value  # type: ignore[attr-defined]
            return FixPlan(
                (Replace(lookup.result_value, f"await {replacement}"), Replace(node, variable)),
                applicability,
                f"Use `{dotted(lookup.session) or 'session'}.{lookup.method}()`",
            )
        if lookup.awaited and node not in self.awaited:
            replacement = f"await {replacement}"
            if node in self.operands:
                replacement = f"({replacement})"
        return FixPlan(
            (Replace(node, replacement),),
            applicability,
            f"Use `{dotted(lookup.session) or 'session'}.{lookup.method}()`",
        )


def _only_argument(call: cst.Call) -> cst.BaseExpression | None:
    if len(call.args) != 1:
        return None
    (arg,) = call.args
    if arg.keyword is not None or arg.star:
        return None
    return arg.value


def _unawait(node: cst.BaseExpression) -> tuple[cst.BaseExpression, bool]:
    if isinstance(node, cst.Await):
        return node.expression, True
    return node, False


def _may_compare_keys(call: ast.Call) -> bool:
    """`.filter_by(key=...)`, or a `.where()`/`.filter()` with an `==` among its arguments."""
    if type(call.func) is ast.Attribute and call.func.attr == "filter_by":
        return bool(call.keywords)
    return any(
        type(node) is ast.Compare and any(type(op) is ast.Eq for op in node.ops)
        for arg in call.args
        for node in ast.walk(arg)
    )


def _chain(node: cst.BaseExpression) -> tuple[cst.Call, list[cst.Call]] | None:
    """The base call of `base.where(...).filter_by(...).with_for_update()` and the calls
    chained on it; None when anything else is chained."""
    filters: list[cst.Call] = []
    while (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in FILTERS | {"with_for_update"}
    ):
        filters.append(node)
        node = node.func.value
    if not isinstance(node, cst.Call):
        return None
    return node, list(reversed(filters))


def _is_query(node: cst.Call) -> bool:
    """Is `node` `<receiver>.query(...)` with filters chained on it?"""
    chain = _chain(node)
    if chain is None:
        return False
    func = chain[0].func
    return isinstance(func, cst.Attribute) and func.attr.value == "query"


def _calls(node: cst.BaseExpression, method: str) -> bool:
    """Is `node` a call of `.method()` without arguments?"""
    return (
        isinstance(node, cst.Call)
        and not node.args
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == method
    )


def _keyword_pairs(call: cst.Call) -> list[tuple[str, cst.BaseExpression]] | None:
    pairs = []
    for arg in call.args:
        if arg.keyword is None or arg.star or _is_none(arg.value):
            return None
        pairs.append((arg.keyword.value, arg.value))
    return pairs


def _for_update_argument(context: FileContext, call: cst.Call) -> str | None:
    """`.with_for_update()` -> "True"; `.with_for_update(nowait=True)` -> a dict of flags,
    which `Session.get(with_for_update=...)` accepts."""
    if not call.args:
        return "True"
    if any(arg.keyword is None or arg.star for arg in call.args):
        return None
    items = (f'"{arg.keyword.value}": {context.code(arg.value)}' for arg in call.args)  # type: ignore[union-attr]
    return "{" + ", ".join(items) + "}"


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _is_and(qualname: str | None) -> bool:
    return (
        qualname is not None
        and qualname.startswith(("sqlalchemy.", "sqlmodel."))
        and (qualname.endswith(".and_"))
    )


class _Names(cst.CSTVisitor):
    """Every name and dotted name an expression reads (not the `.attr` part of one)."""

    def __init__(self) -> None:
        self.found: list[cst.Name | cst.Attribute] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.found.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        self.found.append(node)
        node.value.visit(self)
        return False


def _has_comments(context: FileContext, node: cst.CSTNode, kept: list[cst.CSTNode]) -> bool:
    """A comment inside the replaced code but outside what the fix keeps would be lost."""
    if context.text is not None and "#" not in context.text:
        return False
    skipped = set(kept)
    # sqlsafe's read-only `children`, not `node.visit`, which rebuilds every node it passes.
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current) is cst.Comment:
            return True
        if current not in skipped:
            stack.extend(children(current))
    return False


RULE = SelectByPrimaryKey
