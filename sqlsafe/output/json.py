"""`json`: an array of diagnostic objects with Ruff's keys, sorted, indented, no final newline."""

from __future__ import annotations

import json
from typing import Any

from sqlsafe.diagnostics import Diagnostic
from sqlsafe.output._shared import absolute_path, sorted_edits
from sqlsafe.report import Report


def to_dict(report: Report, d: Diagnostic) -> dict[str, Any]:
    """One diagnostic as Ruff's JSON shows it (shared with `json-lines`)."""
    fix = None
    if d.fix is not None:
        fix = {
            "applicability": d.fix.applicability.value,
            "edits": [
                {
                    "content": edit.content,
                    "end_location": edit.end.to_json(),
                    "location": edit.start.to_json(),
                }
                for edit in sorted_edits(d.fix)
            ],
            "message": d.fix.message,
        }
    row: dict[str, Any] = {
        "cell": None,
        "code": d.code,
        "end_location": d.end.to_json(),
        "filename": absolute_path(report, d.path),
        "fix": fix,
        "location": d.start.to_json(),
        "message": d.message,
        "name": d.name,
        "noqa_row": d.noqa_row if d.is_rule else None,
        "severity": d.severity.value,
        "url": d.url if d.is_rule else None,
    }
    if d.related:
        # sqlsafe's one key beyond Ruff's, only where there is a story to tell.
        row["related"] = [
            {**r.to_json(), "filename": absolute_path(report, r.path)} for r in d.related
        ]
    return row


def render(report: Report) -> str:
    rows = [to_dict(report, d) for d in report.diagnostics]
    return json.dumps(rows, indent=2, sort_keys=True, ensure_ascii=False)
