"""`json-lines`: the `json` objects, one compact object per line."""

from __future__ import annotations

import json

from sqlsafe.output.json import to_dict
from sqlsafe.report import Report


def render(report: Report) -> str:
    return "".join(
        json.dumps(to_dict(report, d), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        + "\n"
        for d in report.diagnostics
    )
