"""`azure`: Azure Pipelines `##vso[task.logissue ...]` logging commands."""

from __future__ import annotations

from sqlsafe.diagnostics import Severity
from sqlsafe.output._shared import absolute_path
from sqlsafe.report import Report


def _property(value: str) -> str:
    # `;` ends a property and `]` the property list; a line break would end the command.
    return (
        value.replace("%", "%AZP25")
        .replace(";", "%3B")
        .replace("]", "%5D")
        .replace("\r", "%0D")
        .replace("\n", "%0A")
    )


def _message(text: str) -> str:
    return text.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def render(report: Report) -> str:
    out = []
    for d in report.diagnostics:
        kind = "warning" if d.severity is Severity.WARNING else "error"
        out.append(
            f"##vso[task.logissue type={kind};"
            f"sourcepath={_property(absolute_path(report, d.path))};"
            f"linenumber={d.start.row};columnnumber={d.start.column};"
            f"code={_property(d.code)};]{_message(d.message)}\n"
        )
    return "".join(out)
