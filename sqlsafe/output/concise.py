"""`concise`: one `path:row:col: CODE [*] message` line per diagnostic."""

from __future__ import annotations

from sqlsafe.output._shared import title
from sqlsafe.report import Report


def render(report: Report) -> str:
    return "".join(
        f"{report.display_path(d.path)}:{d.start.row}:{d.start.column}: {title(report, d)}\n"
        for d in report.diagnostics
    )
