"""The annotated source frame of the `full` format, laid out like Ruff 0.17.5's.

```
  --> pkg/service.py:8:19
   |
 6 | def load(session, ids=[]):
 8 |     if session == None:
   |                   ^^^^
   |
```
Two lines of context around the range (blank ones at the edges dropped), a multi-line range
drawn with `/`, `|` and `_` in a two-column margin, and long lines cut around the range with
`…` the way Ruff's renderer (a port of rustc's) cuts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlsafe.diagnostics import Location
from sqlsafe.output._text import char_width, for_frame, split_lines, width

CONTEXT = 2
TERM_WIDTH = 140
"""The renderer's fixed line budget; Ruff does not ask the terminal."""
CUT = "…"

_PADDING = 6  # room kept next to the range when a long line is cut
_LONG_INDENT = 20  # an indentation above this is cut even when the line fits
_KEPT_INDENT = 4


@dataclass(frozen=True)
class Frame:
    number_width: int
    """Width of the line numbers; the `-->` line is indented by it."""
    lines: list[str]


def frame(source: str, start: Location, end: Location) -> Frame:
    lines = split_lines(source)
    s_row, s_col = _start(lines, start)
    e_row, e_col = _end(lines, end, (s_row, s_col))
    multiline = e_row != s_row

    first = max(1, s_row - CONTEXT)
    while first < s_row and not lines[first - 1].strip():
        first += 1
    last = min(_real_line_count(lines), e_row + CONTEXT)
    while last > e_row and not lines[last - 1].strip():
        last -= 1

    number_width = len(str(last))
    shown = {row: for_frame(lines[row - 1]) for row in range(first, last + 1)}

    def column(row: int, index: int) -> int:
        line = lines[row - 1]
        # A range may cover the line break, which takes one column after the text.
        return width(for_frame(line[:index])) + max(index - len(line), 0)

    start_column = column(s_row, s_col)
    if multiline:
        last_column = column(e_row, e_col - 1)
        slash = not lines[s_row - 1][:s_col].strip()
        span = (min(start_column, last_column), max(start_column, last_column) + 1)
    else:
        carets = max(column(s_row, e_col) - start_column, 1)
        span = (start_column, start_column + carets)
    margin = _Margin.compute(list(shown.values()), *span, TERM_WIDTH - (number_width + 3))

    gutter = " " * (number_width + 1) + "|"
    out = [gutter]
    for row in range(first, last + 1):
        code = margin.clip(shown[row])
        prefix = f"{row:>{number_width}} |"
        if multiline:
            mark = " "
            if row == s_row and slash:
                mark = "/"
            elif s_row < row <= e_row:
                mark = "|"
            out.append(f"{prefix} {mark} {code}" if code else f"{prefix} {mark}".rstrip())
        else:
            out.append(f"{prefix} {code}" if code else prefix)
        if row == s_row and not multiline:
            out.append(f"{gutter} {' ' * margin.shift(start_column)}{'^' * carets}")
        elif row == s_row and not slash:
            out.append(f"{gutter}  {'_' * (margin.shift(start_column) + 1)}^")
        if multiline and row == e_row:
            out.append(f"{gutter} |{'_' * (margin.shift(last_column) + 1)}^")
    # The frame is closed only after source text; an annotation line closes it already.
    if last != e_row:
        out.append(gutter)
    return Frame(number_width, out)


def _real_line_count(lines: Sequence[str]) -> int:
    # A source ending in a line break has no further line, though splitting yields one.
    return len(lines) - 1 if len(lines) > 1 and lines[-1] == "" else len(lines)


def _start(lines: Sequence[str], location: Location) -> tuple[int, int]:
    """(row, index in the line); a position past the last line is the end of that line."""
    real = _real_line_count(lines)
    row = max(location.row, 1)
    if row > real:
        return real, len(lines[real - 1])
    return row, min(max(location.column - 1, 0), len(lines[row - 1]))


def _end(lines: Sequence[str], location: Location, start: tuple[int, int]) -> tuple[int, int]:
    """Exclusive end; an end at the start of a later line ends on the line break before it."""
    real = _real_line_count(lines)
    row, index = location.row, location.column - 1
    if row > real:
        row, index = real, len(lines[real - 1]) + 1
    elif index <= 0 and row > start[0]:
        row -= 1
        index = len(lines[row - 1]) + 1
    else:
        index = min(max(index, 0), len(lines[row - 1]) + 1)
    return max((row, index), start)


@dataclass(frozen=True)
class _Margin:
    """Which columns of a long line to show (rustc's `Margin`, as Ruff's renderer keeps it)."""

    left: int
    right: int
    span_right: int
    column_width: int

    @classmethod
    def compute(
        cls, texts: list[str], span_left: int, span_right: int, column_width: int
    ) -> _Margin:
        indents = [width(text) - width(text.lstrip()) for text in texts if text.strip()]
        indent = max(min(indents, default=0) - _PADDING, 0)
        span_left = max(span_left - _PADDING, 0)
        span_right += _PADDING
        left = indent - (_LONG_INDENT - _KEPT_INDENT) if indent > _LONG_INDENT else 0
        right = max(max((width(text) for text in texts), default=0), left)
        if right - left > column_width:
            if span_right - indent <= column_width:
                left = indent
            elif span_right - span_left <= column_width:
                left = max(span_left - (column_width - (span_right - span_left)) // 2, 0)
            else:
                return cls(span_left, span_right, span_right, column_width)
            right = left + column_width
        return cls(left, right, span_right, column_width)

    def shift(self, column: int) -> int:
        return max(column - self.left, 0)

    def clip(self, text: str) -> str:
        line_width = width(text)
        start = min(self.left, line_width)
        if line_width - self.left <= self.column_width:
            stop = line_width
        else:
            stop = min(line_width, self.right)
        kept: list[str] = []
        position = taken = 0
        for char in text:
            char_columns = char_width(char)
            if position < start:
                position += char_columns
                continue
            if taken + char_columns > stop - start:
                break
            kept.append(char)
            taken += char_columns
        code = "".join(kept)
        if self.left > 0:
            code = CUT + code[1:]
        if self._cut_right(line_width):
            code = code[:-1] + CUT
        return code

    def _cut_right(self, line_width: int) -> bool:
        # The padding added to the range's right edge is not text that was cut.
        right = self.right - _PADDING if self.right == self.span_right else self.right
        return right < line_width and self.left + self.column_width < line_width
