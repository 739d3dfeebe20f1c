"""The DETACH plan of a run: which functions' instance returns are converted to dicts, and
where their callers are.

The DETACH fix `return model_to_dict(obj)` changes what callers get, so which functions are
converted is decided for the whole run before any file is fixed: a function is converted
only when every reference to it in the run's files is a call whose result can be followed,
and only when the run may write every file that changes with it. The plan is plain data: the
cache keeps it, and every file's check receives it (`FileContext.plan`).

The planner works from the candidates each file's check told (`FACTS` among its run facts),
parsing only callers: the run's own checks when it checks every file of its project, else
checks with the DETACH rules alone made for it first. No libcst here: what the planner
needs from a syntax tree it asks of a `Tree` (`sqlsafe.checks.migration` reads them), and a
run with nothing to plan never imports it.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from sqlsafe import source as sources
from sqlsafe.prefilter import mentions_orm
from sqlsafe.selection import RuleSelection, RuleSettings

CODES = frozenset({"DETACH001", "DETACH002", "DETACH003"})
FACTS = "detach-candidates"
"""The key of a checked file's candidates (`Found`) among its run facts."""


# -- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A function with a flagged instance return, as the plan needs it: no syntax tree, so
    that a check can hand it to the planner and the cache can keep it."""

    qualname: str
    code: str
    shape: str
    """`queries.Shape`'s value."""
    model: str | None
    is_async: bool
    problem: str | None
    """Why the function cannot be converted, judged from its own file; None if it can."""
    flagged: tuple[tuple[int, str], ...]
    """(row, code) of every flagged return, the first one first."""


@dataclass(frozen=True)
class Target:
    """A converted function, as its callers need to know it."""

    qualname: str
    code: str
    shape: str
    """`queries.Shape`'s value."""
    model: str | None
    is_async: bool
    location: str


@dataclass
class Plan:
    converted: dict[str, Target] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    """qualname -> why it is not converted, naming the blocking site."""
    withheld: dict[str, str] = field(default_factory=dict)
    """Converted functions whose conversion this run may not write (it would change a file
    the run was not given): reported as in a run over the whole project, fixed as a
    function that is not converted (a refresh before the return, callers left alone)."""
    readers: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    """Converted function -> (path, row) of each call whose result is read, for the notes of
    its findings (not part of the fingerprint: the calls decide nothing more)."""

    def fingerprint(self) -> str:
        digest = hashlib.blake2b(digest_size=16)
        for name in sorted(self.converted):
            digest.update(repr(self.converted[name]).encode())
        for name in sorted(self.blocked):
            digest.update(f"{name}={self.blocked[name]}".encode())
        for name in sorted(self.withheld):
            digest.update(f"withheld {name}={self.withheld[name]}".encode())
        return digest.hexdigest()

    def names(self) -> frozenset[str]:
        """Plain names of converted functions: files that mention one may hold callers."""
        return frozenset(_short(name) for name in self.converted)


def fingerprint(plan: Plan | None) -> str:
    """What a file's cached outcome depends on of the plan ("": checked without one)."""
    return plan.fingerprint() if plan is not None else ""


def _short(qualname: str) -> str:
    return qualname.rpartition(".")[2]


# -- what the planner reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A reference to a converted function, as the planner needs it."""

    qualname: str
    row: int
    escape: str | None
    """Why the result cannot be followed; None if it can."""
    reads: bool
    """The result is read (its reads are rewritten with the conversion)."""


class Tree(Protocol):
    """A planned file's syntax tree, asked what the planner needs of it."""

    def candidates(self) -> tuple[Found, ...]: ...

    def calls(self, converted: Mapping[str, Target]) -> Sequence[Call]: ...


