"""What of a module's tree the index keeps once the module's own facts are read.

A module's summary (`ModuleScope`) outlives its tree: it is cached per file, sent back from
pool workers and held for every module of the project while the index is merged. So it
keeps only the parts the finders read (`models`, `sessions`, `resolver`), and everything
else is dropped as soon as the file's bindings and imports are known:

- a top-level value only when it can name something (a call, a name, an attribute, a
  subscript); another value (a data literal) becomes `None`, which the finders read the same;
- a class's header and its body's assignments and methods, nested classes by name only;
  of a method, its name and decorators, and only when it has decorators, its return
  annotation and first `return` (it may be a `declared_attr`); of `__init__`, what a
  function keeps (a Session subclass's may set `expire_on_commit`);
- of a function, its name, decorators and return annotation, and of its body the statements
  the factory and `declared_attr` readers look at: `with` items, assignments (a value that
  cannot be a session or a generator's `yield` becomes `None`), returns, yields and the
  `.commit()` / `.__init__()` / `.setdefault()` calls, inside the blocks that hold them;
- no positions: the index reports nothing at a line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from sqlsafe.index.syntax import BLOCKS, statements

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Values that may name a model base, a registry, a factory or an alias.
_NAMING_VALUES = (ast.Call, ast.Name, ast.Attribute, ast.Subscript)
# Values an assignment in a function binds that the factory reader can use: a call may
# make a session, a constant tells a Session subclass's `__init__` verdict, a yield makes a
# generator.
_BOUND_VALUES = (ast.Call, ast.Constant, ast.Yield, ast.YieldFrom)
# Method calls read in function bodies: `session.commit()` after a `yield`, and the
# `super().__init__(expire_on_commit=...)` / `kwargs.setdefault("expire_on_commit", ...)` of
# a Session subclass.
_READ_CALLS = frozenset({"commit", "__init__", "setdefault"})
_POSITIONS = ("lineno", "col_offset", "end_lineno", "end_col_offset")


def pruned_value(node: ast.AST | None, texts: list[str]) -> ast.AST | None:
    """A top-level binding's node as the summary keeps it; the strings it keeps (names,
    attributes, string constants) are added to `texts`."""
    if isinstance(node, ast.ClassDef):
        return _without_positions(_class(node), texts)
    if isinstance(node, _FUNCTIONS):
        return _without_positions(_function(node), texts)
    if isinstance(node, ast.expr) and not isinstance(node, _NAMING_VALUES):
        return ast.Constant(None)
    return node if node is None else _without_positions(node, texts)


def _class(node: ast.ClassDef) -> ast.ClassDef:
    kept: list[ast.stmt] = []
    for statement in node.body:
        if isinstance(statement, (ast.Assign, ast.AnnAssign)):
            kept.append(statement)
        elif isinstance(statement, _FUNCTIONS):
            kept.append(_method(statement))
        elif isinstance(statement, ast.ClassDef):
            kept.append(
                ast.ClassDef(name=statement.name, bases=[], keywords=[], body=[], decorator_list=[])
            )
    node.body = kept
    return node


def _function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt:
    node.args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    node.body = _block(node.body)
    return node


def _method(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.stmt:
    """The readers look into two kinds of method only: a Session subclass's `__init__`, and
    a decorated method (a `declared_attr`), for the first value it returns."""
    if node.name == "__init__":
        return _function(node)
    node.args = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
    returned = (
        next((s for s in statements(node.body) if isinstance(s, ast.Return)), None)
        if node.decorator_list
        else None
    )
    node.body = [] if returned is None else [returned]
    if not node.decorator_list:
        node.returns = None
    return node


def _block(statements: Iterable[ast.stmt]) -> list[ast.stmt]:
    kept = []
    for statement in statements:
        pruned = _statement(statement)
        if pruned is not None:
            kept.append(pruned)
    return kept


def _statement(node: ast.stmt) -> ast.stmt | None:
    if isinstance(node, (ast.Return, ast.With, ast.AsyncWith)):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            node.body = _block(node.body)
        return node
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        if node.value is not None and not isinstance(node.value, _BOUND_VALUES):
            node.value = ast.Constant(None)
        if isinstance(node, ast.AnnAssign):
            node.annotation = ast.Constant(None)
        return node
    if isinstance(node, ast.Expr):
        return node if _read_expression(node.value) else None
    if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
        return None  # another scope: nothing in it is the enclosing function's
    return _compound(node)


def _read_expression(value: ast.expr) -> bool:
    if isinstance(value, (ast.Yield, ast.YieldFrom)):
        return True
    if isinstance(value, ast.Await):
        value = value.value
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in _READ_CALLS
    )


def _compound(node: ast.stmt) -> ast.stmt | None:
    """`if`, loops, `try`, `match`: only their blocks, and only when one keeps something
    (the readers look into them, never at their tests, targets or patterns)."""
    if not _prune_blocks(node):
        return None
    return node


def _prune_blocks(node: ast.AST) -> bool:
    """Prune every block of `node` (and of its handlers and cases) in place, and drop its
    other fields; whether anything was kept."""
    kept = False
    for name, value in ast.iter_fields(node):
        if name in ("handlers", "cases"):
            parts = [part for part in value if _prune_blocks(part)]
            setattr(node, name, parts)
            kept = kept or bool(parts)
        elif name in BLOCKS:
            block = _block(value)
            setattr(node, name, block)
            kept = kept or bool(block)
        else:
            setattr(node, name, None)
    return kept


def _without_positions(node: ast.AST, texts: list[str]) -> ast.AST:
    # A third of a summary's pickle is positions. Fields are read from each node's
    # `__dict__` (three times faster than `ast.walk`), with a stack: an expression may nest
    # deeper than the recursion limit.
    stack = [node]
    while stack:
        fields = stack.pop().__dict__
        for attribute in _POSITIONS:
            fields.pop(attribute, None)
        for value in fields.values():
            if isinstance(value, ast.AST):
                stack.append(value)
            elif isinstance(value, str):
                texts.append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        stack.append(item)
                    elif isinstance(item, str):
                        texts.append(item)
    return node
