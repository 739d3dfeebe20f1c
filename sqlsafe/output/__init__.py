"""Every `--output-format`, each shaped like Ruff 0.17.5's output of the same name.

The CLI calls three functions:

- `render(fmt, report)`: the complete text for stdout (or `-o FILE`), summary lines included
  where Ruff prints them; `summary=False` is `-q`.
- `render_statistics(report, fmt)`: `--statistics` (text for `full`/`concise`, else `json`).
- `summary_lines(report)`: the closing lines alone (the CLI's `--diff` prints its diff first).

Only `full`, `concise` and `grouped` end with summary lines, and after `--fix-only` or
`--diff` they are all Ruff prints; the other formats print nothing then.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlsafe.output import (
    azure,
    concise,
    full,
    github,
    gitlab,
    grouped,
    json_lines,
    junit,
    pylint,
    rdjson,
    sarif,
)
from sqlsafe.output import json as json_format
from sqlsafe.output._shared import INFORMATION_URI, PROGRAM
from sqlsafe.output.summary import (
    fix_summary,
    statistics_json,
    statistics_text,
    summary_lines,
)
from sqlsafe.report import FixMode, Report

__all__ = [
    "FORMATS",
    "INFORMATION_URI",
    "PROGRAM",
    "render",
    "render_statistics",
    "summary_lines",
]

_RENDERERS: dict[str, Callable[[Report], str]] = {
    "concise": concise.render,
    "full": full.render,
    "json": json_format.render,
    "json-lines": json_lines.render,
    "junit": junit.render,
    "grouped": grouped.render,
    "github": github.render,
    "gitlab": gitlab.render,
    "pylint": pylint.render,
    "rdjson": rdjson.render,
    "azure": azure.render,
    "sarif": sarif.render,
}

FORMATS: tuple[str, ...] = tuple(_RENDERERS)
"""The `--output-format` values, spelled and ordered as Ruff lists them."""

_WITH_SUMMARY = frozenset({"full", "concise", "grouped"})


def render(fmt: str, report: Report, *, summary: bool = True) -> str:
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown output format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if report.mode in (FixMode.FIX_ONLY, FixMode.DIFF):
        # These modes do not report leftover diagnostics, only what was (or would be) fixed.
        return _closing(report, summary) if fmt in _WITH_SUMMARY else ""
    text = renderer(report)
    if fmt in _WITH_SUMMARY:
        text += _closing(report, summary)
    return text


def _closing(report: Report, summary: bool) -> str:
    # `-q` keeps the `--show-fixes` block: Ruff only silences the summary lines.
    text = fix_summary(report)
    if summary:
        text += "".join(line + "\n" for line in summary_lines(report))
    return text


def render_statistics(report: Report, fmt: str, *, summary: bool = True) -> str:
    """`--statistics`; Ruff supports it for `full`, `concise` and `json` only."""
    if fmt == "json":
        return statistics_json(report)
    if fmt in ("full", "concise"):
        return statistics_text(report, summary=summary)
    raise ValueError(f"Unsupported serialization format for statistics: {fmt}")
