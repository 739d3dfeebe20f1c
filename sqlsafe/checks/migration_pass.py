"""The pre-pass of a run for DETACH001-003 (libcst is imported only when they are selected).

The DETACH fixes change what functions return, so which functions are converted is decided
for the whole run before any file is fixed (`sqlsafe.checks.migration`); the CLI calls
`plan_run` right after building the project index.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlsafe.checks.project import Index

CODES = frozenset({"DETACH001", "DETACH002", "DETACH003"})
FACTS = "detach-candidates"
"""The key of a checked file's candidates (`Found`) among its run facts."""


@dataclass(frozen=True)
class Found:
    """A candidate function as the run's plan needs it. No syntax tree and nothing of libcst:
    a check hands it to the planner, which then need not parse the file again, and the
    cache keeps it for a run that unpickles results without importing libcst."""

    qualname: str
    code: str
    shape: str
    """`lifetimes.Shape`'s value."""
    model: str | None
    is_async: bool
    problem: str | None
    """Why the function cannot be converted, judged from its own file; None if it can."""
    flagged: tuple[tuple[int, str], ...]
    """(row, code) of every flagged return, the first one first."""


def plan_run(
    index: Index,
    jobs: Sequence[object],
    facts: Mapping[Path, Mapping[str, object]] | None = None,
    ignored: Callable[[Path, bool], bool] = lambda path, is_dir: False,
    writable: Collection[Path] | None = None,
) -> tuple[Index, frozenset[str]]:
    """The pre-pass of a run: the index with the plan attached, and the names of converted
    functions (files that mention one must not be skipped by the textual pre-filter: they
    may hold callers to migrate).

    `jobs` are the runner's jobs (`path`, `display`, `settings`, `text` for stdin). Every
    file is read; only those that may own a session or mention a converted function are
    parsed (callers need not import anything of SQLModel). With `facts`, the run facts of
    every file's check, no file is parsed for its candidates: only callers are. `ignored`
    tells the files and folders (path, is_dir) outside the run that are not project code
    (what `.gitignore` ignores: a build's copy of the sources, say), whose mentions of a
    converted function do not block it. `writable`, when the run may write only some of
    the files it plans over, withholds the fix of every conversion that would change
    another file (its definition or a caller there).
    """
    from sqlsafe import source as sources
    from sqlsafe.index import module_name
    from sqlsafe.runner import selection_for
    from sqlsafe.segments import LARGE

    files = []
    # Checked in segments (`sqlsafe.segments`), whose callers of a converted function could
    # not be followed: a mention of one blocks its conversion.
    large: list[tuple[str, str]] = []
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
        if len(text) > LARGE:
            large.append((job.display, text))  # type: ignore[attr-defined]
            continue
        enabled[path] = codes
        settings_of[path] = selection.rule_settings
        display: str = job.display  # type: ignore[attr-defined]
        files.append((path, display, module_name(path, settings.src_roots()), text))
    if not files:
        return index, frozenset()
    from sqlsafe.checks.migration import attach_plan

    found = None
    if facts is not None:
        found = {path: told[FACTS] for path, told in facts.items() if FACTS in told}
    planned = attach_plan(
        index,
        files,
        enabled.__getitem__,
        settings_of.__getitem__,
        found,  # type: ignore[arg-type]
    )
    plan = planned.migration_plan
    for display, text in large:
        for qualname in list(plan.converted):
            short = qualname.rpartition(".")[2]
            if short in text:
                del plan.converted[qualname]
                plan.blocked[qualname] = f"{display} mentions `{short}` and is too large to follow"
    if plan.converted:
        roots = {job.settings.root for job in jobs}  # type: ignore[attr-defined]
        checked = {Path(path).resolve() for path, *_ in files}
        _block_callers_outside(plan, roots, checked, ignored)
    if plan.converted and writable is not None:
        _withhold_unwritable(plan, files, set(writable))
    return planned, planned.migration_plan.names()


def _withhold_unwritable(
    plan: object, files: Sequence[tuple[Path, str, str, str]], writable: set[Path]
) -> None:
    """Withhold the conversions that would change a file the run may not write: the file
    defining the function, or one naming it in code."""
    converted: dict[str, object] = plan.converted  # type: ignore[attr-defined]
    withheld: dict[str, str] = plan.withheld  # type: ignore[attr-defined]
    path_of = {display: path for path, display, *_ in files}
    for qualname, target in converted.items():
        display = target.location.rpartition(":")[0]  # type: ignore[attr-defined]
        if path_of.get(display) not in writable:
            withheld[qualname] = f"it is defined in {display}, which this run does not fix"
    for path, display, _, text in files:
        if path in writable:
            continue
        for qualname in converted.keys() - withheld.keys():
            if _names_in(text, qualname.rpartition(".")[2]):
                withheld[qualname] = f"{display} calls it, and this run does not fix that file"


# Folders that hold no project code (environments, caches, dependencies).
_SKIPPED = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env"})


def outside_files(
    roots: set[Path], checked: set[Path], ignored: Callable[[Path, bool], bool]
) -> Iterator[tuple[Path, Path]]:
    """(root, path) of every project Python file under `roots` that is not in `checked`
    (resolved paths): where callers the run does not fix may be."""
    import os

    for root in sorted(roots):
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(
                d
                for d in dirs
                if not (d.startswith(".") or d in _SKIPPED or ignored(Path(folder, d), True))
            )
            for name in sorted(names):
                path = Path(folder) / name
                if not name.endswith(".py") or path.resolve() in checked:
                    continue
                if not ignored(path, False):
                    yield root, path


def _block_callers_outside(
    plan: object, roots: set[Path], checked: set[Path], ignored: Callable[[Path, bool], bool]
) -> None:
    """A converted function must not change under a caller this run does not fix: a project
    file outside the run that mentions its name blocks the conversion (`sqlsafe fix` on one
    file of a package must not break its neighbours)."""
    converted: dict[str, object] = plan.converted  # type: ignore[attr-defined]
    blocked: dict[str, str] = plan.blocked  # type: ignore[attr-defined]
    for root, path in outside_files(roots, checked, ignored):
        if not converted:
            return
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for qualname in list(converted):
            short = qualname.rpartition(".")[2]
            if _names_in(text, short):
                del converted[qualname]
                shown = path.relative_to(root).as_posix()
                blocked[qualname] = f"{shown} mentions `{short}` and is not part of this run"


def _names_in(text: str, name: str) -> bool:
    """Whether the file names `name` in code (a file that does not parse may call anything)."""
    if name not in text:
        return False
    names = _names_in_code(text)
    return names is None or name in names


# Asked once per converted name, file after file: the last few texts' answers suffice.
@lru_cache(maxsize=8)
def _names_in_code(text: str) -> frozenset[str] | None:
    """The names the file uses as code, not in a comment or inside a longer string (a
    docstring's example, say): names, attributes, imports and strings of their own
    (`getattr(module, "name")`). None: the file does not parse, and may call anything."""
    import ast

    from sqlsafe.index import newer_syntax

    try:
        tree = newer_syntax.parse(text, "<caller>")
    except newer_syntax.PARSE_ERRORS:
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.alias):
            names.update(filter(None, (node.name, node.asname)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return frozenset(names)
