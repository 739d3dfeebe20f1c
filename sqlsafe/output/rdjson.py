"""`rdjson`: reviewdog's diagnostic format; each fix edit becomes a suggestion."""

from __future__ import annotations

import json
from typing import Any

from sqlsafe.diagnostics import Diagnostic, Location
from sqlsafe.output._shared import INFORMATION_URI, PROGRAM, absolute_path, sorted_edits
from sqlsafe.report import Report


def _range(start: Location, end: Location) -> dict[str, Any]:
    return {
        "end": {"column": end.column, "line": end.row},
        "start": {"column": start.column, "line": start.row},
    }


def _diagnostic(report: Report, d: Diagnostic) -> dict[str, Any]:
    code: dict[str, Any] = {"value": d.code}
    if d.is_rule and d.url:
        code["url"] = d.url
    item: dict[str, Any] = {
        "code": code,
        "location": {"path": absolute_path(report, d.path), "range": _range(d.start, d.end)},
        "message": d.message,
    }
    if d.fix is not None:
        item["suggestions"] = [
            {"range": _range(edit.start, edit.end), "text": edit.content}
            for edit in sorted_edits(d.fix)
        ]
    return item


def render(report: Report) -> str:
    document = {
        "diagnostics": [_diagnostic(report, d) for d in report.diagnostics],
        "severity": "WARNING",
        "source": {"name": PROGRAM, "url": INFORMATION_URI},
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