@dataclass(eq=False)
class PlanFile:
    """One file as the planner sees it; parsed only if its text may matter."""

    display: str
    tree: Callable[[], Tree | None]
    """Parses the file (None: it does not parse)."""
    text: str | None = None
    """The source, for textual pre-filters and `# noqa`; None: always parse."""
    enabled: frozenset[str] = CODES
    """Which DETACH codes are selected for this file (per-file ignores applied)."""
    owners: frozenset[str] = frozenset()
    """Names whose call makes a session (the index's factories)."""
    found: tuple[Found, ...] | None = None
    """The file's candidates when its check has told them already; None: parse to find."""
    _parsed: list[Tree | None] = field(default_factory=list, repr=False)

    def parsed(self) -> Tree | None:
        if not self._parsed:
            self._parsed.append(self.tree())
        return self._parsed[0]

    def may_own_sessions(self) -> bool:
        return self.text is None or may_own_sessions(self.text, self.owners)

    def mentions(self, names: Collection[str]) -> bool:
        return self.text is None or any(name in self.text for name in names)

    def suppressed(self, row: int, code: str) -> bool:
        """Whether a diagnostic of `code` on `row` would be suppressed by `# noqa`."""
        if self.text is None:
            return False
        from sqlsafe import suppression
        from sqlsafe.locator import Locator

        noqa = suppression.parse(self.text, self.display, Locator(self.text))
        if noqa.file_blanket or code in noqa.file_codes:
            return True
        directive = noqa.lines.get(noqa.noqa_row(row))
        return directive is not None and directive.covers(code)


def may_own_sessions(text: str, owners: Collection[str]) -> bool:
    """Whether a file may hold a candidate: it returns something and names a session class,
    `.begin(` or one of the project's session factories."""
    if "return" not in text:
        return False
    return "Session" in text or ".begin(" in text or any(name in text for name in owners)


def decide(files: Sequence[PlanFile]) -> Plan:
    """Decide which functions are converted, looking at every file of the run."""
    plan = Plan()
    for file in files:
        found = file.found
        if found is None:
            if not file.may_own_sessions():
                continue
            try:
                tree = file.parsed()
                found = tree.candidates() if tree is not None else ()
            except Exception:
                # The file's own check reports the failure; its functions stay as they are.
                continue
        for candidate in found:
            if candidate.problem is not None:
                plan.blocked[candidate.qualname] = candidate.problem
            elif candidate.code not in file.enabled:
                plan.blocked[candidate.qualname] = f"{candidate.code} is not selected there"
            elif any(file.suppressed(row, code) for row, code in candidate.flagged):
                plan.blocked[candidate.qualname] = "its diagnostic is suppressed with `# noqa`"
            else:
                plan.converted[candidate.qualname] = Target(
                    candidate.qualname,
                    candidate.code,
                    candidate.shape,
                    candidate.model,
                    candidate.is_async,
                    f"{file.display}:{candidate.flagged[0][0]}",
                )
    if plan.converted:
        _follow_callers(plan, files)
    return plan


def _follow_callers(plan: Plan, files: Sequence[PlanFile]) -> None:
    short = plan.names()
    for file in files:
        if not file.mentions(short):
            continue
        try:
            tree = file.parsed()
            if tree is None:
                continue
            calls = tree.calls(plan.converted)
        except Exception:
            # Callers that cannot be followed must not see their callee converted.
            for name in list(plan.converted):
                plan.blocked[name] = f"{file.display}: its callers could not be analysed"
            plan.converted.clear()
            return
        for call in calls:
            target = plan.converted.get(call.qualname)
            if target is None:
                continue
            problem = call.escape
            if problem is None and call.reads:
                if target.code not in file.enabled:
                    problem = f"{target.code} is not selected in that file"
                elif file.suppressed(call.row, target.code):
                    problem = "the call's diagnostic is suppressed with `# noqa`"
            if problem is not None:
                del plan.converted[target.qualname]
                plan.blocked[target.qualname] = f"{file.display}:{call.row}: {problem}"
            elif call.reads:
                plan.readers.setdefault(target.qualname, []).append((file.display, call.row))


# -- the planner --------------------------------------------------------------------------------


class Settings(Protocol):
    """What the planner reads of a file's settings."""

    @property
    def root(self) -> Path: ...

    def src_roots(self) -> list[Path]: ...


class Source(Protocol):
    """A file of the run as the planner reads it (the runner's job)."""

    @property
    def path(self) -> Path: ...

    @property
    def display(self) -> str: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def text(self) -> str | None: ...

    def read(self) -> sources.Source:
        """The file, decoded once (raises `SourceError`)."""
        ...


@dataclass(frozen=True)
class _Read:
    """A file with the text the planner sees of it (None: it cannot be decoded)."""

    source: Source
    text: str | None


Trees = Callable[[Path, str, str, RuleSettings], Callable[[], Tree | None]]
"""(path, module name, text, rule settings) -> what parses that file for the planner."""


