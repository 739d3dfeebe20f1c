"""A read-only batched traversal of a libcst tree, in libcst's own order.

`libcst.visit_batched` goes through `CSTNode.visit`, which rebuilds (and re-validates) every
node of the tree even when the visitors change nothing, and it discovers each visitor's
methods with `inspect.getmembers` on every call. For rules that only read the tree both are
pure overhead: on the zenml corpus this walk is about 5x faster than `visit_batched` for the
same visitors, and it calls their `visit_<Node>` / `leave_<Node>` methods on the same nodes
in the same order (return values of batched visitors are ignored, as libcst ignores them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from functools import cache

import libcst as cst

# libcst's type for a batched visitor's method: a `visit_*` may return a value, but batched
# traversals (libcst's and this one) ignore it.
Method = Callable[[cst.CSTNode], None]

LAYOUT = frozenset(
    kind
    for kind in vars(cst).values()
    if isinstance(kind, type)
    and issubclass(kind, cst.CSTNode)
    and kind.__module__ in ("libcst._nodes.whitespace", "libcst._nodes.op")
)
"""Whitespace, comments and operator tokens: node types that hold no expression or name,
which walks over expressions can skip without looking inside."""


@cache
def visitor_names(visitor_class: type) -> tuple[str, ...]:
    """The `visit_*` / `leave_*` methods a visitor class defines, libcst's no-op stubs left
    out: what `BatchableCSTVisitor.get_visitors` finds, computed once per class."""
    names = []
    for name in dir(visitor_class):
        if not name.startswith(("visit_", "leave_")):
            continue
        member = getattr(visitor_class, name, None)
        if callable(member) and not getattr(member, "_is_no_op", False):
            names.append(name)
    return tuple(names)


def visitor_methods(visitor: cst.BatchableCSTVisitor) -> dict[str, Method]:
    return {name: getattr(visitor, name) for name in visitor_names(type(visitor))}


class FastVisitors(cst.BatchableCSTVisitor):
    """A mixin for batchable visitors: `get_visitors` without `inspect.getmembers`."""

    def get_visitors(self) -> Mapping[str, Method]:
        return visitor_methods(self)


class _Shape:
    """Which attributes of one node class hold children, in the order libcst visits them."""

    __slots__ = ("conditional", "fields")

    def __init__(self, fields: tuple[str, ...], conditional: tuple[str, ...]) -> None:
        self.fields = fields
        self.conditional = conditional
        """Attributes libcst skipped on the probed node because they were empty: a few nodes
        (`FormattedStringExpression.format_spec`) visit an attribute only when it is set."""


_SHAPES: dict[type, _Shape] = {}


class _Recorder(cst.CSTVisitor):
    def __init__(self, node: cst.CSTNode) -> None:
        super().__init__()
        self.node = node
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node is self.node

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        if node is self.node:
            self.fields.append(attribute)


def _probe(node: cst.CSTNode) -> _Shape:
    # The visiting order lives in each class's generated `_visit_and_replace_children`; asking
    # it once per class keeps this walk in step with whatever libcst version is installed.
    recorder = _Recorder(node)
    node.visit(recorder)
    fields = tuple(recorder.fields)
    known = _SHAPES.get(type(node))
    if known is not None and len(known.fields) >= len(fields):
        return known
    conditional = tuple(
        item.name
        for item in dataclasses.fields(node)
        if item.name not in fields and getattr(node, item.name) in (None, ())
    )
    shape = _Shape(fields, conditional)
    _SHAPES[type(node)] = shape
    return shape


_NODE_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    # `CSTNode` is an ABC: `isinstance` against it goes through `__instancecheck__`, which
    # costs more than the rest of a node's visit. A dictionary of concrete types does not.
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


def _holds_children(value: object) -> bool:
    kind = type(value)
    return _is_node(kind) or ((kind is tuple or kind is list) and bool(value))


def _shape(node: cst.CSTNode) -> _Shape:
    shape = _SHAPES.get(type(node))
    if shape is None or (
        shape.conditional
        and any(_holds_children(getattr(node, name)) for name in shape.conditional)
    ):
        shape = _probe(node)
    return shape


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """`node.children` without its cost: libcst collects them by rebuilding the node (with
    validation) through a visitor; this reads the same attributes in the same order."""
    # Called for most nodes of every walk over a function: `_shape` and `_is_node` inlined
    # as in `visit_batched`.
    shape = _SHAPES.get(type(node))
    if shape is None or shape.conditional:
        shape = _shape(node)
    is_node = _NODE_TYPES
    found: list[cst.CSTNode] = []
    for name in shape.fields:
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            found.extend(value)
        elif is_node.get(kind) or (kind not in is_node and _is_node(kind)):
            found.append(value)
    return found


def visit_batched(module: cst.CSTNode, visitors: Sequence[cst.BatchableCSTVisitor]) -> None:
    """Call every visitor's methods on every node of `module`, as `libcst.visit_batched`."""
    by_name: dict[str, list[Method]] = {}
    for visitor in visitors:
        for name, method in visitor.get_visitors().items():
            by_name.setdefault(name, []).append(method)
    if any(name.count("_") > 1 for name in by_name):
        # `visit_<Node>_<attribute>` hooks: libcst calls them for some empty attributes and
        # not for others; no rule needs them, so they get libcst's own walk.
        cst.visit_batched(module, visitors)
        return
    hooks: dict[type, tuple[list[Method], list[Method]]] = {}
    shapes = _SHAPES
    is_node = _NODE_TYPES

    # An explicit stack rather than a recursive closure: a closure that calls itself is a
    # cycle holding the visitors and, through them, the tree, and checks run with the cyclic
    # collector paused (it would keep every segment of a large file alive). An entry is a
    # node to visit, or the `leave_*` methods of a node whose children are all done.
    stack: list[cst.CSTNode | tuple[list[Method], cst.CSTNode]] = [module]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            leave, done = item
            for hook in leave:
                hook(done)
            continue
        node = item
        cls = type(node)
        found = hooks.get(cls)
        if found is None:
            found = hooks[cls] = (
                by_name.get(f"visit_{cls.__name__}", []),
                by_name.get(f"leave_{cls.__name__}", []),
            )
        for hook in found[0]:
            hook(node)
        if found[1]:
            stack.append((found[1], node))
        shape = shapes.get(cls)
        if shape is None or shape.conditional:
            shape = _shape(node)
        pending: list[cst.CSTNode] = []
        for name in shape.fields:
            value = getattr(node, name)
            kind = type(value)
            if kind is tuple or kind is list:
                pending.extend(value)
            elif is_node.get(kind) or (kind not in is_node and _is_node(kind)):
                pending.append(value)
        pending.reverse()
        stack.extend(pending)
