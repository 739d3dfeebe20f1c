"""`pylint`: `path:row: [CODE] message`, the shape pylint's parseable output has."""

from __future__ import annotations

from sqlsafe.report import Report


def render(report: Report) -> str:
    return "".join(
        f"{report.display_path(d.path)}:{d.start.row}: [{d.code}] {d.message}\n"
        for d in report.diagnostics
    )
