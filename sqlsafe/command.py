"""What `sqlsafe check` does between parsing its flags and printing: discover files, build
the project index, run the checks or fixes, and decide the report and the exit code."""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlsafe import source as sources
from sqlsafe.checks.plan import (
    CODES,
    Plan,
    Planner,
    Source,
    Trees,
    concerned,
    fingerprint,
    looks_into,
    may_own_sessions,
    text_of,
)
from sqlsafe.config import Resolver, Settings
from sqlsafe.diagnostics import INTERNAL_ERROR_CODE, Diagnostic
from sqlsafe.files import discover, forget_folders, is_excluded, is_gitignored
from sqlsafe.report import FixMode, Report
from sqlsafe.runner import (
    POOL_THRESHOLD,
    Job,
    Mode,
    Options,
    Outcome,
    Run,
    io_error,
    run_jobs,
    selection_for,
)

if TYPE_CHECKING:
    from sqlsafe.cache import RunCache
    from sqlsafe.diagnostics import RuleMeta
    from sqlsafe.index import ProjectIndex
    from sqlsafe.indexing import Basis, Summaries
    from sqlsafe.journal import Journal
    from sqlsafe.selection import RuleSelection
    from sqlsafe.writer import Writes

NO_FILES_WARNING = "warning: No Python files found under the given path(s)"


@dataclass
class CommandOutcome:
    report: Report
    mode: Mode
    output_format: str
    outcomes: list[Outcome] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    stdout_code: bytes | None = None
    """The (fixed) source, for `--fix` on stdin: it goes to stdout, the report to stderr.
    Bytes in the input's encoding, BOM and line endings: only the fixes differ."""
    summary_to_stderr: list[str] = field(default_factory=list)
    stdin: bool = False
    failed: bool = False
    """A file could not be written, or an earlier run's writes are unfinished: exit 2."""
    interrupted: bool = False
    """Ctrl-C: `stderr` says what was written; exit 130."""

    @property
    def fixed_count(self) -> int:
        return sum(sum(counts.values()) for counts in self.report.fixed.values())

    @property
    def changed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.changed]

    def render(self, summary: bool) -> str:
        from sqlsafe.output import render

        if self.mode is Mode.ADD_NOQA:
            return ""
        # In --diff mode the formats render only the closing `Would fix ...` line (and only
        # where Ruff prints one); the diff itself comes first.
        closing = render(self.output_format, self.report, summary=summary)
        if self.mode is not Mode.DIFF:
            return closing
        diffs = "".join(
            outcome.diff(self.report.display_path(outcome.path)) + "\n" for outcome in self.changed
        )
        if self.stdin:
            self.summary_to_stderr.extend(closing.splitlines())
            return diffs
        return diffs + closing

    def exit_code(self, exit_zero: bool, exit_non_zero_on_fix: bool) -> int:
        if self.interrupted:
            return 130
        if self.failed or any(
            d.code == INTERNAL_ERROR_CODE for outcome in self.outcomes for d in outcome.diagnostics
        ):
            return 2
        if self.mode is Mode.ADD_NOQA:
            return 0
        if self.mode is Mode.DIFF:
            return 1 if self.changed and not exit_zero else 0
        if exit_non_zero_on_fix and self.fixed_count:
            return 1
        if exit_zero or self.report.mode is FixMode.FIX_ONLY:
            return 0
        return 1 if self.report.diagnostics else 0