@dataclass
class Planner:
    """Plans a run from the candidates every file's check told (`from_facts`)."""

    project: Sequence[Source]
    """The project's files the run was not given: planned over, not written."""
    select: Callable[[Source], RuleSelection]
    """The rules enabled for a file."""
    trees: Callable[[], Trees]
    """Gives what parses files for the planner (called only when there is something to
    plan: it imports libcst)."""
    owners: frozenset[str] = frozenset()
    """The plain names of the project's session factories."""
    names: frozenset[str] | None = frozenset()
    """What the pre-filter looks for besides the ORM's own modules (None: no pre-filter)."""
    ignored: Callable[[Path, bool], bool] = lambda path, is_dir: False
    """Files and folders (path, is_dir) outside the run that are not project code (what
    `.gitignore` ignores: a build's copy of the sources, say): their mentions of a converted
    function do not block it."""
    writable: frozenset[Path] | None = None
    """The files a partial fix run may write (None: every file): a conversion that would
    change another file (its definition or a caller there) is withheld."""

    def from_facts(
        self, jobs: Sequence[Source], facts: Mapping[Path, Mapping[str, object]]
    ) -> Plan:
        """The plan from the run facts of every file's check (of `jobs` and of the project
        the run was not given): only callers are parsed."""
        return self._plan(jobs, facts)

    def key(
        self, plan: Plan | None, jobs: Sequence[Source], describe: Callable[[Source, bool], str]
    ) -> list[str]:
        """What `plan`, made over `jobs`, depends on: every file's place in the run, and the
        text of the files that can hold a function it decides on. While it converts nothing,
        those are the files that may own a session (what the planner parses); once it
        converts a function, every file may hold a caller: every text counts, and so does
        every project file outside the run (one that names the function blocks it).
        `describe(file, every_text)` gives a file's part: its place in the run, and its
        content when `every_text` or when the planner looks into it (`looks_into`)."""
        everything = plan is not None and bool(plan.converted)
        parts = [f"everything={everything}", f"writable={sorted(self.writable or ())}"]
        # In path order: a check of one file plans what the check of the whole tree does.
        for source in sorted([*jobs, *self.project], key=lambda source: source.path):
            parts.append(describe(source, everything))
        if everything:
            roots = {source.settings.root for source in jobs}
            checked = {source.path.resolve() for source in jobs}
            for _, path in outside_files(roots, checked, self.ignored):
                with contextlib.suppress(OSError):
                    stat = path.stat()
                    parts.append(f"outside {path}={stat.st_size}:{stat.st_mtime_ns}")
        return parts

    def _plan(self, jobs: Sequence[Source], facts: Mapping[Path, Mapping[str, object]]) -> Plan:
        # A function is a candidate only in a file that passes the pre-filter (the promise
        # its own check relies on too), so the planner first sees only those files' text:
        # it then parses a handful of files rather than every file that mentions some
        # `Session`. Callers need no such test, but they matter only once a function is
        # converted; then the planner runs again on every text.
        read = [_Read(source, text_of(source)) for source in [*jobs, *self.project]]
        passing = [self.names is None or mentions_orm(r.text or "", self.names) for r in read]
        if not any(passing):
            return Plan()  # nothing to plan, and no libcst to import for it
        roots = {r.source.settings.root for r in read}
        only = [r if p else _Read(r.source, "") for r, p in zip(read, passing, strict=True)]
        plan = self._over(only, roots, facts)
        if plan.converted:
            plan = self._over(read, roots, facts)
        return plan

    def _over(
        self,
        read: Sequence[_Read],
        roots: set[Path],
        facts: Mapping[Path, Mapping[str, object]],
    ) -> Plan:
        from sqlsafe.index import module_name
        from sqlsafe.segments import LARGE

        files: list[tuple[Path, PlanFile]] = []
        # Checked in segments (`sqlsafe.segments`), whose callers of a converted function
        # could not be followed: a mention of one blocks its conversion.
        large: list[tuple[str, str]] = []
        trees: Trees | None = None
        for item in read:
            source = item.source
            selection = self.select(source)
            codes = frozenset(rule.code for rule in selection.rules) & CODES
            if not codes:
                continue
            text = item.text
            if text is None:
                continue  # its check reports that it cannot be decoded
            if len(text) > LARGE:
                large.append((source.display, text))
                continue
            trees = trees or self.trees()
            name = module_name(source.path, source.settings.src_roots())
            tree = trees(source.path, name, text, selection.rule_settings)
            told = _found(facts.get(source.path, {}))
            file = PlanFile(source.display, tree, text, codes, self.owners, told)
            files.append((source.path, file))
        plan = decide([file for _, file in files])
        for display, text in large:
            for qualname in list(plan.converted):
                if _short(qualname) in text:
                    del plan.converted[qualname]
                    blocked = f"{display} mentions `{_short(qualname)}` and is too large to follow"
                    plan.blocked[qualname] = blocked
        if plan.converted:
            checked = {path.resolve() for path, _ in files}
            _block_callers_outside(plan, roots, checked, self.ignored)
        if plan.converted and self.writable is not None:
            _withhold_unwritable(plan, files, self.writable)
        return plan


