"""One run over many files: read, pre-filter, check or fix; in parallel when there are
enough files to pay for a process pool. Nothing is written here: the command writes the
fixed files once every file is done (`writer`, `journal`)."""

from __future__ import annotations

import dataclasses
import difflib
import gc
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pathspec

from sqlsafe import source as sources
from sqlsafe.checks.plan import Plan, text_of
from sqlsafe.checks.project import EmptyIndex, Index
from sqlsafe.checks.registry import load
from sqlsafe.config import Settings
from sqlsafe.diagnostics import Applicability, Diagnostic, Location, python_syntax_error
from sqlsafe.prefilter import mentions_orm, triggered
from sqlsafe.selection import RuleSelection, RuleSettings
from sqlsafe.writer import Stamp

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from sqlsafe.checks.base import Rule
    from sqlsafe.segments import Start

T = TypeVar("T")

IO_ERROR_CODE = "E902"
# Below this many files a pool costs more (start-up, pickling) than it saves.
POOL_THRESHOLD = 32


class Mode(Enum):
    CHECK = "check"
    FIX = "fix"  # write fixed files
    DIFF = "diff"  # compute fixes, write nothing
    ADD_NOQA = "add-noqa"


@dataclass(frozen=True)
class Options:
    mode: Mode = Mode.CHECK
    unsafe_fixes: bool = False
    noqa_reason: str | None = None
    prefilter: bool = True
    """Off only in tests that show the pre-filter hides nothing."""
    screen: bool = True
    """The syntactic screen (`sqlsafe.screen`); off only to show that it hides nothing."""


@dataclass
class Outcome:
    path: Path
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fixed: Counter[str] = field(default_factory=Counter)
    original: str | None = None
    fixed_text: str | None = None
    """The new text when fixes (or noqa comments) changed the file."""
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    noqa_added: int = 0
    facts: dict[str, object] = field(default_factory=dict)
    """The rules' run facts for the file as it was read (`Rule.run_facts`)."""
    unfixed: list[Diagnostic] = field(default_factory=list)
    """The diagnostics of the file as it was read: what stands when a fix is not written."""
    stamp: Stamp | None = None
    """The file's stat just before it was read, by whichever process read it."""

    def unwritten(self) -> None:
        """The fixed text was not written: report the file as it is."""
        self.diagnostics = self.unfixed
        self.fixed = Counter()
        self.fixed_text = None
        self.noqa_added = 0

    @property
    def changed(self) -> bool:
        return self.fixed_text is not None and self.fixed_text != self.original

    def diff(self, display: str) -> str:
        assert self.original is not None and self.fixed_text is not None
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.fixed_text.splitlines(keepends=True),
            fromfile=display,
            tofile=display,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def io_error(path: Path, message: str) -> Diagnostic:
    return Diagnostic(
        code=IO_ERROR_CODE,
        name="io-error",
        message=message,
        path=path,
        start=Location(1, 1),
        end=Location(1, 1),
        is_rule=False,
    )


@cache
def _spec(pattern: str) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines([pattern])


def per_file_ignored(path: Path, settings: Settings) -> frozenset[str]:
    """Selectors that `lint.per-file-ignores` switches off for this file."""
    try:
        relative = path.relative_to(settings.root).as_posix()
    except ValueError:
        relative = path.as_posix()
    ignored: set[str] = set()
    for glob, selectors in settings.per_file_ignores + settings.extend_per_file_ignores:
        negated = glob.startswith("!")
        pattern = glob[1:] if negated else glob
        matches = _spec(pattern).match_file(relative) or _spec(pattern).match_file(path.name)
        if matches != negated:
            ignored.update(selectors)
    return frozenset(ignored)


def selection_for(path: Path, settings: Settings) -> RuleSelection:
    return _selection(settings, per_file_ignored(path, settings))


@cache
def _selection(settings: Settings, ignored: frozenset[str]) -> RuleSelection:
    from sqlsafe.config import select_codes

    enabled = select_codes(
        settings.select + settings.extend_select, settings.ignore + tuple(ignored)
    )
    version = tuple(int(part) for part in settings.sqlalchemy_version.split("."))
    return RuleSelection(
        rules=tuple(load(code) for code in sorted(enabled)),
        fixable=settings.fixable_codes(),
        safe_fixes=select_codes(settings.extend_safe_fixes, ()),
        unsafe_fixes=select_codes(settings.extend_unsafe_fixes, ()),
        rule_settings=RuleSettings(
            helpers_module=settings.helpers_module, sqlalchemy_version=version
        ),
    )


