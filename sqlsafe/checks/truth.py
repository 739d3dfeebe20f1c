"""The one answer to "does this use of a value only ask whether it is there": a truth test
or a comparison with `None`. Every non-`None` object answers such a use alike, so a rule
may swap what the value holds (a model for a Row, an instance for a dict) under it."""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

ParentOf = Callable[[cst.CSTNode], cst.CSTNode | None]
"""The node around a node (None where the caller does not know it)."""


def is_truth_test(node: cst.CSTNode, parent_of: ParentOf) -> bool:
    """`if node`, `while node`, `... if node else ...`, `not node`, `node is None`,
    `None is not node`, and `node` as an operand of `and`/`or` that is itself such a test
    or a statement of its own (`node and log(node)`)."""
    parent = parent_of(node)
    if isinstance(parent, (cst.If, cst.While, cst.IfExp)):
        return parent.test is node
    if isinstance(parent, cst.UnaryOperation):
        return isinstance(parent.operator, cst.Not)
    if isinstance(parent, cst.BooleanOperation):
        return isinstance(parent_of(parent), cst.Expr) or is_truth_test(parent, parent_of)
    if isinstance(parent, cst.Comparison):
        return parent.left is node and _is_none_test(parent, parent.comparisons[0].comparator)
    if isinstance(parent, cst.ComparisonTarget):
        comparison = parent_of(parent)
        return isinstance(comparison, cst.Comparison) and _is_none_test(comparison, comparison.left)
    return False


def _is_none_test(comparison: cst.Comparison, other: cst.BaseExpression) -> bool:
    """`is` / `is not` between the value and `None`, and nothing else chained to it."""
    if len(comparison.comparisons) != 1:
        return False
    operator = comparison.comparisons[0].operator
    return isinstance(operator, (cst.Is, cst.IsNot)) and (
        isinstance(other, cst.Name) and other.value == "None"
    )
