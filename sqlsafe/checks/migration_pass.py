"""The pre-pass of a run for DETACH001-003 (libcst is imported only when they are selected).

The DETACH fixes change what functions return, so which functions are converted is decided
for the whole run before any file is fixed (`sqlsafe.checks.migration`); the CLI calls
`plan_run` right after building the project index.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlsafe.checks.project import Index

CODES = frozenset({"DETACH001", "DETACH002", "DETACH003"})


def plan_run(index: Index, jobs: Sequence[object]) -> tuple[Index, frozenset[str]]:
    """The pre-pass of a run: the index with the plan attached, and the names of converted
    functions (files that mention one must not be skipped by the textual pre-filter: they
    may hold callers to migrate).

    `jobs` are the runner's jobs (`path`, `display`, `settings`, `text` for stdin). Every
    file is read; only those that may own a session or mention a converted function are
    parsed (callers need not import anything of SQLModel).
    """
    from sqlsafe import source as sources
    from sqlsafe.index import module_name
    from sqlsafe.runner import selection_for

    files = []
    settings_of: dict[Path, object] = {}
    enabled: dict[Path, frozenset[str]] = {}
    for job in jobs:
        path: Path = job.path  # type: ignore[attr-defined]
        settings = job.settings  # type: ignore[attr-defined]
        text: str | None = job.text  # type: ignore[attr-defined]
        selection = selection_for(path, settings)
        codes = frozenset(rule.code for rule in selection.rules) & CODES
        if not codes:
            continue
        if text is None:
            try:
                text = sources.read(path).text
            except sources.SourceError:
                continue
        enabled[path] = codes
        settings_of[path] = selection.rule_settings
        display: str = job.display  # type: ignore[attr-defined]
        files.append((path, display, module_name(path, settings.src_roots()), text))
    if not files:
        return index, frozenset()
    from sqlsafe.checks.migration import attach_plan

    planned = attach_plan(index, files, enabled.__getitem__, settings_of.__getitem__)
    return planned, planned.migration_plan.names()