@dataclass
class Job:
    path: Path
    display: str
    settings: Settings
    text: str | None = None
    """Given for stdin; read from `path` otherwise."""
    data: bytes | None = None
    """The file's bytes once read."""
    stamp: Stamp | None = None
    """The file's stat just before `data` was read: a write compares it with the file's."""
    _source: sources.Source | None = field(default=None, repr=False)

    def load(self, stat: os.stat_result | None = None) -> bytes:
        """The file's bytes, read once (raises `OSError`); `stat`: taken just before."""
        if self.data is None:
            self.stamp = Stamp.of(stat or os.stat(self.path))
            self.data = self.path.read_bytes()
        return self.data

    def read(self) -> sources.Source:
        """The file, decoded once (raises `SourceError`)."""
        if self._source is None:
            try:
                data = self.load()
            except OSError as error:
                raise sources.SourceError(error.strerror or str(error)) from None
            self._source = sources.decode(data)
        return self._source


@dataclass
class Run:
    options: Options
    index: Index = field(default_factory=EmptyIndex)
    index_names: frozenset[str] = frozenset()
    plan: Plan | None = None
    """The run's DETACH plan (None: each file is planned on its own)."""
    parsed: frozenset[Path] = frozenset()
    """Files CPython's parser accepted while the index was built: no syntax error to look for."""
    only: frozenset[str] | None = None
    """The codes of the rules this run is limited to (None: every enabled rule)."""

    def applicable(self, diagnostic: Diagnostic) -> bool:
        fix = diagnostic.fix
        if fix is None:
            return False
        return fix.applicability is Applicability.SAFE or (
            self.options.unsafe_fixes and fix.applicability is Applicability.UNSAFE
        )

    def may_parse(self, job: Job) -> bool:
        """Whether the file may need parsing (False: the pre-filter rules it out)."""
        text = text_of(job)
        return text is None or self._passes(text)

    def _passes(self, text: str) -> bool:
        return not self.options.prefilter or mentions_orm(text, self.index_names)

    def _selection(self, job: Job, text: str) -> RuleSelection | None:
        """The rules enabled for the file (none when the pre-filter rules it out); None when
        no rule is enabled for the file at all."""
        if not self._passes(text):
            return RuleSelection(rules=())
        selection = selection_for(job.path, job.settings)
        if self.only is not None:
            kept = tuple(rule for rule in selection.rules if rule.code in self.only)
            selection = dataclasses.replace(selection, rules=kept)
        return selection if selection.rules else None

    def _triggered(
        self, job: Job, selection: RuleSelection, text: str
    ) -> tuple[tuple[type[Rule], ...], list[Start] | None]:
        """The enabled rules that may report something in `text`, and where its top-level
        statements start when the screen saw that (`screen.screened`)."""
        rules = selection.rules
        if self.options.prefilter:
            rules = triggered(rules, text, self.index, self.plan)
        if not self.options.screen or not rules:
            return rules, None
        from sqlsafe.index import module_name
        from sqlsafe.screen import screened

        name = module_name(job.path, job.settings.src_roots())
        return screened(rules, text, job.path, name, self.index, self.plan)

    def process(self, job: Job) -> Outcome:
        outcome = Outcome(job.path)
        if job.text is not None:
            text = job.text
        else:
            try:
                text = job.read().text
            except sources.SourceError as error:
                outcome.diagnostics.append(io_error(job.path, str(error)))
                return outcome
            outcome.stamp = job.stamp
        outcome.original = text
        selection = self._selection(job, text)
        if selection is None:
            return outcome
        rules, starts = self._triggered(job, selection, text) if selection.rules else ((), None)
        if not rules:
            # Nothing to find, but a file that does not parse is still worth saying so.
            if job.path not in self.parsed:
                syntax_error = python_syntax_error(text, job.path)
                if syntax_error is not None:
                    outcome.diagnostics.append(syntax_error)
            return outcome
        # Imported only now: they import libcst, which a file the pre-filter rules out
        # must not cost.
        from sqlsafe import engine, suppression
        from sqlsafe.index import module_name
        from sqlsafe.locator import Locator

        name = module_name(job.path, job.settings.src_roots())

        def check(current: str) -> engine.CheckResult:
            # A fix may add what another rule keys on: the rules are chosen for each text,
            # among all that are enabled.
            chosen, at = (
                (rules, starts) if current is text else self._triggered(job, selection, current)
            )
            result = engine.check_source(
                current,
                job.path,
                name,
                dataclasses.replace(selection, rules=chosen),
                self.index,
                display_path=job.display,
                plan=self.plan,
                starts=at,
            )
            if current is text:
                outcome.facts = result.facts
                outcome.unfixed = result.diagnostics
            return result

        mode = self.options.mode
        if mode is Mode.CHECK:
            result = check(text)
        elif mode is Mode.ADD_NOQA:
            result = check(text)
            locator = Locator(text)
            edits = suppression.add_noqa_edits(
                locator,
                suppression.parse(text, job.display, locator),
                result.diagnostics,
                self.options.noqa_reason,
            )
            if edits:
                from sqlsafe.fixes import apply_edits

                outcome.fixed_text = apply_edits(text, edits)
                outcome.noqa_added = len(edits)
        else:
            fixed = engine.fix_source(text, check, self.applicable)
            result = fixed.remaining
            outcome.fixed = fixed.fixed
            if fixed.error is not None:
                outcome.errors.append(f"error: {job.display}: {fixed.error}")
            if fixed.text != text:
                outcome.fixed_text = fixed.text
        outcome.diagnostics = result.diagnostics
        outcome.warnings = result.warnings
        return outcome