@dataclass
class CheckCommand:
    resolver: Resolver
    base: Settings
    """Settings of the working directory: they decide run-wide things (format, fix mode)."""
    paths: list[Path]
    stdin_filename: str | None = None
    diff: bool = False
    add_noqa: str | None = None
    jobs: int | None = None
    use_cache: bool = True
    progress: bool = False
    """Whether a long run may show a progress bar on stderr (off under -q/-s)."""
    prefilter: bool = True
    """Off only in the tests that show the pre-filter hides nothing."""
    screen: bool = True
    """Off only to show that the syntactic screen hides nothing (`--no-screen`)."""
    stdin_text: str | None = None
    """What stands for standard input when a library caller or an editor holds the text."""
    saved_index: bool = False
    """The project index and the DETACH plan see a file given as text as it is saved on
    disk. An editor's server checks each keystroke's text this way, against the index and
    plan of the saved project (cached), and so sees them change when a file is saved."""
    _started: float = field(default=0.0, init=False, repr=False)
    _project: list[Job] = field(default_factory=list, init=False, repr=False)
    """The project's files that the run was not given: indexed and planned over, not
    checked."""
    _writable_paths: frozenset[Path] | None = field(default=None, init=False, repr=False)
    """The files this run may write when it plans over more (see `_writable`)."""
    _plan_slot: str = field(default="plan", init=False, repr=False)
    """Where the cache keeps this run's DETACH plan: a fix of part of a project keeps its
    own (see `_writable`), so that pre-commit's runs do not evict the whole tree's."""
    _stdin: tuple[bytes, sources.Source | None] = field(default=(b"", None), init=False, repr=False)
    """What was read on stdin, and its decoding (None: it could not be decoded)."""

    @property
    def reads_stdin(self) -> bool:
        return any(str(path) == "-" for path in self.paths)

    def _mode(self) -> tuple[Mode, FixMode]:
        if self.add_noqa is not None:
            return Mode.ADD_NOQA, FixMode.CHECK
        if self.diff:
            return Mode.DIFF, FixMode.DIFF
        if self.base.fix_only:
            return Mode.FIX, FixMode.FIX_ONLY
        if self.base.fix:
            return Mode.FIX, FixMode.FIX
        return Mode.CHECK, FixMode.CHECK

    def _stdin_path(self) -> Path:
        if self.stdin_filename is None:
            return Path("-")
        return (self.resolver.cwd / self.stdin_filename).absolute()

    def run(self) -> CommandOutcome:
        self._started = time.monotonic()
        forget_folders()
        mode, fix_mode = self._mode()
        unsafe = self.base.unsafe_fixes
        options = Options(
            mode=mode,
            unsafe_fixes=unsafe is True,
            noqa_reason=self.add_noqa or None,
            prefilter=self.prefilter,
            screen=self.screen,
        )
        report = Report(
            diagnostics=[],
            mode=fix_mode,
            unsafe_fixes=unsafe,
            show_fixes=self.base.show_fixes,
            cwd=self.resolver.cwd,
        )
        outcome = CommandOutcome(report, mode, self.base.output_format)
        jobs, missing = self._jobs(outcome)
        journal = None if self.reads_stdin else self._journal(jobs)
        if journal is not None and mode is Mode.FIX and not self._complete(journal, outcome):
            # The earlier run's writes first: nothing new is written over them.
            report.diagnostics = self._unfinished(journal, outcome)
            return outcome
        if journal is not None and mode is not Mode.FIX:
            missing.extend(self._unfinished(journal, outcome))
        self._project = project = self._project_jobs(jobs, report.display_path)
        self._writable_paths = self._writable(jobs)
        self._plan_slot = "plan" if self._writable_paths is None else "plan:part"
        cache = self._cache(mode, jobs)
        planning = [self._as_saved(job) for job in jobs]
        contents = _read([*planning, *project], cache)
        run = Run(options)
        try:
            indexed, plan = self._with_index(run, planning, contents, cache)
            results = self._check(run, jobs, contents, cache, indexed, plan, planning)
        except KeyboardInterrupt:
            outcome.interrupted = True
            outcome.stderr.append("Interrupted: no file was written.")
            return outcome
        if mode in (Mode.FIX, Mode.ADD_NOQA):
            self._write(jobs, results, outcome, journal)
        outcome.outcomes = results
        diagnostics: list[Diagnostic] = list(missing)
        for result in results:
            diagnostics.extend(result.diagnostics)
            outcome.stderr.extend(result.warnings)
            outcome.stderr.extend(result.errors)
            if result.fixed:
                report.fixed[result.path] = result.fixed
            if result.diagnostics and result.original is not None:
                report.sources[result.path] = result.original
        diagnostics.sort(key=Diagnostic.sort_key)
        report.diagnostics = [] if fix_mode is FixMode.FIX_ONLY else diagnostics
        if any(d.is_rule for d in diagnostics) or report.fixed:
            report.rules = _rule_meta(cache)
        if cache is not None:
            cache.save()
        if mode is Mode.ADD_NOQA:
            added = sum(result.noqa_added for result in results)
            plural = "directive" if added == 1 else "directives"
            outcome.stderr.append(f"Added {added} noqa {plural}.")
        if not jobs and not missing:
            outcome.stderr.append(NO_FILES_WARNING)
        if self.reads_stdin:
            self._stdin_streams(outcome, results)
        return outcome

    def _project_settings(self, jobs: list[Job]) -> Settings:
        """The settings of the project the named files belong to, wherever sqlsafe was
        started: where its cache and its journal are."""
        return jobs[0].settings if jobs else self.base

    def _journal(self, jobs: list[Job]) -> Journal:
        from sqlsafe.journal import Journal

        settings = self._project_settings(jobs)
        return Journal(settings.resolved_cache_dir, str(settings.root))

    def _complete(self, journal: Journal, outcome: CommandOutcome) -> bool:
        """Complete what an interrupted fix run left unwritten; False if it still cannot be."""
        writes = journal.complete(outcome.report.display_path)
        outcome.stderr.extend(
            f"Wrote {item.display} (an interrupted fix run had not)" for item in writes.written
        )
        self._report_writes(writes, outcome, kept=writes.unfinished)
        return not writes.unfinished

    def _unfinished(self, journal: Journal, outcome: CommandOutcome) -> list[Diagnostic]:
        """Files an interrupted fix run did not write: the project may be half migrated."""
        from sqlsafe.journal import COMPLETE_COMMAND

        pending = journal.pending()
        if pending:
            outcome.failed = True
            outcome.stderr.append(
                f"error: An interrupted fix run left {len(pending)} file(s) unwritten; "
                f"run `{COMPLETE_COMMAND}` to complete it"
            )
        return [
            io_error(
                entry.path,
                f"An interrupted fix run did not write this file; run `{COMPLETE_COMMAND}`",
            )
            for entry in pending
        ]

    def _write(
        self,
        jobs: list[Job],
        results: list[Outcome],
        outcome: CommandOutcome,
        journal: Journal | None,
    ) -> None:
        """Write every fixed file, journaled when there are several; a file that is not
        written is reported as it is, its fixes not counted."""
        from sqlsafe.cache import digest
        from sqlsafe.writer import Planned, Writes, write_all

        by_path = {job.path: job for job in jobs}
        planned: list[Planned] = []
        owners: dict[Path, Outcome] = {}
        for result in results:
            job = by_path.get(result.path)
            if job is None or job.text is not None or not result.changed:
                continue
            assert result.fixed_text is not None
            try:
                data = job.read().encode(result.fixed_text)
                before = digest(job.load())
            except (sources.SourceError, OSError, UnicodeError) as error:
                outcome.stderr.append(f"error: Failed to write {job.display}: {error}")
                outcome.failed = True
                result.unwritten()
                continue
            planned.append(Planned(job.path, job.display, data, result.stamp, before))
            owners[job.path] = result
        journaled = False
        try:
            if len(planned) > 1:
                journaled = journal is not None and journal.begin(planned)
                if not journaled:
                    outcome.stderr.append(
                        "warning: The planned writes could not be journaled in "
                        f"{self.base.resolved_cache_dir}: a run stopped midway cannot be "
                        "completed"
                    )
        except KeyboardInterrupt:
            writes = Writes(planned=len(planned), interrupted=True)
        else:
            writes = write_all(planned)
        # Kept only for a project left half written: with nothing written, there is nothing
        # to complete.
        kept = journaled and writes.unfinished and bool(writes.written)
        if journal is not None and journaled and not kept:
            journal.end()
        written = {item.path for item in writes.written}
        for item in planned:
            if item.path not in written:
                owners[item.path].unwritten()
        self._report_writes(writes, outcome, kept)

    def _report_writes(self, writes: Writes, outcome: CommandOutcome, kept: bool) -> None:
        """What happened to the planned writes; `kept`: a journal of them stays to complete."""
        from sqlsafe.journal import COMPLETE_COMMAND

        for item, why in writes.changed:
            outcome.stderr.append(f"warning: Not writing {item.display}: {why}")
        for item, why in writes.failed:
            outcome.stderr.append(f"error: Failed to write {item.display}: {why}")
        outcome.failed = outcome.failed or bool(writes.failed)
        if writes.interrupted:
            outcome.interrupted = True
            count = len(writes.written)
            outcome.stderr.append(
                f"Interrupted: wrote {count} of {writes.planned} files" + (":" if count else ".")
            )
            outcome.stderr.extend(f"  {item.display}" for item in writes.written)
        if kept:
            outcome.stderr.append(f"Run `{COMPLETE_COMMAND}` to write the rest.")

    def _as_saved(self, job: Job) -> Job:
        """The job as the index and the planner see it (see `saved_index`)."""
        if not self.saved_index or job.text is None or not job.path.is_file():
            return job
        return Job(job.path, job.display, job.settings)

    def _cache(self, mode: Mode, jobs: list[Job]) -> RunCache | None:
        """The cache of the project the named files belong to, wherever sqlsafe was started.
        `--add-noqa` exists to change files: it caches nothing."""
        if not self.use_cache or mode is Mode.ADD_NOQA:
            return None
        from sqlsafe.cache import RunCache

        settings = self._project_settings(jobs)
        return RunCache(settings.resolved_cache_dir, str(settings.root))

    def _project_jobs(self, jobs: list[Job], display: Callable[[Path], str]) -> list[Job]:
        """The other included files of the projects the named files belong to: the index
        covers the whole project, so a file named alone (pre-commit, an editor) is checked
        against the same models and factories as in a run over the whole tree."""
        roots = sorted({job.settings.root for job in jobs})
        named = {Path(os.path.abspath(self.resolver.cwd / path)) for path in self.paths}
        if not roots or named.issuperset(roots):
            return []
        checked = {job.path for job in jobs}
        found = discover(roots, self.resolver, force_exclude=False)
        return [
            Job(path, display(path), self.resolver.for_path(path, True))
            for path in found.files
            if path not in checked
        ]

    def _with_index(
        self,
        run: Run,
        jobs: list[Job],
        contents: dict[Path, str],
        cache: RunCache | None,
    ) -> tuple[_Indexed, Plan | None]:
        """The project index (from the cache when no indexed file changed, or no file's
        summary: an edit inside a function mostly changes none), and the DETACH
        plan when the cache holds it for these files (None: it must be made). Both come
        back unopened: a run that finds every file in the cache
        needs neither the index (unpickling it costs more than the rest of such a run) nor
        the plan (unpickling it imports libcst).

        The index holds the named files and the rest of their projects; a file on
        standard input is indexed from its text, as the editor holds it."""
        from sqlsafe.cache import build_id, digest

        # In path order: the same project gives the same key whichever files were named.
        indexing = sorted([*jobs, *self._project], key=lambda job: job.path)
        factories = sorted({name for job in indexing for name in job.settings.session_factories})
        key = digest(
            "index", build_id(), *factories,
            *(
                f"{job.path}={job.settings.root}={job.settings.src}={_content(job, contents)}"
                for job in indexing
            ),
        )  # fmt: skip
        indexed = cache.slot("index", key) if cache is not None else None
        if indexed is None:
            from sqlsafe.index import module_name
            from sqlsafe.indexing import IndexedFile, summaries

            files = [
                IndexedFile(
                    job.path,
                    module_name(job.path, job.settings.src_roots()),
                    _content(job, contents),
                    job.text if job.text is not None else job.data,
                )
                for job in indexing
            ]
            indexed = _merged(summaries(files, cache, self.jobs), factories, jobs, cache)
            if cache is not None:
                cache.put_slot("index", key, indexed)

        previous = cache.any_slot(self._plan_slot) if cache is not None else None
        if cache is None or previous is None:
            return indexed, None
        key = self._plan_key(jobs, contents, indexed, cache, previous)
        cached: Plan | None = cache.slot(self._plan_slot, key)
        return indexed, cached

    def _plan_key(
        self,
        jobs: list[Job],
        contents: dict[Path, str],
        indexed: _Indexed,
        cache: RunCache,
        plan: Plan,
    ) -> str:
        """The cache key of `plan` made over `jobs` (`Planner.key`)."""
        from sqlsafe.cache import build_id, digest, settings_key

        def describe(job: Source, every_text: bool) -> str:
            assert isinstance(job, Job)
            content = _content(job, contents)
            if not every_text and content is not None:
                content = content if self._may_plan(job, content, indexed, cache) else "-"
            return f"{job.path}={job.display}={settings_key(job.settings)}={content}"

        parts = self._planner(indexed.names).key(plan, jobs, describe)
        return digest("plan", build_id(), indexed.fingerprint, *parts)

    def _writable(self, jobs: list[Job]) -> frozenset[Path] | None:
        """The files a run that writes may change, when it plans over more (None: all).
        A check plans and reports as a run over the whole project would."""
        if not self._project or self._mode()[0] not in (Mode.FIX, Mode.DIFF):
            return None
        return frozenset(job.path for job in jobs)

    def _not_project_code(self, path: Path, is_dir: bool) -> bool:
        """Files outside the run that hold no callers: what `.gitignore` ignores."""
        return self.base.respect_gitignore and is_gitignored(path, is_dir, inherited=False)

    def _may_plan(self, job: Job, content: str, indexed: _Indexed, cache: RunCache) -> bool:
        """Whether the planner looks into this file (`looks_into`), kept per file and
        content, so that unchanged files are not read for it."""
        key = f"{content}:{indexed.names_key}"
        known = cache.mark("plan", job.path, key)
        if known is not None:
            return known
        try:
            text = job.read().text
        except sources.SourceError:
            text = ""
        may = looks_into(text, indexed.names, indexed.factories)
        cache.put_mark("plan", job.path, key, may)
        return may

    def _planner(self, names: frozenset[str], run: Run | None = None) -> Planner:
        """The planner of this run; `names`: what the pre-filter looks for."""

        def trees() -> Trees:
            # libcst, imported only when a file is parsed for the plan.
            from sqlsafe.checks.migration import trees

            assert run is not None
            return trees(run.index)

        return Planner(
            self._project,
            _selection,
            trees,
            owners=run.index.factory_names if run is not None else frozenset(),
            names=names if run is None or run.options.prefilter else None,
            ignored=self._not_project_code,
            writable=self._writable_paths,
        )

    def _check(
        self,
        run: Run,
        jobs: list[Job],
        contents: dict[Path, str],
        cache: RunCache | None,
        indexed: _Indexed,
        plan: Plan | None,
        planning: list[Job],
    ) -> list[Outcome]:
        """Every job's outcome, in order: from the cache where its key is there, checked
        (in parallel when there are enough) where not.

        A plan that must be made is made from the candidates checks told (`Outcome.facts`).
        In a run of many files, the files are checked against the plan of the last run (or
        an empty one) and the plan is made from their facts: no file is parsed for the plan
        twice. Most runs plan what they planned before; when the plan differs, only the
        files it concerns are checked again. A run of a few files, or of part of a project,
        plans first, from checks of its files and of the rest of the project with the DETACH
        rules alone (`_candidates`). `planning`: the jobs as the planner sees them."""
        deferred = False
        if plan is None:
            indexed.open(run)
            previous = cache.any_slot(self._plan_slot) if cache is not None else None
            # A fix run defers too: nothing is written before every file is done, and the
            # files a changed plan concerns are fixed again against it. The checks' facts
            # cover only the files the run was given.
            if len(jobs) >= POOL_THRESHOLD and not self._project:
                deferred = True
                plan = previous
            else:
                facts = self._candidates(run, [*planning, *self._project])
                plan = self._planner(run.index_names, run).from_facts(planning, facts)
                if cache is not None:
                    key = self._plan_key(planning, contents, indexed, cache, plan)
                    cache.put_slot(self._plan_slot, key, plan)
        results: list[Outcome | None] = [None] * len(jobs)
        keys = self._keys(run, jobs, contents, indexed, plan) if cache is not None else {}
        if cache is not None:
            for number, key in keys.items():
                cached = cache.get(jobs[number].path, key)
                if cached is not None:
                    results[number] = _restored(jobs[number], cached)
        fresh = [number for number, result in enumerate(results) if result is None]
        self._run(run, jobs, fresh, results, indexed, plan)
        if deferred:
            facts = {jobs[n].path: r.facts for n, r in enumerate(results) if r is not None}
            made = self._planner(run.index_names, run).from_facts(jobs, facts)
            if made.fingerprint() != fingerprint(plan):
                concerns = concerned(plan, made, facts)
                again = [n for n, job in enumerate(jobs) if concerns(job)]
                self._run(run, jobs, again, results, indexed, made)
                if cache is not None:
                    keys = self._keys(run, jobs, contents, indexed, made)
                fresh = list(range(len(jobs)))  # every key changed with the plan
            if cache is not None:
                key = self._plan_key(jobs, contents, indexed, cache, made)
                cache.put_slot(self._plan_slot, key, made)
        if cache is not None:
            for number in fresh:
                result = results[number]
                if result is not None and number in keys and _cacheable(result):
                    cache.put(result.path, keys[number], _stored(result))
            if not fresh:
                cache.seen(job.path for job in jobs)
        return [result for result in results if result is not None]

    def _candidates(self, run: Run, files: list[Job]) -> dict[Path, dict[str, object]]:
        """What checks with the DETACH rules alone tell the planner of the `files` that may
        own a session (the others hold no candidate), made as a run's checks are (screened,
        in the pool): the planner then parses only callers, rather than every such file one
        after the other. A file checked in segments is left out: the planner follows no
        function of it."""
        from sqlsafe.segments import LARGE

        def planned(text: str) -> bool:
            return len(text) <= LARGE and may_own_sessions(text, run.index.factory_names)

        owning = [job for job in files if planned(text_of(job) or "")]
        told = replace(run, options=replace(run.options, mode=Mode.CHECK), only=CODES, plan=None)
        return {outcome.path: outcome.facts for outcome in run_jobs(told, owning, self.jobs)}

    def _keys(
        self,
        run: Run,
        jobs: list[Job],
        contents: dict[Path, str],
        indexed: _Indexed,
        plan: Plan | None,
    ) -> dict[int, str]:
        from sqlsafe.cache import build_id, digest, settings_key

        options = repr(run.options)
        keys = {}
        for number, job in enumerate(jobs):
            # A job's text is not the file `contents` hashed (see `saved_index`).
            content = contents.get(job.path) if job.text is None else None
            facts = indexed.facts.get(str(job.path))
            if content is not None and facts is not None:
                keys[number] = digest(
                    build_id(), options, settings_key(job.settings), str(job.path),
                    job.display, content, facts, fingerprint(plan),
                )  # fmt: skip
        return keys

    def _run(
        self,
        run: Run,
        jobs: list[Job],
        numbers: list[int],
        results: list[Outcome | None],
        indexed: _Indexed,
        plan: Plan | None,
    ) -> None:
        if not numbers:
            return
        from sqlsafe.progress import progress_bar

        indexed.open(run)
        run.plan = plan
        if plan is not None:
            run.index_names |= plan.names()
        bar = progress_bar(len(numbers), self.progress, self._started)
        try:
            checked = run_jobs(run, [jobs[n] for n in numbers], self.jobs, bar)
        finally:
            if bar is not None:
                bar.close()
        for number, result in zip(numbers, checked, strict=True):
            results[number] = result

    def _stdin_streams(self, outcome: CommandOutcome, results: list[Outcome]) -> None:
        outcome.stdin = True
        if outcome.mode is not Mode.FIX:
            return
        data, source = self._stdin
        outcome.stdout_code = data
        stdin_result = next((r for r in results if r.path == self._stdin_path()), None)
        if source is None or stdin_result is None or stdin_result.fixed_text is None:
            return
        # Fixes add only ASCII and text copied from this input: it encodes as the input did.
        outcome.stdout_code = source.encode(stdin_result.fixed_text)

    def _jobs(self, outcome: CommandOutcome) -> tuple[list[Job], list[Diagnostic]]:
        if self.reads_stdin:
            return self._stdin_job()
        found = discover(self.paths, self.resolver, self.base.force_exclude)
        jobs = [
            Job(path, outcome.report.display_path(path), self.resolver.for_path(path, True))
            for path in found.files
        ]
        missing = [io_error(item.path, item.message) for item in found.missing]
        return jobs, missing

    def _stdin_job(self) -> tuple[list[Job], list[Diagnostic]]:
        path = self._stdin_path()
        settings = self.resolver.for_path(path if str(path) != "-" else self.resolver.cwd)
        data = sys.stdin.buffer.read() if self.stdin_text is None else self.stdin_text.encode()
        try:
            source = sources.decode(data)
        except sources.SourceError as error:
            self._stdin = (data, None)
            return [], [io_error(path, str(error))]
        self._stdin = (data, source)
        if (
            str(path) != "-"
            and self.base.force_exclude
            and (is_excluded(path, settings) or is_gitignored(path, False))
        ):
            return [], []
        display = self.stdin_filename or "-"
        return [Job(path, display, settings, text=source.text)], []

    def show_files(self) -> str:
        found = discover(self.paths, self.resolver, self.base.force_exclude)
        return "".join(f"{path}\n" for path in found.files)

    def show_settings(self) -> str:
        found = discover(self.paths, self.resolver, self.base.force_exclude)
        target = found.files[0] if found.files else self.resolver.cwd
        settings = self.resolver.for_path(target)
        lines = [
            f'Resolved settings for: "{target}"',
            f'Settings path: "{settings.config_path}"' if settings.config_path else "",
            f'Project root: "{settings.root}" ({settings.root_reason})',
            "",
        ]
        for item in fields(Settings):
            if item.name in ("sources", "root_reason"):
                continue
            value = getattr(settings, item.name)
            if item.name == "cache_dir":
                value = settings.resolved_cache_dir
            lines.append(f"{item.name} = {_show(value)}")
        lines.append(f"enabled_rules = {_show(tuple(sorted(settings.enabled_codes())))}")
        return "\n".join(line for line in lines if line is not None) + "\n"


