"""Which names in a function are sessions, of which class, and who owns them.

A name is a session when it is bound by `with`/`async with` to a session class or factory
call, assigned from one, or is a parameter annotated with a session class (directly, through
`Annotated[...]`, `Optional[...]`/`X | None`, or a project alias such as `SessionDep`), or
defaulted to `Depends(factory)`. Anything else is not a session as far as the rules know:
`Shell.exec(cmd, env)` is never mistaken for `Session.exec`.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from sqlsafe.checks.base import FileContext, MemoKey
from sqlsafe.checks.blocks import statements
from sqlsafe.checks.names import (
    ASYNC_SESSION_CLASSES,
    ASYNC_SESSIONMAKERS,
    SESSIONMAKERS,
    SQLMODEL_SESSION_CLASSES,
    canonical_session_class,
)
from sqlsafe.checks.scopes import parameters
from sqlsafe.index.types import SQLALCHEMY_SESSION

_WRAPPERS = frozenset({"typing.Annotated", "typing_extensions.Annotated", "typing.Optional"})
_DEPENDS = frozenset({"fastapi.Depends", "fastapi.params.Depends"})


@dataclass(frozen=True)
class SessionKind:
    session_class: str
    """Canonical class name, or a project subclass's qualified name."""
    is_async: bool
    expire_on_commit: bool | None = True
    """None when the session comes from a factory whose configuration is not visible."""


@dataclass(frozen=True)
class SessionBinding:
    name: str
    kind: SessionKind
    node: cst.CSTNode
    """The `With`, `Assign` or `Param` that bound the name."""


def is_sqlmodel_session(context: FileContext, kind: SessionKind) -> bool:
    """Does this session class have sqlmodel's `exec` (directly or through a subclass)?"""
    cls = kind.session_class
    if cls in SQLMODEL_SESSION_CLASSES:
        return True
    return canonical_session_class(context.index.session_base(cls)) in SQLMODEL_SESSION_CLASSES


def is_async_session(context: FileContext, kind: SessionKind) -> bool:
    """Is this an `AsyncSession`, also when a synchronous `sessionmaker(class_=AsyncSession)`
    (SQLAlchemy 1.4's spelling) or a project subclass makes it?"""
    if kind.is_async or kind.session_class in ASYNC_SESSION_CLASSES:
        return True
    base = canonical_session_class(context.index.session_base(kind.session_class))
    return base in ASYNC_SESSION_CLASSES


def _false_keyword(call: cst.Call, keyword: str) -> bool:
    return any(
        arg.keyword is not None
        and arg.keyword.value == keyword
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "False"
        for arg in call.args
    )


def kind_of_factory(
    context: FileContext, qualname: str | None, classes: bool = True
) -> SessionKind | None:
    """The session a call of `qualname` makes: a session class (when `classes`), a
    sessionmaker assigned in this module, or a factory from the project index."""
    if qualname is None:
        return None
    canonical = canonical_session_class(qualname)
    if canonical is not None:
        return SessionKind(canonical, canonical in ASYNC_SESSION_CLASSES) if classes else None
    local = _module_sessionmakers(context).get(qualname)
    if local is not None:
        return local
    factory = context.index.factory(qualname)
    if factory is not None:
        return SessionKind(factory.session_class, factory.is_async, factory.expire_on_commit)
    return None


def _module_sessionmakers(context: FileContext) -> dict[str, SessionKind]:
    """`SessionLocal = sessionmaker(...)` at module level, known without the index."""

    def compute() -> dict[str, SessionKind]:
        found = {}
        for statement in context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Assign) and isinstance(small.value, cst.Call):
                    maker = context.names.qualify(small.value.func)
                    if maker not in SESSIONMAKERS:
                        continue
                    for target in small.targets:
                        if isinstance(target.target, cst.Name):
                            qualname = f"{context.module_name}.{target.target.value}"
                            found[qualname] = _sessionmaker_kind(context, small.value, maker)
        return found

    return context.memo(_SESSIONMAKERS, context.module, compute)


def session_made_by(context: FileContext, expression: cst.BaseExpression) -> SessionKind | None:
    """The session that evaluating `expression` yields, if it provably makes one.

    Handles `Session(engine)`, `SessionLocal()`, `sessionmaker(...)()`, `factory.begin()` and
    `get_session()` for indexed factories, with `expire_on_commit=False` on the call.
    """
    if isinstance(expression, cst.Await):
        expression = expression.expression
    if not isinstance(expression, cst.Call):
        return None
    func = expression.func
    if isinstance(func, cst.Attribute) and func.attr.value == "begin":
        # `with SessionLocal.begin() as s` yields a session; `Session(e).begin()` yields a
        # transaction, which callers bind in a separate item.
        if isinstance(func.value, cst.Call):
            return None
        return kind_of_factory(context, context.names.qualify(func.value), classes=False)
    if isinstance(func, cst.Call):
        maker = context.names.qualify(func.func)
        if maker in SESSIONMAKERS:
            return _sessionmaker_kind(context, func, maker)
        return None
    kind = kind_of_factory(context, context.names.qualify(func))
    if kind is not None and _false_keyword(expression, "expire_on_commit"):
        kind = SessionKind(kind.session_class, kind.is_async, expire_on_commit=False)
    return kind


