"""Which expressions are SQLAlchemy Core connections (or engines that make them).

A name is a connection when a parameter is annotated `Connection`/`AsyncConnection`, or it is
bound (by `with ... as` or an assignment) to `engine.connect()`, `engine.begin()` or
Alembic's `op.get_bind()`, where `engine` is itself proven: a `create_engine(...)` /
`create_async_engine(...)` call, a name assigned from one, or a parameter annotated `Engine`.
Engines imported from other modules are not followed: such receivers are not reported.
"""

from __future__ import annotations

from typing import Literal

import libcst as cst

from sqlsafe.checks.base import FileContext, MemoKey
from sqlsafe.checks.blocks import statements

Kind = Literal["engine", "connection"]

_CLASSES: dict[str, Kind] = {
    "sqlalchemy.Connection": "connection",
    "sqlalchemy.engine.Connection": "connection",
    "sqlalchemy.engine.base.Connection": "connection",
    "sqlalchemy.ext.asyncio.AsyncConnection": "connection",
    "sqlalchemy.ext.asyncio.engine.AsyncConnection": "connection",
    "sqlalchemy.Engine": "engine",
    "sqlalchemy.engine.Engine": "engine",
    "sqlalchemy.engine.base.Engine": "engine",
    "sqlalchemy.ext.asyncio.AsyncEngine": "engine",
    "sqlalchemy.ext.asyncio.engine.AsyncEngine": "engine",
}
_ENGINE_FACTORIES = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlmodel.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
    }
)
_CONNECTION_FACTORIES = frozenset({"alembic.op.get_bind"})
# Engine methods that return a connection (`begin()` one inside a transaction).
_CONNECT_METHODS = frozenset({"connect", "begin"})

_CONNECTIONS: MemoKey[Bound] = MemoKey("connection names a scope binds")


def is_connection(context: FileContext, expression: cst.BaseExpression) -> bool:
    return _kind(context, expression, len(context.functions), None) == "connection"


Bound = dict[str, Kind | Literal[""]]
"""Names bound in one scope: their kind, or "" for a name bound to anything else (or to
different things), which hides the bindings of enclosing scopes."""


def _kind(
    context: FileContext, expression: cst.BaseExpression, depth: int, local: Bound | None
) -> Kind | None:
    """What `expression` evaluates to in the scope `context.functions[depth - 1]` (the module
    for 0); `local` holds that scope's bindings so far while they are being worked out."""
    if isinstance(expression, cst.Await):
        expression = expression.expression
    if isinstance(expression, cst.Name):
        name = expression.value
        if local is not None and name in local:
            return local[name] or None
        for level in range(depth - 1 if local is not None else depth, -1, -1):
            bound = _bindings(context, level).get(name)
            if bound is not None:
                return bound or None
        return None
    if not isinstance(expression, cst.Call):
        return None
    func = expression.func
    qualname = context.names.qualify(func)
    if qualname in _ENGINE_FACTORIES:
        return "engine"
    if qualname in _CONNECTION_FACTORIES:
        return "connection"
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in _CONNECT_METHODS
        and _kind(context, func.value, depth, local) == "engine"
    ):
        return "connection"
    return None


def _bindings(context: FileContext, depth: int) -> Bound:
    owner: cst.CSTNode = context.functions[depth - 1] if depth else context.module

    def compute() -> Bound:
        found: Bound = {}

        def bind(name: str, kind: Kind | None) -> None:
            value = kind or ""
            found[name] = value if found.get(name, value) == value else ""

        if isinstance(owner, cst.FunctionDef):
            params = owner.params
            for param in (*params.posonly_params, *params.params, *params.kwonly_params):
                annotation = param.annotation
                qualname = (
                    context.names.qualify(annotation.annotation) if annotation is not None else None
                )
                bind(param.name.value, _CLASSES.get(qualname or ""))
        for statement in statements(owner):
            if isinstance(statement, cst.With):
                for item in statement.items:
                    if item.asname is not None and isinstance(item.asname.name, cst.Name):
                        bind(item.asname.name.value, _kind(context, item.item, depth, found))
            elif isinstance(statement, cst.Assign):
                kind = _kind(context, statement.value, depth, found)
                for target in statement.targets:
                    if isinstance(target.target, cst.Name):
                        bind(target.target.value, kind)
        return found

    return context.memo(_CONNECTIONS, owner, compute)
