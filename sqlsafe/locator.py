"""Converting between character offsets and Ruff-style (row, column) locations."""

from __future__ import annotations

import bisect
import re

from sqlsafe.diagnostics import Location

_NEWLINE = re.compile(r"\r\n?|\n")


class Locator:
    def __init__(self, text: str) -> None:
        self.text = text
        # One regular expression pass: searching for "\r" from every line start would scan
        # to the end of a text without one each time (quadratic in its lines).
        starts = [0]
        starts.extend(match.end() for match in _NEWLINE.finditer(text))
        self.line_starts = starts

    def location(self, offset: int) -> Location:
        row = bisect.bisect_right(self.line_starts, offset) - 1
        return Location(row + 1, offset - self.line_starts[row] + 1)

    def offset(self, location: Location) -> int:
        if location.row > len(self.line_starts):
            return len(self.text)
        return min(self.line_starts[location.row - 1] + location.column - 1, len(self.text))

    def line(self, row: int) -> str:
        """The text of a 1-based row without its line ending."""
        start = self.line_starts[row - 1]
        end = self.line_starts[row] if row < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def line_end(self, row: int) -> int:
        """Offset just past the row's content, before its line ending."""
        return self.line_starts[row - 1] + len(self.line(row))

    @property
    def row_count(self) -> int:
        return len(self.line_starts)