def _show(value: object) -> str:
    if isinstance(value, tuple):
        if not value:
            return "[]"
        return "[\n" + "".join(f"\t{_show(item)},\n" for item in value) + "]"
    if isinstance(value, (str, Path)):
        return f'"{value}"'
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _content(job: Job, contents: dict[Path, str]) -> str | None:
    """A hash of what the job checks: its file's (see `_read`), or its text's for stdin."""
    if job.text is None:
        return contents.get(job.path)
    from sqlsafe.cache import digest

    return digest(job.text)


def _read(jobs: list[Job], cache: RunCache | None) -> dict[Path, str]:
    """Read every file once, for the pre-filter, the workers and the cache: each job gets its
    bytes (decoded when something needs the text), and the result maps each readable file to
    a hash of them. A file the cache saw unchanged is not read at all: its hash is known."""
    from sqlsafe.cache import digest

    contents: dict[Path, str] = {}
    for job in jobs:
        if job.text is not None:
            continue
        try:
            stat = os.stat(job.path)
            if cache is not None:
                known = cache.content(job.path, stat)
                if known is not None:
                    contents[job.path] = known
                    continue
            data = job.load(stat)
        except OSError:
            continue  # the check reports it
        contents[job.path] = digest(data)
        if cache is not None:
            cache.record(job.path, stat, contents[job.path])
    return contents