Progress = Callable[[int], None]
"""Told how many more files are done."""

_TASK: Callable[[int], Any] | None = None
"""What a forked worker computes for each number it is given (inherited, never pickled)."""


def _run_chunk(chunk: list[int]) -> list[tuple[int, Any]]:
    assert _TASK is not None
    return [(number, _TASK(number)) for number in chunk]


def run_jobs(
    run: Run, jobs: list[Job], workers: int | None = None, progress: Progress | None = None
) -> list[Outcome]:
    """Outcomes in the order of `jobs`, computed in a fork pool when it pays off."""
    workers = workers or os.cpu_count() or 1
    results: list[Outcome | None] = [None] * len(jobs)

    def in_process(numbers: list[int]) -> None:
        for number in numbers:
            with _collector_paused():
                results[number] = run.process(jobs[number])
            if progress is not None:
                progress(1)

    # Files the pre-filter rules out cost a substring test: only the others go to workers.
    parsed = [number for number, job in enumerate(jobs) if run.may_parse(job)]
    if not pool_pays(len(parsed), workers):
        in_process(list(range(len(jobs))))
        return [outcome for outcome in results if outcome is not None]

    def process(number: int) -> Outcome:
        with _collector_paused():
            outcome = run.process(jobs[number])
        # The parent has the text already: only what it lacks goes back through the pipe.
        outcome.original = None
        return outcome

    def received(chunk: list[tuple[int, Outcome]]) -> None:
        for number, outcome in chunk:
            outcome.original = text_of(jobs[number])
            results[number] = outcome
        if progress is not None:
            progress(len(chunk))

    _warm_parser()
    in_pool(
        process,
        chunks_by_size(lambda number: _size(jobs[number]), parsed, workers),
        workers,
        received,
        meanwhile=lambda: in_process(sorted(set(range(len(jobs))).difference(parsed))),
    )
    return [outcome for outcome in results if outcome is not None]


def pool_pays(count: int, workers: int) -> bool:
    """Whether `count` tasks are worth a fork pool of `workers`."""
    return workers > 1 and count >= POOL_THRESHOLD and can_fork()


def can_fork() -> bool:
    return "fork" in _start_methods()


