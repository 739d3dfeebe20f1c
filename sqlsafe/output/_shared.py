"""Pieces several output formats agree on, so that each format module only says what is its own."""

from __future__ import annotations

from pathlib import Path

from sqlsafe.diagnostics import Diagnostic, Edit, Fix
from sqlsafe.report import FixMode, Report

PROGRAM = "sqlsafe"
"""Where Ruff writes `ruff` (GitHub titles, JUnit names, SARIF and rdjson tool names)."""

INFORMATION_URI = "https://github.com/sqlsafe/sqlsafe"
"""The project's home, given to SARIF's `informationUri` and rdjson's `source.url`."""


def absolute_path(report: Report, path: Path) -> str:
    """The path machine formats print: absolute, resolved against the run's directory."""
    if str(path) == "-":
        return "-"
    return str(path if path.is_absolute() else report.cwd / path)


def shows_fix_marker(report: Report, diagnostic: Diagnostic) -> bool:
    """Ruff's `[*]`: never after `--fix`, because anything still fixable would have been fixed."""
    if report.mode in (FixMode.FIX, FixMode.FIX_ONLY):
        return False
    return report.applicable(diagnostic)


def title(report: Report, diagnostic: Diagnostic) -> str:
    """`SQL001 [*] message`, or `invalid-syntax: message` for findings that are not rules."""
    if not diagnostic.is_rule:
        return f"{diagnostic.code}: {diagnostic.message}"
    marker = "[*] " if shows_fix_marker(report, diagnostic) else ""
    return f"{diagnostic.code} {marker}{diagnostic.message}"


def sorted_edits(fix: Fix) -> list[Edit]:
    """Edits in source order, as Ruff keeps them in every fix it emits."""
    return sorted(fix.edits, key=lambda edit: (edit.start, edit.end))


def by_path(diagnostics: list[Diagnostic]) -> dict[Path, list[Diagnostic]]:
    """Diagnostics per file, files in the order the (sorted) diagnostics first name them."""
    groups: dict[Path, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        groups.setdefault(diagnostic.path, []).append(diagnostic)
    return groups


def plural(count: int, suffix: str = "s") -> str:
    return "" if count == 1 else suffix
