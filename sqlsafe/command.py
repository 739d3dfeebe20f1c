"""What `sqlsafe check` does between parsing its flags and printing: discover files, build
the project index, run the checks or fixes, and decide the report and the exit code."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from sqlsafe import source as sources
from sqlsafe.config import Resolver, Settings
from sqlsafe.diagnostics import Diagnostic
from sqlsafe.files import discover, is_excluded, is_gitignored
from sqlsafe.report import FixMode, Report
from sqlsafe.runner import Job, Mode, Options, Outcome, Run, io_error, run_jobs

NO_FILES_WARNING = "warning: No Python files found under the given path(s)"


@dataclass
class CommandOutcome:
    report: Report
    mode: Mode
    output_format: str
    outcomes: list[Outcome] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    stdout_code: str | None = None
    """The (fixed) source, for `--fix` on stdin: it goes to stdout, the report to stderr."""
    summary_to_stderr: list[str] = field(default_factory=list)
    stdin: bool = False

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
            outcome.diff(self.report.display_path(outcome.path)) + "\n"
            for outcome in self.changed
        )
        if self.stdin:
            self.summary_to_stderr.extend(closing.splitlines())
            return diffs
        return diffs + closing

    def exit_code(self, exit_zero: bool, exit_non_zero_on_fix: bool) -> int:
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
        mode, fix_mode = self._mode()
        unsafe = self.base.unsafe_fixes
        options = Options(
            mode=mode,
            unsafe_fixes=unsafe is True,
            noqa_reason=self.add_noqa or None,
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
        run = self._with_index(Run(options), jobs)
        results = list(run_jobs(run, jobs, self.jobs))
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
            from sqlsafe.checks.registry import all_meta

            report.rules = all_meta()
        if mode is Mode.ADD_NOQA:
            added = sum(result.noqa_added for result in results)
            plural = "directive" if added == 1 else "directives"
            outcome.stderr.append(f"Added {added} noqa {plural}.")
        if not jobs and not missing:
            outcome.stderr.append(NO_FILES_WARNING)
        if self.reads_stdin:
            self._stdin_streams(outcome, results)
        return outcome

    def _with_index(self, run: Run, jobs: list[Job]) -> Run:
        from sqlsafe.index import build_index

        files = [job.path for job in jobs if job.text is None]
        index = build_index(files, self.base.src_roots(), self.base.session_factories)
        run.index = index
        run.index_names = index.model_names | index.factory_names | index.alias_names
        from sqlsafe.checks.migration_pass import plan_run

        # DETACH fixes change what functions return: decide for the whole run, before any
        # file is fixed, which functions are converted and where their callers are.
        run.index, converted = plan_run(index, jobs)
        run.index_names |= converted
        return run

    def _stdin_streams(self, outcome: CommandOutcome, results: list[Outcome]) -> None:
        outcome.stdin = True
        if outcome.mode is Mode.FIX:
            stdin_result = next((r for r in results if r.path == self._stdin_path()), None)
            if stdin_result is not None:
                outcome.stdout_code = (
                    stdin_result.fixed_text
                    if stdin_result.fixed_text is not None
                    else stdin_result.original or ""
                )

    def _jobs(self, outcome: CommandOutcome) -> tuple[list[Job], list[Diagnostic]]:
        if self.reads_stdin:
            return self._stdin_job(outcome), []
        found = discover(self.paths, self.resolver, self.base.force_exclude)
        jobs = [
            Job(path, outcome.report.display_path(path), self.resolver.for_path(path))
            for path in found.files
        ]
        missing = [io_error(item.path, item.message) for item in found.missing]
        return jobs, missing

    def _stdin_job(self, outcome: CommandOutcome) -> list[Job]:
        path = self._stdin_path()
        settings = self.resolver.for_path(path if str(path) != "-" else self.resolver.cwd)
        data = sys.stdin.buffer.read()
        try:
            text = sources.decode(data).text
        except sources.SourceError as error:
            outcome.report.diagnostics.append(io_error(path, str(error)))
            return []
        if (
            str(path) != "-"
            and self.base.force_exclude
            and (is_excluded(path, settings) or is_gitignored(path, False))
        ):
            if outcome.mode is Mode.FIX:
                outcome.stdout_code = text
            return []
        display = self.stdin_filename or "-"
        return [Job(path, display, settings, text=text)]

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
            "",
        ]
        for item in fields(Settings):
            if item.name == "sources":
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
