"""`full` (the default): each diagnostic with its source frame, the fix's help and a preview.

```
SQL001 [*] message
 --> app/db.py:3:8
  |
  ...source frame...
note: <related location's message>
  --> app/db.py:2:5
help: <fix message>
  ...fix preview...
note: This is an unsafe fix and may change runtime behavior
<blank line>
```
"""

from __future__ import annotations

from sqlsafe.diagnostics import Applicability, Diagnostic
from sqlsafe.output._fixdiff import fix_diff
from sqlsafe.output._shared import title
from sqlsafe.output._snippet import frame
from sqlsafe.report import Report

NOTES = {
    Applicability.UNSAFE: "This is an unsafe fix and may change runtime behavior",
    Applicability.DISPLAY_ONLY: (
        "This suggestion may be incorrect or produce invalid syntax. "
        "It requires manual review and cannot be applied automatically"
    ),
}


def render(report: Report) -> str:
    return "".join(_diagnostic(report, d) for d in report.diagnostics)


def _diagnostic(report: Report, d: Diagnostic) -> str:
    lines = [title(report, d)]
    location = f"{report.display_path(d.path)}:{d.start.row}:{d.start.column}"
    source = report.sources.get(d.path)
    if source is None:
        # Without the text there is nothing to frame: Ruff's file-level form, unindented.
        lines.append(f"--> {location}")
    else:
        source_frame = frame(source, d.start, d.end)
        lines.append(" " * source_frame.number_width + f"--> {location}")
        lines.extend(source_frame.lines)
    # The finding's story, each step with its own location (Ruff's sub-diagnostic shape).
    for related in d.related:
        lines.append(f"note: {related.message}")
        where = f"{report.display_path(related.path)}:{related.start.row}:{related.start.column}"
        lines.append(f"  --> {where}")
    if d.fix is not None:
        if d.fix.message:
            lines.append(f"help: {d.fix.message}")
        if source is not None:
            lines.extend(fix_diff(source, d.fix))
            note = NOTES.get(d.fix.applicability)
            if note:
                lines.append(f"note: {note}")
    return "\n".join(lines) + "\n\n"
