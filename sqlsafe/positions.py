"""Where each node of a libcst tree starts and ends, as `PositionProvider` says, computed faster.

libcst computes positions with one code generation pass whose state records a `CodeRange`
for every node it renders. On a file with findings that pass was the largest part of the
check (a third of it on a 5 MB file): each token goes through a regular expression split to
follow lines and columns, each node builds two frozen `CodePosition`s and a `CodeRange`,
hashes itself through a Python `__hash__`, and each syntactic position goes through a
generator-based context manager. This state does the same pass and records the same numbers
as plain tuples keyed by node identity; a `CodeRange` is built only for the nodes a caller
asks for (those of findings and fixes). `tests/engine/test_positions.py` compares it with
libcst's provider node by node.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Protocol

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst._position import CodePosition, CodeRange

_NEWLINE = re.compile(r"\r\n?|\n")

Span = tuple[int, int, int, int]
"""Start line, start column, end line, end column."""


class _PositionState(CodegenState):
    """A code generation state that follows the line and column of the text it makes."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self.line = 1
        self.column = 0
        self.spans: dict[int, Span] = {}
        self._starts: list[tuple[int, int]] = []

    # Where the text goes is followed, the text itself not kept: `tokens` holds the first
    # token only, for `Module`, which asks whether any was made.
    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        if not self.tokens:
            self.tokens.append(value)
        if "\n" in value or "\r" in value:
            lines = _NEWLINE.split(value)
            self.line += len(lines) - 1
            self.column = len(lines[-1])
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._starts.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        line, column = self._starts.pop()
        # A syntactic position, recorded while the node was rendered, stands.
        self.spans.setdefault(id(node), (line, column, self.line, self.column))

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _Syntactic:
        return _Syntactic(self, node, start_node, end_node)


class _Syntactic:
    """`record_syntactic_position` as a plain context manager (libcst's is a generator)."""

    __slots__ = ("column", "end_node", "line", "node", "start_node", "state")

    def __init__(
        self,
        state: _PositionState,
        node: cst.CSTNode,
        start_node: cst.CSTNode | None,
        end_node: cst.CSTNode | None,
    ) -> None:
        self.state, self.node = state, node
        self.start_node, self.end_node = start_node, end_node
        self.line, self.column = state.line, state.column

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        state = self.state
        spans = state.spans
        start_line, start_column = self.line, self.column
        end_line, end_column = state.line, state.column
        if self.start_node is not None:
            start_line, start_column = spans[id(self.start_node)][:2]
        if self.end_node is not None:
            end_line, end_column = spans[id(self.end_node)][2:]
        spans[id(self.node)] = (start_line, start_column, end_line, end_column)


class NodeRanges(Protocol):
    """What the engine and the rules ask of positions: a node's range (libcst's metadata
    mapping answers it too)."""

    def __getitem__(self, node: cst.CSTNode, /) -> CodeRange: ...


class Positions:
    """Every node's `CodeRange`, made when asked. The tree is kept alive with it: its nodes
    are keyed by identity, which no other live object shares meanwhile."""

    def __init__(self, module: cst.Module) -> None:
        state = _PositionState(module)
        module._codegen(state)
        self._spans = state.spans
        self._module = module

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        start_line, start_column, end_line, end_column = self._spans[id(node)]
        return CodeRange(CodePosition(start_line, start_column), CodePosition(end_line, end_column))
