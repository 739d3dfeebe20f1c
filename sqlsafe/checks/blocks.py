"""The statements a body runs, through every kind of compound statement.

Compound statements keep their blocks in different places: `body`, `orelse` (where an
`elif` is a whole `If`), `handlers` and `finalbody`, `cases` (a `match` has no `body`). The
walk finds blocks by their node types rather than by attribute names, so `match`, `try`,
`try*`, `async for`, `async with` and any later statement kind are entered alike.
"""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from sqlsafe.traversal import children

_SCOPES = (cst.FunctionDef, cst.ClassDef)
_CLAUSES = (cst.Else, cst.Finally, cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase)


def statements(scope: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every statement of a module, function or class body in source order: small statements
    one by one, a compound statement before its parts, nested functions and classes yielded
    but not entered."""
    body = scope.body if isinstance(scope, _SCOPES) else scope
    yield from _parts(body)


def _statement(statement: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(statement, cst.SimpleStatementLine):
        yield from statement.body
        return
    yield statement
    if isinstance(statement, cst.BaseCompoundStatement) and not isinstance(statement, _SCOPES):
        for child in children(statement):
            yield from _parts(child)


def _parts(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(node, (cst.Module, cst.BaseSuite)):
        for statement in node.body:
            yield from _statement(statement)
    elif isinstance(node, cst.BaseCompoundStatement):
        yield from _statement(node)
    elif isinstance(node, _CLAUSES):
        yield from _parts(node.body)
