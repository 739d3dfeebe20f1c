"""Summaries as bytes, as the cache keeps them and pool workers send them back.

`pickle` walks an object recursively, so a summary holding an expression nested deeper than
the recursion limit (`x = a.b.b.b...`, which the parser accepts) cannot be pickled as it is.
Such a summary is pickled with each tree flattened into a list of nodes that refer to their
children by position, and rebuilt without recursion when it is loaded. Other summaries,
nearly all of them, are pickled directly (the faster way).
"""

from __future__ import annotations

import ast
import io
import pickle
from typing import Any

# (node class name, fields holding no node, fields holding nodes: position or positions).
FlatNode = tuple[str, dict[str, Any], dict[str, Any]]


def dumped(summary: object) -> bytes:
    try:
        return pickle.dumps(summary, pickle.HIGHEST_PROTOCOL)
    except RecursionError:
        buffer = io.BytesIO()
        _FlatPickler(buffer, pickle.HIGHEST_PROTOCOL).dump(summary)
        return buffer.getvalue()


class _FlatPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, ast.AST):
            return rebuilt, (flattened(obj),)
        return NotImplemented


def flattened(root: ast.AST) -> list[FlatNode]:
    """The nodes under `root`, each once, `root` first."""
    nodes = [root]
    positions = {id(root): 0}
    flat: list[FlatNode] = []
    for node in nodes:  # grows while it is walked
        plain: dict[str, Any] = {}
        refs: dict[str, Any] = {}
        for name, value in vars(node).items():
            if isinstance(value, ast.AST):
                refs[name] = _position(value, nodes, positions)
            elif isinstance(value, list) and any(isinstance(item, ast.AST) for item in value):
                refs[name] = [
                    _position(item, nodes, positions) if isinstance(item, ast.AST) else None
                    for item in value
                ]
            else:
                plain[name] = value
        flat.append((type(node).__name__, plain, refs))
    return flat


def _position(node: ast.AST, nodes: list[ast.AST], positions: dict[int, int]) -> int:
    known = positions.get(id(node))
    if known is None:
        known = positions[id(node)] = len(nodes)
        nodes.append(node)
    return known


def rebuilt(flat: list[FlatNode]) -> ast.AST:
    """The tree `flattened` took apart: every node made first, then linked (a node may be
    shared, as the parser shares its operator nodes), so no recursion."""
    nodes = []
    for kind, plain, _ in flat:
        cls = getattr(ast, kind, None)
        if not (isinstance(cls, type) and issubclass(cls, ast.AST)):
            raise pickle.UnpicklingError(f"not a syntax node: {kind!r}")
        node = cls()
        vars(node).update(plain)
        nodes.append(node)
    for node, (_, _, refs) in zip(nodes, flat, strict=True):
        for name, ref in refs.items():
            if isinstance(ref, list):
                setattr(node, name, [None if r is None else nodes[r] for r in ref])
            else:
                setattr(node, name, nodes[ref])
    return nodes[0]