class _Indexed:
    """The project index with what a run needs before it knows whether to open it: its
    fingerprint and each file's cache-key facts (`fingerprint_of` the modules it imports)."""

    def __init__(
        self,
        fingerprint: str,
        facts: dict[str, str],
        factories: frozenset[str],
        names: frozenset[str],
        pickled: bytes,
    ) -> None:
        self.fingerprint = fingerprint
        self.facts = facts
        self.factories = factories
        """Plain names of the project's session factories."""
        self.names = names
        """What the pre-filter looks for besides the ORM's own modules."""
        self.pickled = pickled
        self._index: ProjectIndex | None = None

    @classmethod
    def of(cls, index: ProjectIndex, jobs: list[Job]) -> _Indexed:
        from sqlsafe.index import module_name

        modules = {path: module for module, path in index.modules.items()}
        facts = {}
        for job in jobs:
            module = modules.get(job.path) or module_name(job.path, job.settings.src_roots())
            facts[str(job.path)] = index.fingerprint_of(index.dependencies(module))
        names = index.model_names | index.factory_names | index.alias_names
        pickled = pickle.dumps(index, pickle.HIGHEST_PROTOCOL)
        indexed = cls(index.fingerprint(), facts, index.factory_names, names, pickled)
        indexed._index = index
        return indexed

    def __getstate__(self) -> tuple[object, ...]:
        return self.fingerprint, self.facts, self.factories, self.names, self.pickled

    def __setstate__(
        self, state: tuple[str, dict[str, str], frozenset[str], frozenset[str], bytes]
    ) -> None:
        self.fingerprint, self.facts, self.factories, self.names, self.pickled = state
        self._index = None

    @cached_property
    def names_key(self) -> str:
        """What `looks_into` reads of the index: a file's answer holds while this does,
        through edits that change other facts of the index (a new import, a new function)."""
        from sqlsafe.cache import digest

        return digest(*sorted(self.names), "", *sorted(self.factories))

    def open(self, run: Run) -> None:
        """Give the run the index, the names the pre-filter looks for and the files CPython
        has parsed already (no second parse to look for syntax errors)."""
        if self._index is None:
            self._index = pickle.loads(self.pickled)
        index = self._index
        run.index = index
        run.index_names = index.model_names | index.factory_names | index.alias_names
        run.parsed = frozenset(index.modules.values())


