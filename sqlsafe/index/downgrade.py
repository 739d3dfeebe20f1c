"""The libcst half of `newer_syntax` (imported only for a file the running `ast` rejects)."""

from __future__ import annotations

import libcst as cst


def libcst_module(source: bytes | str) -> cst.Module | None:
    try:
        return cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError, MemoryError, UnicodeDecodeError):
        return None


def downgraded(source: bytes | str) -> str | None:
    """`source` in the older spelling, or None when libcst rejects it."""
    module = libcst_module(source)
    return None if module is None else module.visit(_Downgrade()).code


class _Downgrade(cst.CSTTransformer):
    """Rewrites newer syntax into what the index reads the same way from older syntax."""

    def leave_TypeAlias(self, original: cst.TypeAlias, updated: cst.TypeAlias) -> cst.Assign:
        return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value)

    def leave_FunctionDef(
        self, original: cst.FunctionDef, updated: cst.FunctionDef
    ) -> cst.FunctionDef:
        return updated.with_changes(type_parameters=None)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        return updated.with_changes(type_parameters=None)

    def leave_ExceptHandler(
        self, original: cst.ExceptHandler, updated: cst.ExceptHandler
    ) -> cst.ExceptHandler:
        return updated.with_changes(type=_parenthesized(updated.type))

    def leave_ExceptStarHandler(
        self, original: cst.ExceptStarHandler, updated: cst.ExceptStarHandler
    ) -> cst.ExceptStarHandler:
        return updated.with_changes(type=_parenthesized(updated.type))

    def leave_FormattedString(
        self, original: cst.FormattedString, updated: cst.FormattedString
    ) -> cst.BaseExpression:
        return _blank_string(original)

    def leave_TemplatedString(
        self, original: cst.CSTNode, updated: cst.CSTNode
    ) -> cst.BaseExpression:
        return _blank_string(original)


def _parenthesized(node: cst.BaseExpression | None) -> cst.BaseExpression | None:
    if isinstance(node, cst.Tuple) and not node.lpar:
        return node.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return node


def _blank_string(node: cst.CSTNode) -> cst.BaseExpression:
    """An empty string literal spanning as many lines as `node`, so that later lines keep
    their numbers (the index keeps no string values it does not parse itself)."""
    breaks = cst.Module(body=[]).code_for_node(node).count("\n")
    return cst.SimpleString('"""' + "\n" * breaks + '"""' if breaks else '""')
