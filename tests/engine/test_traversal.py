"""sqlsafe's read-only walk calls visitors exactly as `libcst.visit_batched` does."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from sqlsafe.traversal import (
    FastVisitors,
    children,
    visit_batched,
    visitor_names,
)

ROOT = Path(__file__).resolve().parents[2]

# Nodes libcst visits only when they are set (an f-string's format spec) and nodes whose
# attribute holds either one node or a sequence (`from m import *` vs a name list).
TRICKY = """
from a import *
from b import (c, d as e)
x = f"{value!r:>{width}} {plain} {nested:{inner:{deep}}}"
y = f"{value}"
async def g[T](p: int = 1, /, *args, k, **kw) -> T:
    async with a as b, c:
        await x
    match p:
        case [1, *rest] if rest:
            pass
        case {"k": v, **others}:
            pass
        case Point(x=0) | None:
            pass
    try:
        pass
    except* ValueError as error:
        raise
    lambda q, *, r=2: (yield from q)
    return [i async for i in b if i] or {k: v for k, v in d.items()} or {*s}
@decorator(1)
class C(Base, metaclass=M):
    a: int = 1; b = c = 2
    del a[1:2, ::3], b.c
    global g
print(*a, **b, sep="")
"""


class Recorder(cst.BatchableCSTVisitor):
    """Records every `visit_<Node>` / `leave_<Node>` call of a batched traversal."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int]] = []

    def get_visitors(self):  # type: ignore[no-untyped-def]
        names = [f"{kind}_{cls.__name__}" for cls in _node_classes() for kind in ("visit", "leave")]
        return {name: self._recorder(name) for name in names}

    def _recorder(self, name: str):  # type: ignore[no-untyped-def]
        return lambda node: self.calls.append((name, id(node)))


def _node_classes() -> list[type]:
    found: list[type] = []
    pending = [cst.CSTNode]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _sources() -> list[str]:
    files = sorted((ROOT / "examples").rglob("*.py")) + sorted((ROOT / "sqlsafe").rglob("*.py"))
    return [TRICKY] + [path.read_text(encoding="utf-8") for path in files]


@pytest.mark.parametrize("source", _sources(), ids=lambda source: source.split("\n")[1][:40])
def test_same_calls_in_the_same_order_as_libcst(source: str) -> None:
    module = cst.parse_module(source)
    theirs, ours = Recorder(), Recorder()
    cst.visit_batched(module, [theirs])
    visit_batched(module, [ours])
    assert ours.calls == theirs.calls


def test_every_visited_node_of_the_tricky_source() -> None:
    module = cst.parse_module(TRICKY)
    theirs, ours = Recorder(), Recorder()
    cst.visit_batched(module, [theirs])
    visit_batched(module, [ours])
    visited = {name for name, _ in ours.calls}
    assert {"visit_FormattedStringText", "visit_MatchOr", "visit_ImportStar"} <= visited
    assert ours.calls == theirs.calls


class Finder(FastVisitors):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)

    def leave_Call_func(self, node: cst.Call) -> None:
        self.names.append("<func>")


def test_visitor_methods_are_found_without_libcst_stubs() -> None:
    assert visitor_names(Finder) == ("leave_Call_func", "visit_Name")
    finder = Finder()
    assert set(finder.get_visitors()) == set(
        cst.BatchableCSTVisitor.get_visitors(finder)  # libcst's own discovery
    )
    visit_batched(cst.parse_module("f(x)\n"), [finder])
    assert finder.names == ["f", "<func>", "x"]


class AttributeHooks(FastVisitors):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def visit_Call_args(self, node: cst.Call) -> None:
        self.seen.append("args")

    def leave_FormattedStringExpression_format_spec(self, node: cst.CSTNode) -> None:
        self.seen.append("spec")


def test_attribute_hooks_keep_libcst_semantics() -> None:
    module = cst.parse_module('f(1)\ng(f"{a} {b:>3}")\n')
    theirs, ours = AttributeHooks(), AttributeHooks()
    cst.visit_batched(module, [theirs])
    visit_batched(module, [ours])
    assert ours.seen == theirs.seen == ["args", "args", "spec"]


class Every(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.nodes.append(node)
        return True


@pytest.mark.parametrize("source", _sources()[:12], ids=lambda source: source.split("\n")[1][:40])
def test_children_are_libcsts_children(source: str) -> None:
    every = Every()
    cst.parse_module(source).visit(every)
    for node in every.nodes:
        assert [id(child) for child in children(node)] == [id(child) for child in node.children]