def _merged(
    summarized: Summaries, factories: list[str], jobs: list[Job], cache: RunCache | None
) -> _Indexed:
    """The index of these summaries: from the cache when the last index was merged from the
    same summaries, or from summaries an edit changed in nothing an index sees
    (`Summaries.keep`); merged otherwise. The cache keeps its basis pickled: most runs never
    look at it."""
    from sqlsafe.cache import build_id, digest

    if cache is None:
        return _Indexed.of(summarized.merged(factories)[0], jobs)
    key = digest("merged", build_id(), *factories, summarized.key())
    found: tuple[bytes, _Indexed] | None = cache.slot("merged index", key)
    if found is not None:
        return found[1]
    last: tuple[bytes, _Indexed] | None = cache.any_slot("merged index")
    basis: Basis | None = pickle.loads(last[0]) if last is not None else None
    if last is not None and basis is not None and summarized.keep(basis, factories):
        indexed = last[1]
        basis = replace(basis, digests=summarized.digests)
    else:
        index, basis = summarized.merged(factories)
        indexed = _Indexed.of(index, jobs)
    cache.put_slot("merged index", key, (pickle.dumps(basis, pickle.HIGHEST_PROTOCOL), indexed))
    return indexed


def _selection(job: Source) -> RuleSelection:
    assert isinstance(job, Job)
    return selection_for(job.path, job.settings)


