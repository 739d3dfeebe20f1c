"""Session factories, Session subclasses and module-level type aliases.

A factory is anything the project calls to get a session: a `sessionmaker(...)` /
`async_sessionmaker(...)` / `scoped_session(...)` assignment, a Session subclass, or a
function that returns or yields a session it made (`with Session(engine) as s: yield s`,
`return SessionLocal()`, `yield from get_session()`), plus the names the `session-factories`
setting lists. For each, the index records the session class it makes and whether
`expire_on_commit` is what the code shows: the library default (True) for a session class or
sessionmaker that does not override it, False where that is written, and None (unknown) for a
factory known only from its return annotation or the `session-factories` setting, whose
configuration the index cannot see.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Sequence

from sqlsafe.index.modules import Definition, ModuleScope
from sqlsafe.index.resolver import Resolver, library_member, typing_member
from sqlsafe.index.syntax import guarded, keyword, parsed_string, statements
from sqlsafe.index.types import (
    SQLALCHEMY_ASYNC_SESSION,
    SQLALCHEMY_SESSION,
    SQLMODEL_ASYNC_SESSION,
    SQLMODEL_SESSION,
    SessionFactory,
)

ASYNC_SESSIONS = frozenset({SQLMODEL_ASYNC_SESSION, SQLALCHEMY_ASYNC_SESSION})

_MAKERS = {"sessionmaker": SQLALCHEMY_SESSION, "async_sessionmaker": SQLALCHEMY_ASYNC_SESSION}
_SCOPED = frozenset({"scoped_session", "async_scoped_session"})
_CONTEXT_MANAGERS = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})
_ITERATOR_TYPES = frozenset(
    {"Iterator", "Generator", "AsyncIterator", "AsyncGenerator", "Iterable", "AsyncIterable"}
)
_CONTEXT_TYPES = frozenset({"ContextManager", "AsyncContextManager"})

# (session class, expire_on_commit: None when the configuration is not visible).
Made = tuple[str, bool | None]


def library_session(qualname: str | None) -> str | None:
    """The public name of a SQLModel / SQLAlchemy session class under any of its spellings."""
    member = library_member(qualname)
    from_sqlmodel = qualname is not None and qualname.startswith("sqlmodel.")
    if member == "Session":
        return SQLMODEL_SESSION if from_sqlmodel else SQLALCHEMY_SESSION
    if member == "AsyncSession":
        return SQLMODEL_ASYNC_SESSION if from_sqlmodel else SQLALCHEMY_ASYNC_SESSION
    return None


def _commits_after_yield(body: Sequence[ast.stmt]) -> bool:
    """`yield session` followed, in the same block, by `session.commit()` (or its `await`):
    the `get_session()` shape that commits when the caller's `with` block ends. A commit in
    an `except` or `finally` block is not one: it does not run on every exit."""
    yielded: str | None = None
    for statement in body:
        if isinstance(statement, (ast.Try, ast.With, ast.AsyncWith)):
            if _commits_after_yield(statement.body):
                return True
            continue
        if not isinstance(statement, ast.Expr):
            continue
        value = statement.value
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Yield) and isinstance(value.value, ast.Name):
            yielded = value.value.id
        elif (
            yielded is not None
            and isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "commit"
            and isinstance(value.func.value, ast.Name)
            and value.func.value.id == yielded
        ):
            return True
    return False


def _expire_on_commit(call: ast.Call, default: bool | None) -> bool | None:
    value = keyword(call, "expire_on_commit")
    if value is None:
        return default
    return not (isinstance(value, ast.Constant) and value.value is False)


class SessionFinder:
    def __init__(
        self,
        scopes: dict[str, ModuleScope],
        resolver: Resolver,
        configured: Sequence[str] = (),
    ) -> None:
        self.scopes = scopes
        self.resolver = resolver
        self.configured = configured
        self._bases: dict[str, str | None] = {}
        self._factories: dict[str, SessionFactory | None] = {}

    # -- Session subclasses ---------------------------------------------------------------

    def session_base(self, qualname: str) -> str | None:
        """The library session class a class is or derives from (None: not a session)."""
        known = library_session(qualname)
        if known is not None:
            return known
        if qualname in self._bases:
            return self._bases[qualname]
        self._bases[qualname] = None
        node = self._definition(qualname)
        result = None
        if isinstance(node, ast.ClassDef):
            module = qualname.rpartition(".")[0]
            for base in node.bases:
                resolved = self.resolver.expr(module, base)
                result = resolved and self.session_base(resolved)
                if result:
                    break
        self._bases[qualname] = result
        return result

    def _subclass_expires(self, qualname: str) -> bool:
        """Whether a session class keeps the default expire_on_commit=True (library classes
        and subclasses that do not override it do)."""
        node = self._definition(qualname)
        if not isinstance(node, ast.ClassDef):
            return True
        module = qualname.rpartition(".")[0]
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef) and statement.name == "__init__":
                verdict = _init_expire_on_commit(statement)
                if verdict is not None:
                    return verdict
        for base in node.bases:
            resolved = self.resolver.expr(module, base)
            if resolved and library_session(resolved) is None and self.session_base(resolved):
                return self._subclass_expires(resolved)
        return True

    # -- factories ------------------------------------------------------------------------

    def find(self) -> dict[str, SessionFactory]:
        found: dict[str, SessionFactory] = {}
        for module, scope in self.scopes.items():
            for name, binding in scope.bindings.items():
                if not isinstance(binding, Definition):
                    continue  # an import: the factory, if any, is found where it is defined
                factory = guarded(self.factory, f"{module}.{name}")
                if factory is not None and factory.qualname == f"{module}.{name}":
                    found[factory.qualname] = factory
        for name in self.configured:
            qualname = self.resolver.canonical(name)
            if qualname not in found:
                found[qualname] = self._configured(qualname)
        return found

    def factory(self, qualname: str) -> SessionFactory | None:
        if qualname in self._factories:
            return self._factories[qualname]
        self._factories[qualname] = None  # recursion through factories ends here
        result = self._factory(qualname)
        self._factories[qualname] = result
        return result

    def _definition(self, qualname: str) -> ast.AST | None:
        module, _, name = qualname.rpartition(".")
        scope = self.scopes.get(module)
        binding = scope.bindings.get(name) if scope else None
        return getattr(binding, "node", None)

    def _factory(self, qualname: str) -> SessionFactory | None:
        canonical = self.resolver.canonical(qualname)
        if canonical != qualname:
            return self.factory(canonical)
        module = qualname.rpartition(".")[0]
        node = self._definition(qualname)
        if isinstance(node, ast.ClassDef):
            base = self.session_base(qualname)
            if base is None:
                return None
            made = (library_session(qualname) or qualname, self._subclass_expires(qualname))
            return self._make(qualname, made, "class")
        if isinstance(node, ast.Call):
            return self._assigned(qualname, module, node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return self._function(qualname, module, node)
        return None

    def _factory_at(self, module: str, node: ast.expr) -> SessionFactory | None:
        qualname = self.resolver.expr(module, node)
        return None if qualname is None else self.factory(qualname)

    def _make(self, qualname: str, made: Made, kind: str) -> SessionFactory:
        session_class, expires = made
        is_async = self.session_base(session_class) in ASYNC_SESSIONS
        return SessionFactory(qualname, session_class, is_async, expires, kind)

    def _assigned(self, qualname: str, module: str, call: ast.Call) -> SessionFactory | None:
        callee = self.resolver.call_name(module, call)
        member = library_member(callee)
        if member in _MAKERS:
            made = self._sessionmaker(module, call, _MAKERS[member])
            return None if made is None else self._make(qualname, made, "sessionmaker")
        if member in _SCOPED:
            inner = call.args[0] if call.args else keyword(call, "session_factory")
            if isinstance(inner, ast.Call):
                inner_factory = self._assigned(qualname, module, inner)
            else:
                inner_factory = self._factory_at(module, inner) if inner is not None else None
            if inner_factory is None:
                return None
            made = (inner_factory.session_class, inner_factory.expire_on_commit)
            return self._make(qualname, made, "scoped")
        if callee == "functools.partial" and call.args:
            made = self._session_call(module, call.args[0], call)
            return None if made is None else self._make(qualname, made, "function")
        return None

    def _sessionmaker(self, module: str, call: ast.Call, default: str) -> Made | None:
        class_ = keyword(call, "class_")
        if class_ is None and len(call.args) > 1:
            class_ = call.args[1]
        session_class = default
        if class_ is not None:
            resolved = self.resolver.expr(module, class_)
            if resolved is None or self.session_base(resolved) is None:
                return None
            session_class = library_session(resolved) or resolved
        return session_class, _expire_on_commit(call, self._subclass_expires(session_class))

    def _session_call(self, module: str, func: ast.expr, call: ast.Call) -> Made | None:
        """What calling `func` (with `call`'s arguments) makes, if it is a session."""
        resolved = self.resolver.expr(module, func)
        if resolved is None:
            return None
        base = self.session_base(resolved)
        if base is not None:
            session_class = library_session(resolved) or resolved
            return session_class, _expire_on_commit(call, self._subclass_expires(session_class))
        factory = self.factory(resolved)
        if factory is None or factory.kind in ("generator", "contextmanager"):
            return None
        expires = factory.expire_on_commit
        if factory.kind in ("sessionmaker", "scoped", "class"):
            # These pass keyword arguments on to the session they create.
            expires = _expire_on_commit(call, expires)
        return factory.session_class, expires

    def _produced(self, module: str, node: ast.expr, context: bool) -> Made | None:
        """The session an expression evaluates to (`context`: as a `with` item's target)."""
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        if context and isinstance(func, ast.Attribute) and func.attr == "begin":
            # `with SessionLocal.begin() as session`: a sessionmaker's begin() yields a session
            # (a session's own begin() yields a transaction).
            factory = self._factory_at(module, func.value)
            if factory is not None and factory.kind == "sessionmaker":
                return factory.session_class, factory.expire_on_commit
            return None
        made = self._session_call(module, func, node)
        if made is not None or not context:
            return made
        factory = self._factory_at(module, func)
        if factory is not None and factory.kind == "contextmanager":
            return factory.session_class, factory.expire_on_commit
        return None

    def _function(
        self, qualname: str, module: str, function: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> SessionFactory | None:
        # Bindings are kept unevaluated: only the name that is returned or yielded is worth
        # resolving, and most functions make no session at all.
        bound: dict[str, tuple[ast.expr, bool]] = {}
        returned: Made | None = None
        yielded: Made | None = None
        generator = False
        for statement in statements(function.body):
            if isinstance(statement, (ast.With, ast.AsyncWith)):
                for item in statement.items:
                    if isinstance(item.optional_vars, ast.Name):
                        bound[item.optional_vars.id] = (item.context_expr, True)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value:
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                for target in targets:
                    if isinstance(target, ast.Name):
                        bound[target.id] = (statement.value, False)
                generator |= isinstance(statement.value, (ast.Yield, ast.YieldFrom))
            elif isinstance(statement, ast.Return) and statement.value and returned is None:
                returned = self._value(module, bound, statement.value)
            elif isinstance(statement, ast.Expr):
                value = statement.value
                if isinstance(value, ast.YieldFrom):
                    generator = True
                    yielded = yielded or self._delegated(module, value.value)
                elif isinstance(value, ast.Yield):
                    generator = True
                    if value.value is not None:
                        yielded = yielded or self._value(module, bound, value.value)
        made = yielded if generator else returned
        annotated = None if made is not None else self._annotated(module, function.returns)
        if made is None and annotated is None:
            return None  # most functions: their decorators need not be resolved
        decorators = {self.resolver.expr(module, d) for d in function.decorator_list}
        if decorators & _CONTEXT_MANAGERS:
            kind = "contextmanager"
        else:
            kind = "generator" if generator else "function"
        if made is not None:
            factory = self._make(qualname, made, kind)
            if kind == "contextmanager" and _commits_after_yield(function.body):
                factory = dataclasses.replace(factory, commits_on_exit=True)
            return factory
        # Only the annotation says what it makes, not how the session is configured.
        assert annotated is not None
        return self._make(qualname, (annotated, None), kind)

    def _delegated(self, module: str, node: ast.expr) -> Made | None:
        """`yield from get_session()`: the generator factory it delegates to."""
        if not isinstance(node, ast.Call):
            return None
        factory = self._factory_at(module, node.func)
        if factory is None or factory.kind != "generator":
            return None
        return factory.session_class, factory.expire_on_commit

    def _value(
        self, module: str, bound: dict[str, tuple[ast.expr, bool]], value: ast.expr
    ) -> Made | None:
        """The session a returned or yielded expression is, given the bindings before it."""
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Name):
            if value.id not in bound:
                return None
            value, context = bound[value.id]
            return self._produced(module, value, context)
        return self._produced(module, value, context=False)

    def _annotated(self, module: str, returns: ast.expr | None) -> str | None:
        """The session class a return annotation names: `-> Session`,
        `-> Iterator[Session]`, `-> AsyncGenerator[AsyncSession, None]`."""
        node = parsed_string(returns)
        if isinstance(node, ast.Subscript):
            origin = self.resolver.expr(module, node.value)
            member = typing_member(origin) or (
                origin.rpartition(".")[2]
                if origin and origin.startswith("collections.abc.")
                else None
            )
            if member not in _ITERATOR_TYPES | _CONTEXT_TYPES:
                return None
            node = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
            node = parsed_string(node)
        if node is None:
            return None
        resolved = self.resolver.expr(module, node)
        if resolved is None or self.session_base(resolved) is None:
            return None
        return library_session(resolved) or resolved

    def _configured(self, qualname: str) -> SessionFactory:
        node = self._definition(qualname)
        is_async = isinstance(node, ast.AsyncFunctionDef)
        session_class = SQLALCHEMY_ASYNC_SESSION if is_async else SQLALCHEMY_SESSION
        return SessionFactory(qualname, session_class, is_async, None, "configured")

    # -- aliases --------------------------------------------------------------------------

    def aliases(self) -> dict[str, str]:
        """`SessionDep = Annotated[Session, Depends(get_session)]` -> "sqlmodel.Session"."""
        found: dict[str, str] = {}
        for module, scope in self.scopes.items():
            for name, definition in scope.values():
                node = definition.node
                if not isinstance(node, ast.Subscript):
                    continue
                if typing_member(self.resolver.expr(module, node.value)) != "Annotated":
                    continue
                inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
                target = self.resolver.expr(module, parsed_string(inner) or inner)
                if target is not None:
                    found[f"{module}.{name}"] = library_session(target) or target
        return found


def _init_expire_on_commit(init: ast.FunctionDef) -> bool | None:
    """What a Session subclass's `__init__` forces expire_on_commit to, if it does:
    `super().__init__(..., expire_on_commit=False)`, `kwargs.setdefault("expire_on_commit",
    False)` or `kwargs["expire_on_commit"] = False`."""
    for statement in statements(init.body):
        value: ast.expr | None = None
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            call = statement.value
            func = call.func
            if isinstance(func, ast.Attribute) and func.attr == "__init__":
                value = keyword(call, "expire_on_commit")
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == "setdefault"
                and len(call.args) == 2
                and _is_expire_on_commit(call.args[0])
            ):
                value = call.args[1]
        elif isinstance(statement, ast.Assign):
            target = statement.targets[0]
            if isinstance(target, ast.Subscript) and _is_expire_on_commit(target.slice):
                value = statement.value
        if value is not None:
            return not (isinstance(value, ast.Constant) and value.value is False)
    return None


def _is_expire_on_commit(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == "expire_on_commit"
