"""`sarif`: a SARIF 2.1.0 log with one run, as GitHub code scanning and other viewers read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlsafe import __version__
from sqlsafe.diagnostics import Diagnostic, Location
from sqlsafe.output._shared import INFORMATION_URI, PROGRAM, absolute_path, sorted_edits
from sqlsafe.report import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(report: Report, at: Path) -> str:
    path = absolute_path(report, at)
    # `as_uri` percent-encodes what a URI may not contain (spaces, non-ASCII letters).
    return Path(path).as_uri() if Path(path).is_absolute() else path


def _region(start: Location, end: Location) -> dict[str, int]:
    return {
        "endColumn": end.column,
        "endLine": end.row,
        "startColumn": start.column,
        "startLine": start.row,
    }


def _location(
    uri: str, start: Location, end: Location, message: str | None = None, number: int = 0
) -> dict[str, Any]:
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": _region(start, end)}
    }
    if message is not None:
        location["message"] = {"text": message}
    if number:
        location["id"] = number
    return location


def _result(report: Report, d: Diagnostic) -> dict[str, Any]:
    uri = _uri(report, d.path)
    result: dict[str, Any] = {
        "level": d.severity.value,
        "locations": [_location(uri, d.start, d.end)],
        "message": {"text": d.message},
        "ruleId": d.code,
    }
    if d.related:
        related = [
            _location(_uri(report, r.path), r.start, r.end, r.message, number)
            for number, r in enumerate(d.related, 1)
        ]
        result["relatedLocations"] = related
        # The story in the order it happens, ending at the finding itself.
        steps = [{"location": location} for location in related]
        steps.append({"location": _location(uri, d.start, d.end, d.message)})
        result["codeFlows"] = [{"threadFlows": [{"locations": steps}]}]
    if d.fix is not None:
        replacements = []
        for edit in sorted_edits(d.fix):
            replacement: dict[str, Any] = {"deletedRegion": _region(edit.start, edit.end)}
            if edit.content:
                replacement["insertedContent"] = {"text": edit.content}
            replacements.append(replacement)
        fix: dict[str, Any] = {
            "artifactChanges": [{"artifactLocation": {"uri": uri}, "replacements": replacements}]
        }
        # A SARIF message needs text, so a fix without one goes without a description.
        if d.fix.message:
            fix["description"] = {"text": d.fix.message}
        result["fixes"] = [fix]
    return result


def _rule(report: Report, code: str, example: Diagnostic) -> dict[str, Any]:
    meta = report.rules.get(code)
    explanation: str | None
    url: str | None
    if meta is not None:
        name, summary, severity = meta.name, meta.summary, meta.severity.value
        explanation, url = meta.explanation, meta.url
    else:
        # A rule the report has no metadata for is still described, from its finding.
        name, summary, severity = example.name, example.message, example.severity.value
        explanation, url = None, example.url
    rule: dict[str, Any] = {
        "defaultConfiguration": {"enabled": True, "level": severity},
        "help": {"text": summary},
        "id": code,
        "properties": {
            "id": code,
            "kind": PROGRAM,
            "name": name,
            "problem.severity": severity,
        },
        "shortDescription": {"text": summary},
    }
    if explanation:
        rule["fullDescription"] = {"text": explanation}
    if url:
        rule["helpUri"] = url
    return rule


def render(report: Report) -> str:
    examples: dict[str, Diagnostic] = {}
    for d in report.diagnostics:
        # Findings that are not rules (syntax errors) have a ruleId but no rule entry.
        if d.is_rule:
            examples.setdefault(d.code, d)
    document = {
        "$schema": SCHEMA,
        "runs": [
            {
                "results": [_result(report, d) for d in report.diagnostics],
                "tool": {
                    "driver": {
                        "informationUri": INFORMATION_URI,
                        "name": PROGRAM,
                        "rules": [_rule(report, code, examples[code]) for code in sorted(examples)],
                        "version": __version__,
                    }
                },
            }
        ],
        "version": "2.1.0",
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