def _cacheable(outcome: Outcome) -> bool:
    """Only outcomes a later run can take as they are: nothing written, nothing failed."""
    return not (outcome.changed or outcome.fixed or outcome.errors or outcome.noqa_added)


def _stored(outcome: Outcome) -> tuple[object, ...]:
    return (outcome.diagnostics, outcome.warnings, outcome.facts)


def _restored(job: Job, stored: tuple[list[Diagnostic], list[str], dict[str, object]]) -> Outcome:
    diagnostics, warnings, facts = stored
    outcome = Outcome(job.path, list(diagnostics), warnings=list(warnings), facts=facts)
    # The text is for the report's code frames: decoded only for files that get one. A file
    # that cannot be decoded was reported as such, without a frame, when it was checked.
    if diagnostics:
        with contextlib.suppress(sources.SourceError):
            outcome.original = job.read().text
    return outcome


def _rule_meta(cache: RunCache | None) -> dict[str, RuleMeta]:
    """Every rule's documentation, for the output; kept in the cache because reading it
    imports every rule, and with them libcst."""
    from sqlsafe.cache import build_id

    if cache is not None:
        cached = cache.slot("rules", build_id())
        if cached is not None:
            return cached  # type: ignore[no-any-return]
    from sqlsafe.checks.registry import all_meta

    meta = all_meta()
    if cache is not None:
        cache.put_slot("rules", build_id(), meta)
    return meta
