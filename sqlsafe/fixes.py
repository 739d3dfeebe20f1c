"""Turning rules' fix plans into text edits, and applying edits to source text.

Edits are character ranges; everything outside them is copied through untouched, which
is what keeps encodings, line endings and formatting intact.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import cached_property

import libcst as cst
from libcst.metadata import CodeRange

from sqlsafe.checks.base import BLOCK_INDENT, FixPlan, Insert, code_in_block
from sqlsafe.checks.blocks import indented
from sqlsafe.diagnostics import Diagnostic, Edit, Fix, Location
from sqlsafe.locator import Locator
from sqlsafe.positions import NodeRanges


def _start(code_range: CodeRange) -> Location:
    return Location(code_range.start.line, code_range.start.column + 1)


def _end(code_range: CodeRange) -> Location:
    return Location(code_range.end.line, code_range.end.column + 1)


class FixWriter:
    """Turns the fix plans of one parsed text into text edits."""

    def __init__(
        self,
        module: cst.Module,
        positions: NodeRanges,
        locator: Locator,
    ) -> None:
        self.module = module
        self.positions = positions
        self.locator = locator

    @cached_property
    def _statements(self) -> tuple[list[tuple[int, int]], list[str]]:
        """Where each statement starts, in order, and the indentation of its block."""
        positions = self.positions
        starts = sorted(
            ((positions[s].start.line, positions[s].start.column), indent)
            for s, indent in indented(self.module)
        )
        return [start for start, _ in starts], [indent for _, indent in starts]

    def indent_of(self, node: cst.CSTNode) -> str:
        """The indentation of the block around `node`: that of the innermost statement
        holding it, which is the last statement to start at or before it."""
        starts, indents = self._statements
        start = self.positions[node].start
        found = bisect_right(starts, (start.line, start.column)) - 1
        return indents[found] if found >= 0 else ""

    def text(self, node: cst.CSTNode, text: str) -> str:
        if BLOCK_INDENT not in text:
            return text
        return text.replace(BLOCK_INDENT, self.indent_of(node))

    def fix(self, plan: FixPlan) -> Fix:
        edits: list[Edit] = []
        for change in plan.changes:
            where = self.positions[change.node]
            if isinstance(change, Insert):
                at = _start(where) if change.before else _end(where)
                edits.append(Edit(at, at, self.text(change.node, change.text)))
            else:
                new = change.new
                code = new if isinstance(new, str) else code_in_block(self.module, new)
                start, end = _start(where), _end(where)
                if change.whole_lines:
                    start, end = self._lines(where)
                edits.append(Edit(start, end, self.text(change.node, code)))
        for source_module, name in plan.imports:
            edit = import_edit(self.module, self.positions, self.locator, source_module, name)
            if edit is not None:
                edits.append(edit)
        return Fix(tuple(sorted(edits)), plan.applicability, plan.message)

    def _lines(self, where: CodeRange) -> tuple[Location, Location]:
        """The whole lines `where` spans, their indentation and last line ending included."""
        below = where.end.line + 1
        end = (
            Location(below, 1)
            if below <= self.locator.row_count
            else self.locator.location(len(self.locator.text))
        )
        return Location(where.start.line, 1), end


def _imports_name(statement: cst.BaseSmallStatement, source_module: str, name: str) -> bool:
    if not isinstance(statement, cst.ImportFrom) or isinstance(statement.names, cst.ImportStar):
        return False
    if statement.relative or statement.module is None:
        return False
    module_name = cst.Module([]).code_for_node(statement.module)
    return module_name == source_module and any(
        isinstance(alias.name, cst.Name) and alias.name.value == name and alias.asname is None
        for alias in statement.names
    )


def import_edit(
    module: cst.Module,
    positions: NodeRanges,
    locator: Locator,
    source_module: str,
    name: str,
) -> Edit | None:
    """An insertion of `from source_module import name`, after the module's leading imports.

    None when the module already has that import at top level.
    """
    last_header: cst.CSTNode | None = None
    for index, statement in enumerate(module.body):
        if not isinstance(statement, cst.SimpleStatementLine):
            break
        smalls = statement.body
        if any(_imports_name(small, source_module, name) for small in smalls):
            return None
        is_docstring = (
            index == 0
            and len(smalls) == 1
            and isinstance(smalls[0], cst.Expr)
            and isinstance(smalls[0].value, (cst.SimpleString, cst.ConcatenatedString))
        )
        if is_docstring or all(isinstance(s, (cst.Import, cst.ImportFrom)) for s in smalls):
            last_header = statement
        else:
            break
    for statement in module.body:
        # An import further down (after code) still counts as present.
        if isinstance(statement, cst.SimpleStatementLine) and any(
            _imports_name(small, source_module, name) for small in statement.body
        ):
            return None
    newline = module.default_newline
    line = f"from {source_module} import {name}{newline}"
    if last_header is None:
        return Edit(Location(1, 1), Location(1, 1), line)
    row = positions[last_header].end.line
    if row >= locator.row_count:
        # The header is the last line and has no line ending.
        at = locator.location(len(locator.text))
        return Edit(at, at, newline + line.removesuffix(newline))
    at = Location(row + 1, 1)
    return Edit(at, at, line)


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    locator = Locator(text)
    pieces: list[str] = []
    cursor = len(text)
    for edit in sorted(set(edits), reverse=True):
        start, end = locator.offset(edit.start), locator.offset(edit.end)
        pieces.append(text[end:cursor])
        pieces.append(edit.content)
        cursor = start
    pieces.append(text[:cursor])
    return "".join(reversed(pieces))


def select_fixes(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics whose fixes can be applied together: first come, first served by position.

    Fixes that overlap a chosen one wait for the next round of the fix loop, when they are
    recomputed against the new text.
    """
    chosen: list[Diagnostic] = []
    for diagnostic in sorted(diagnostics, key=lambda d: (d.fix.edits[0].start, d.code)):  # type: ignore[union-attr]
        fix = diagnostic.fix
        assert fix is not None
        if not fix.edits:
            continue
        if any(fix.overlaps(other.fix) for other in chosen):  # type: ignore[arg-type]
            continue
        chosen.append(diagnostic)
    return chosen
