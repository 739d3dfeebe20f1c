"""Converting between character offsets and Ruff-style (row, column) locations."""

from __future__ import annotations

import bisect

from sqlsafe.diagnostics import Location


class Locator:
    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        index = 0
        length = len(text)
        while True:
            cr = text.find("\r", index)
            lf = text.find("\n", index)
            if cr == -1 and lf == -1:
                break
            if cr != -1 and (lf == -1 or cr < lf):
                index = cr + 2 if cr + 1 < length and text[cr + 1] == "\n" else cr + 1
            else:
                index = lf + 1
            starts.append(index)
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