def in_pool(
    task: Callable[[int], T],
    chunks: list[list[int]],
    workers: int,
    received: Callable[[list[tuple[int, T]]], None],
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """`task(number)` for every number of `chunks`, in a fork pool of `workers`: forked
    workers inherit `task` and whatever it reads, so only the numbers and the results are
    pickled. `received` gets each chunk's results as they come back; `meanwhile` runs here
    while the workers work. Ctrl-C stops the workers and raises KeyboardInterrupt."""
    global _TASK
    _TASK = task
    # Imported here: a run that finds everything in the cache never starts a pool.
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from sqlsafe.lifetime import bind_to_parent

    context = multiprocessing.get_context("fork")
    # Objects alive now are shared with the workers copy-on-write: the collector must not
    # touch (and so copy) them in every worker.
    gc.freeze()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=bind_to_parent,
        initargs=(os.getpid(),),
    )
    ctrl_c = _CtrlC(pool)
    try:
        with ctrl_c:
            with ctrl_c.deferred():  # the workers are forked in `submit`
                pending = {pool.submit(_run_chunk, chunk) for chunk in chunks}
            if meanwhile is not None:
                meanwhile()
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    received(future.result())
    except BaseException as error:
        _stop(pool)
        if ctrl_c.seen and not isinstance(error, KeyboardInterrupt):
            raise KeyboardInterrupt from None  # the pool broke because Ctrl-C killed it
        raise
    else:
        pool.shutdown()
    finally:
        gc.unfreeze()
        _TASK = None
    if ctrl_c.seen:
        raise KeyboardInterrupt


class _CtrlC:
    """While a pool runs, Ctrl-C kills its workers before it raises KeyboardInterrupt here.
    Python drops a KeyboardInterrupt raised where exceptions are ignored (a fork hook, a
    finalizer): the run would then go on waiting for workers that keep going. With them
    dead the wait ends in any case, and `seen` tells why. While workers are forked it is
    not raised at all (the fork hooks would drop it), only once they are."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self.pool = pool
        self.parent = os.getpid()
        self.seen = False
        self.previous: Any = None
        self.deferring = False

    @contextmanager
    def deferred(self) -> Iterator[None]:
        self.deferring = True
        try:
            yield
        finally:
            self.deferring = False
        if self.seen:
            raise KeyboardInterrupt

    def __enter__(self) -> None:
        # Only the main thread receives signals (and may set their handlers).
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._interrupted)

    def __exit__(self, *exc_info: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def _interrupted(self, signum: int, frame: object) -> None:
        if os.getpid() != self.parent:
            return  # a worker just forked, not yet ignoring Ctrl-C: the parent stops it
        self.seen = True
        _kill(self.pool)
        if not self.deferring:
            raise KeyboardInterrupt


def _kill(pool: ProcessPoolExecutor) -> None:
    # The executor has no public way to stop tasks that are running.
    for process in list((pool._processes or {}).values()):
        process.kill()


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now (Ctrl-C, or a failure): a shutdown alone would let each finish
    the tasks it has, and wait for it."""
    _kill(pool)
    pool.shutdown(wait=True, cancel_futures=True)


def chunks_by_size(
    size_of: Callable[[int], int], numbers: list[int], workers: int
) -> list[list[int]]:
    """The `numbers` of files (`size_of(number)`: in bytes) in pool tasks: biggest files first,
    one per task, then the small rest in small chunks: a large file must not end up last,
    alone on one core while the others idle, nor share a chunk with the next largest. A
    task costs a fraction of a millisecond; a large file, seconds."""
    order = sorted(numbers, key=lambda number: -size_of(number))
    alone = len(order) // 4
    size = max(1, min(8, (len(order) - alone) // (workers * 8)))
    rest = order[alone:]
    return [[number] for number in order[:alone]] + [
        rest[i : i + size] for i in range(0, len(rest), size)
    ]


def _size(job: Job) -> int:
    if job.text is not None:
        return len(job.text)
    if job.data is not None:
        return len(job.data)
    try:
        return job.path.stat().st_size
    except OSError:
        return 0


def _warm_parser() -> None:
    # Imported and run once here, so that forked workers share libcst and its native
    # parser instead of each paying for them.
    import libcst

    libcst.parse_module("x = 1\n")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic collector off while syntax trees are built: libcst allocates hundreds of
    thousands of objects per large file, and every collection would walk all of them (about
    a quarter of the parse time). Trees are freed by reference counting when a file is done,
    and the first allocation after it collects whatever cycles the file left."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _start_methods() -> list[str]:
    import multiprocessing

    return multiprocessing.get_all_start_methods()
