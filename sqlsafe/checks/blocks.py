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


def indented(module: cst.Module) -> Iterator[tuple[cst.CSTNode, str]]:
    """Every statement of the module, nested scopes included, with the indentation of the
    block it is in (the small statements of a line as well as the line)."""
    for statement in module.body:
        yield from _indented(statement, "", module.default_indent)


def _indented(
    statement: cst.CSTNode, indent: str, default: str
) -> Iterator[tuple[cst.CSTNode, str]]:
    yield statement, indent
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            yield small, indent
        return
    if not isinstance(statement, cst.BaseCompoundStatement):
        return
    for child in children(statement):
        suite = child.body if isinstance(child, _CLAUSES) else child
        outer = _clause_indent(statement, child, indent, default)
        if isinstance(suite, cst.IndentedBlock):
            inner = outer + (default if suite.indent is None else suite.indent)
            for part in suite.body:
                yield from _indented(part, inner, default)
        elif isinstance(suite, cst.SimpleStatementSuite):
            for small in suite.body:
                yield small, outer
        elif isinstance(suite, cst.BaseCompoundStatement):
            yield from _indented(suite, outer, default)


def _clause_indent(statement: cst.CSTNode, child: cst.CSTNode, indent: str, default: str) -> str:
    """The indentation of the line that opens `child`'s block: `else:` or `except:` lines up
    with its statement, but a `case` is itself indented under its `match`."""
    if isinstance(statement, cst.Match) and isinstance(child, cst.MatchCase):
        return indent + (default if statement.indent is None else statement.indent)
    return indent
