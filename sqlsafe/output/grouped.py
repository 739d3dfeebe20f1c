"""`grouped`: a `path:` heading per file, then `row:col CODE message` lines aligned per file."""

from __future__ import annotations

from sqlsafe.output._shared import by_path, title
from sqlsafe.report import Report


def render(report: Report) -> str:
    out = []
    for path, diagnostics in by_path(report.diagnostics).items():
        row_width = max(len(str(d.start.row)) for d in diagnostics)
        column_width = max(len(str(d.start.column)) for d in diagnostics)
        out.append(f"{report.display_path(path)}:\n")
        for d in diagnostics:
            # Rows align to the right and columns to the left, so the `:` lines up.
            position = f"{d.start.row:>{row_width}}:{d.start.column:<{column_width}}"
            out.append(f"  {position} {title(report, d)}\n")
        out.append("\n")
    return "".join(out)
