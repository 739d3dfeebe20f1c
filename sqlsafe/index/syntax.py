"""Small readers of stdlib `ast` nodes shared by the index's finders."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def guarded(function: Callable[..., T | None], *args: object) -> T | None:
    """One name's analysis, or None. Code nested thousands of levels deep (a long
    `a | b | ...` chain) parses but exhausts the recursion limit here: it must cost that
    name only."""
    try:
        return function(*args)
    except RecursionError:
        return None


BLOCKS = ("cases", "handlers", "finalbody", "orelse", "body")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def statements(body: Iterable[ast.stmt], nested_scopes: bool = False) -> Iterator[ast.stmt]:
    """Every statement of a block in source order, compound statements before their parts.

    Only statements are visited, never expressions: an index question about a function
    (what does it return? what does it import?) is answered by its statements, and they are
    a small fraction of the tree's nodes. Nested functions and classes are entered only when
    `nested_scopes` is set (and are then yielded themselves)."""
    stack: list[ast.AST] = list(reversed(list(body)))
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES) and not nested_scopes:
            continue
        if isinstance(node, ast.stmt):
            yield node
        for name in BLOCKS:
            block = getattr(node, name, None)
            if block:
                stack.extend(reversed(block))


def keyword(node: ast.Call | ast.ClassDef, name: str) -> ast.expr | None:
    for argument in node.keywords:
        if argument.arg == name:
            return argument.value
    return None


def parsed_string(node: ast.expr | None) -> ast.expr | None:
    """A string annotation parsed into an expression (other nodes pass through)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return ast.parse(node.value.strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    return node


def is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_none(node: ast.expr | None) -> bool:
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def dict_value(node: ast.expr | None, key: str) -> ast.expr | None:
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values, strict=True):
            if isinstance(k, ast.Constant) and k.value == key:
                return v
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return keyword(node, key)
    return None


def elements(node: ast.expr | None) -> list[ast.expr]:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return list(node.elts)
    return []