def _sessionmaker_kind(context: FileContext, call: cst.Call, maker: str) -> SessionKind:
    session_class = SQLALCHEMY_SESSION
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "class_":
            resolved = context.names.qualify(arg.value)
            session_class = canonical_session_class(resolved) or resolved or session_class
    return SessionKind(
        session_class,
        maker in ASYNC_SESSIONMAKERS,
        expire_on_commit=not _false_keyword(call, "expire_on_commit"),
    )


def session_of_annotation(
    context: FileContext, annotation: cst.BaseExpression
) -> SessionKind | None:
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        return session_of_annotation(context, annotation.left) or session_of_annotation(
            context, annotation.right
        )
    if isinstance(annotation, cst.Subscript):
        if context.names.qualify(annotation.value) in _WRAPPERS and annotation.slice:
            first = annotation.slice[0].slice
            if isinstance(first, cst.Index):
                return session_of_annotation(context, first.value)
        return None
    qualname = context.names.qualify(annotation)
    if qualname is None:
        return None
    aliased = context.index.alias(qualname)
    if aliased is not None:
        qualname = aliased
    canonical = canonical_session_class(qualname)
    if canonical is not None:
        return SessionKind(canonical, canonical in ASYNC_SESSION_CLASSES)
    factory = context.index.factory(qualname)
    if factory is not None and factory.qualname == factory.session_class:
        return SessionKind(factory.session_class, factory.is_async, factory.expire_on_commit)
    return None


def _session_of_param(context: FileContext, param: cst.Param) -> SessionKind | None:
    if param.annotation is not None:
        kind = session_of_annotation(context, param.annotation.annotation)
        if kind is not None:
            return kind
    default = param.default
    if (
        isinstance(default, cst.Call)
        and default.args
        and context.names.qualify(default.func) in _DEPENDS
    ):
        return kind_of_factory(context, context.names.qualify(default.args[0].value))
    return None


def bindings(context: FileContext, function: cst.FunctionDef | None) -> dict[str, SessionBinding]:
    """Session names bound in `function` (or at module level for None), computed once."""
    node: cst.CSTNode = function if function is not None else context.module
    return context.memo(_BINDINGS, node, lambda: _compute_bindings(context, function))


def parameter_bindings(
    context: FileContext, function: cst.FunctionDef
) -> dict[str, SessionBinding]:
    """The sessions `function` receives as parameters (without reading its body)."""
    found: dict[str, SessionBinding] = {}
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        kind = _session_of_param(context, param)
        if kind is not None:
            found[param.name.value] = SessionBinding(param.name.value, kind, param)
    return found


def _compute_bindings(
    context: FileContext, function: cst.FunctionDef | None
) -> dict[str, SessionBinding]:
    found: dict[str, SessionBinding] = {}
    if function is not None:
        found.update(parameter_bindings(context, function))
    for statement in statements(function if function is not None else context.module):
        if isinstance(statement, cst.With):
            for item in statement.items:
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    kind = session_made_by(context, item.item)
                    if kind is not None:
                        name = item.asname.name.value
                        found[name] = SessionBinding(name, kind, statement)
        elif isinstance(statement, (cst.Assign, cst.AnnAssign)):
            value = statement.value
            if value is None:
                continue
            kind = session_made_by(context, value)
            targets = (
                [t.target for t in statement.targets]
                if isinstance(statement, cst.Assign)
                else [statement.target]
            )
            if kind is None and isinstance(statement, cst.AnnAssign):
                kind = session_of_annotation(context, statement.annotation.annotation)
            if kind is None:
                continue
            for target in targets:
                if isinstance(target, cst.Name):
                    found[target.value] = SessionBinding(target.value, kind, statement)
    return found


_SESSIONMAKERS: MemoKey[dict[str, SessionKind]] = MemoKey("module-level sessionmakers")
_BINDINGS: MemoKey[dict[str, SessionBinding]] = MemoKey("session names a scope binds")


def receiver_session(
    context: FileContext, receiver: cst.BaseExpression
) -> SessionBinding | SessionKind | None:
    """The session an expression like `session` or `Session(engine)` refers to, if proven."""
    if isinstance(receiver, cst.Name):
        for function in reversed(context.functions):
            binding = bindings(context, function).get(receiver.value)
            if binding is not None:
                return binding
            if receiver.value in parameters(function):
                return None
        return bindings(context, None).get(receiver.value)
    return session_made_by(context, receiver)


def kind_of(found: SessionBinding | SessionKind | None) -> SessionKind | None:
    if isinstance(found, SessionBinding):
        return found.kind
    return found
