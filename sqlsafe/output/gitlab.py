"""`gitlab`: a GitLab Code Quality report (the CodeClimate issue subset GitLab reads)."""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from sqlsafe.diagnostics import Diagnostic, Severity
from sqlsafe.output._shared import absolute_path
from sqlsafe.report import Report

_SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor"}


def _path(report: Report, d: Diagnostic) -> str:
    # GitLab resolves report paths against the checkout, which CI names in CI_PROJECT_DIR.
    project_dir = os.environ.get("CI_PROJECT_DIR")
    if not project_dir or str(d.path) == "-":
        return report.display_path(d.path)
    try:
        return os.path.relpath(absolute_path(report, d.path), project_dir)
    except ValueError:  # another drive on Windows: no relative path exists
        return absolute_path(report, d.path)


def _fingerprint(name: str, path: str, salt: int) -> int:
    digest = hashlib.blake2b(f"{salt}\0{name}\0{path}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def render(report: Report) -> str:
    issues: list[dict[str, Any]] = []
    seen: set[int] = set()
    for d in report.diagnostics:
        path = _path(report, d)
        # Like Ruff, the fingerprint ignores the position so that it survives edits above the
        # finding; repeats of a rule in one file get re-salted until they are unique.
        fingerprint = _fingerprint(d.name, path, 0)
        while fingerprint in seen:
            fingerprint = _fingerprint(d.name, path, fingerprint)
        seen.add(fingerprint)
        issues.append(
            {
                "check_name": d.code,
                "description": f"{d.code}: {d.message}",
                "severity": _SEVERITY[d.severity],
                "fingerprint": format(fingerprint, "x"),
                "location": {
                    "path": path,
                    "positions": {
                        "begin": {"line": d.start.row, "column": d.start.column},
                        "end": {"line": d.end.row, "column": d.end.column},
                    },
                },
            }
        )
    # Unlike the other JSON formats, Ruff keeps these keys in GitLab's documented order.
    return json.dumps(issues, indent=2, ensure_ascii=False)