def text_of(source: Source) -> str | None:
    """The file's text (None: it cannot be read or decoded, which its check reports)."""
    if source.text is not None:
        return source.text
    try:
        return source.read().text
    except sources.SourceError:
        return None


def _found(told: Mapping[str, object]) -> tuple[Found, ...]:
    found = told.get(FACTS, ())
    assert isinstance(found, tuple)
    return found


def looks_into(text: str, names: Collection[str], owners: Collection[str]) -> bool:
    """Whether the planner parses a file for its candidates: it passes the pre-filter (the
    planner sees no other text) and may own a session."""
    return mentions_orm(text, names) and may_own_sessions(text, owners)


def concerned(
    before: Plan | None, after: Plan, facts: Mapping[Path, Mapping[str, object]]
) -> Callable[[Source], bool]:
    """Which files a check against `after` may tell differently from one against `before`,
    given each file's run facts from the check against `before`: a decision on a function
    (converted, blocked and why, withheld, read where) shows in the file defining it, and
    a conversion also in every file naming the function (its callers)."""
    old = before or Plan()
    changed = {
        qualname
        for qualname in (*old.converted, *old.blocked, *after.converted, *after.blocked)
        if _decision(old, qualname) != _decision(after, qualname)
    }
    called = {_short(q) for q in changed if q in old.converted or q in after.converted}

    def concerns(source: Source) -> bool:
        if any(found.qualname in changed for found in _found(facts.get(source.path, {}))):
            return True
        text = text_of(source)
        return text is None or any(name in text for name in called)

    return concerns


def _decision(plan: Plan, qualname: str) -> tuple[object, ...]:
    return (
        plan.converted.get(qualname),
        plan.blocked.get(qualname),
        plan.withheld.get(qualname),
        plan.readers.get(qualname),
    )


# -- files outside the run ----------------------------------------------------------------------


def _withhold_unwritable(
    plan: Plan, files: Sequence[tuple[Path, PlanFile]], writable: frozenset[Path]
) -> None:
    """Withhold the conversions that would change a file the run may not write: the file
    defining the function, or one naming it in code."""
    path_of = {file.display: path for path, file in files}
    for qualname, target in plan.converted.items():
        display = target.location.rpartition(":")[0]
        if path_of.get(display) not in writable:
            plan.withheld[qualname] = f"it is defined in {display}, which this run does not fix"
    for path, file in files:
        if path in writable or file.text is None:
            continue
        for qualname in plan.converted.keys() - plan.withheld.keys():
            if _names_in(file.text, _short(qualname)):
                plan.withheld[qualname] = (
                    f"{file.display} calls it, and this run does not fix that file"
                )


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
    plan: Plan, roots: set[Path], checked: set[Path], ignored: Callable[[Path, bool], bool]
) -> None:
    """A converted function must not change under a caller this run does not fix: a project
    file outside the run that mentions its name blocks the conversion (`sqlsafe fix` on one
    file of a package must not break its neighbours)."""
    for root, path in outside_files(roots, checked, ignored):
        if not plan.converted:
            return
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for qualname in list(plan.converted):
            short = _short(qualname)
            if _names_in(text, short):
                del plan.converted[qualname]
                shown = path.relative_to(root).as_posix()
                plan.blocked[qualname] = f"{shown} mentions `{short}` and is not part of this run"


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
