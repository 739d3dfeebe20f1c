"""`github`: GitHub Actions workflow commands that annotate the changed lines of a pull request."""

from __future__ import annotations

from sqlsafe.output._shared import PROGRAM, absolute_path
from sqlsafe.report import Report


def _data(text: str) -> str:
    # GitHub decodes these three in a command's message; anything else is taken literally.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    out = []
    for d in report.diagnostics:
        start, end = d.start, d.end
        position = f"line={start.row},"
        # GitHub rejects `col`/`endColumn` on an annotation that spans several lines.
        if start.row == end.row:
            position += f"col={start.column},endLine={end.row},endColumn={end.column}"
        else:
            position += f"endLine={end.row}"
        code = d.code if d.is_rule else f"{d.code}:"
        message = f"{report.display_path(d.path)}:{start.row}:{start.column}: {code} {d.message}"
        if d.fix is not None and d.fix.message:
            message += f"\n  help: {d.fix.message}"
        out.append(
            f"::{d.severity.value} title={_property(f'{PROGRAM} ({d.code})')},"
            f"file={_property(absolute_path(report, d.path))},{position}::{_data(message)}\n"
        )
    return "".join(out)
