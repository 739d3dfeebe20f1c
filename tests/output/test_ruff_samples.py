"""Ruff's own scratch-project run, rebuilt as a sqlsafe report, renders to Ruff 0.17.5's bytes.

The diagnostics come from the verbatim `--output-format json` sample, so every other
format's sample is a byte-exact expectation (only the program's name differs, see `as_ruff`).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sqlsafe import __version__
from sqlsafe.diagnostics import Diagnostic, Location
from sqlsafe.output import render, render_statistics, summary_lines
from sqlsafe.report import FixMode, Report
from tests.output.builders import (
    PROJECT,
    SERVICE,
    as_ruff,
    diagnostics_from_json,
    needs_samples,
    raw,
    sample_stdout,
    scratch_after_safe_fixes,
    scratch_report,
)

pytestmark = needs_samples

UNSAFE_ONLY = PROJECT / "pkg" / "unsafe_only.py"
BROKEN = PROJECT / "pkg" / "broken.py"


def _only(report: Report, path: Path) -> Report:
    return dataclasses.replace(
        report, diagnostics=[d for d in report.diagnostics if d.path == path]
    )


@pytest.mark.parametrize(
    "fmt", ["full", "concise", "grouped", "pylint", "azure", "github", "json", "json-lines"]
)
def test_format_is_byte_identical(fmt: str) -> None:
    assert as_ruff(render(fmt, scratch_report())) == raw(f"03-format-{fmt}")


@pytest.mark.parametrize("fmt", ["rdjson", "junit"])
def test_format_is_byte_identical_but_for_the_name(fmt: str) -> None:
    assert as_ruff(render(fmt, scratch_report())) == raw(f"03-format-{fmt}")


def test_sarif_differs_only_in_what_sqlsafe_says_about_itself() -> None:
    ours = json.loads(render("sarif", scratch_report()))
    ruff = json.loads(raw("03-format-sarif"))
    assert ours["runs"][0]["results"] == ruff["runs"][0]["results"]
    ours_driver, ruff_driver = ours["runs"][0]["tool"]["driver"], ruff["runs"][0]["tool"]["driver"]
    assert (ours_driver["name"], ruff_driver["name"]) == ("sqlsafe", "ruff")
    for ours_rule, ruff_rule in zip(ours_driver["rules"], ruff_driver["rules"], strict=True):
        # Ruff names its linters ("Pyflakes") and enables by its default rule set.
        assert ours_rule["properties"].pop("kind") == "sqlsafe"
        ruff_rule["properties"].pop("kind")
        assert ours_rule["defaultConfiguration"].pop("enabled") is True
        ruff_rule["defaultConfiguration"].pop("enabled")
        assert ours_rule == ruff_rule
    assert {k for k in ours if k != "runs"} == {k for k in ruff if k != "runs"}
    assert ours["$schema"] == ruff["$schema"] and ours["version"] == ruff["version"]


def test_gitlab_differs_only_in_fingerprints() -> None:
    ours = json.loads(render("gitlab", scratch_report()))
    ruff = json.loads(raw("03-format-gitlab"))
    for issue in ours + ruff:
        assert len(issue.pop("fingerprint")) <= 16
    assert ours == ruff


# sample, format, starting point, changes to it (built in the test: no file is read when
# the samples are missing)
RUNS = [
    ("02-check-default", "full", scratch_report, {}),
    ("05-show-fixes-nofix", "concise", scratch_report, {"show_fixes": True}),
    ("08-unsafe-fixes-report-only", "concise", scratch_report, {"unsafe_fixes": True}),
    ("17-quiet", "concise", scratch_report, {}),
    ("07b-fix-full", "full", scratch_after_safe_fixes, {"mode": FixMode.FIX}),
    (
        "05b-fix-show-fixes",
        "concise",
        scratch_after_safe_fixes,
        {"mode": FixMode.FIX, "show_fixes": True},
    ),
    (
        "05c-fix-show-fixes-full",
        "full",
        scratch_after_safe_fixes,
        {"mode": FixMode.FIX, "show_fixes": True},
    ),
    ("09-fix-only", "full", scratch_after_safe_fixes, {"mode": FixMode.FIX_ONLY}),
    (
        "09d-fix-only-show-fixes",
        "full",
        scratch_after_safe_fixes,
        {"mode": FixMode.FIX_ONLY, "show_fixes": True},
    ),
]


@pytest.mark.parametrize(("sample", "fmt", "start", "changes"), RUNS, ids=[r[0] for r in RUNS])
def test_run_sample(
    sample: str, fmt: str, start: Callable[..., Report], changes: dict[str, Any]
) -> None:
    quiet = sample == "17-quiet"
    assert render(fmt, start(**changes), summary=not quiet) == sample_stdout(sample)


def test_single_file_samples() -> None:
    unsafe_only = _only(scratch_report(), UNSAFE_ONLY)
    assert render("concise", unsafe_only) == sample_stdout("08d-no-safe-fixes-only-unsafe")
    assert render("full", unsafe_only) == sample_stdout("08e-no-safe-fixes-only-unsafe-full")
    marked = dataclasses.replace(unsafe_only, unsafe_fixes=True)
    assert render("full", marked) == sample_stdout("08b-unsafe-fixes-report-only-full")
    broken = _only(scratch_report(), BROKEN)
    assert render("full", broken) == sample_stdout("16b-syntax-error-only")
    assert render_statistics(broken, "concise") == sample_stdout("16c-syntax-error-only-concise")
    clean = _only(scratch_report(), PROJECT / "pkg" / "__init__.py")
    assert render("full", clean) == sample_stdout("16-clean-file")
    assert render("full", clean, summary=False) == sample_stdout("17c-quiet-clean")


def test_fix_samples() -> None:
    all_fixed = scratch_report(diagnostics=[], mode=FixMode.FIX, fixed={SERVICE: Counter(F401=2)})
    assert render("full", all_fixed) == sample_stdout("07c-fix-all-fixed")
    nothing = scratch_report(diagnostics=[], mode=FixMode.FIX)
    assert render("full", nothing) == sample_stdout("07d-fix-nothing-to-fix")
    unsafe_too = scratch_report(
        diagnostics=[],
        mode=FixMode.FIX_ONLY,
        unsafe_fixes=True,
        fixed={SERVICE: Counter(F401=2, F841=1, B006=1, E711=1), UNSAFE_ONLY: Counter(F841=1)},
    )
    assert render("full", unsafe_too) == sample_stdout("09b-fix-only-unsafe")
    only_unsafe = _only(scratch_report(mode=FixMode.FIX_ONLY), UNSAFE_ONLY)
    assert render("full", only_unsafe) == sample_stdout("09c-fix-only-nothing")


def test_diff_summary_samples() -> None:
    diff = scratch_after_safe_fixes(mode=FixMode.DIFF)
    assert summary_lines(diff) == sample_stdout("06-diff").splitlines()[-1:]
    only_unsafe = _only(scratch_report(mode=FixMode.DIFF), UNSAFE_ONLY)
    assert render("full", only_unsafe) == sample_stdout("06d-diff-unsafe-only-file")
    nothing = _only(scratch_report(mode=FixMode.DIFF), BROKEN)
    assert render("full", nothing) == sample_stdout("06c-diff-no-fixes-available")


STATISTICS = [
    ("04-statistics", "full", {}),
    ("04b-statistics-json", "json", {}),
    ("04c-statistics-concise-unsafe", "full", {"unsafe_fixes": True}),
]


@pytest.mark.parametrize(("sample", "fmt", "changes"), STATISTICS, ids=[s[0] for s in STATISTICS])
def test_statistics_sample(sample: str, fmt: str, changes: dict[str, Any]) -> None:
    assert render_statistics(scratch_report(**changes), fmt) == raw(sample)


def test_clean_run_in_every_format() -> None:
    clean = scratch_report(diagnostics=[])
    expected = sample_stdout("26-clean-all-formats")
    for chunk in expected.split("##### --output-format ")[1:]:
        fmt, _, rest = chunk.partition("\n")
        output = (
            rest.split("<<EOF>>")[0]
            .replace('"version": "0.17.5"', f'"version": "{__version__}"')
            .replace("https://github.com/astral-sh/ruff", "https://docs.astral.sh/ruff")
        )
        assert as_ruff(render(fmt, clean)) == output, fmt
    assert render_statistics(clean, "full") == render_statistics(clean, "json") == ""


def test_missing_file_renders_without_a_frame() -> None:
    missing = Diagnostic(
        code="E902",
        name="io-error",
        message="No such file or directory (os error 2)",
        path=PROJECT / "does_not_exist.py",
        start=Location(1, 1),
        end=Location(1, 1),
    )
    report = scratch_report(diagnostics=[missing], sources={})
    assert render("full", report) == sample_stdout("18b-exit2-missing-path")


def test_display_only_samples() -> None:
    source = 'import subprocess\n\n# x = compute(1, 2)\nsubprocess.run(["ls"])\n'
    report = Report(
        diagnostics_from_json(raw("23c-display-only-json")),
        sources={PROJECT / "display_only.py": source},
        cwd=PROJECT,
    )
    # The sample prints the file first, then Ruff's output.
    expected = sample_stdout("23-display-only-full").split("### ruff check\n", 1)[1]
    assert render("full", report) == expected
    assert render("json", report) == raw("23c-display-only-json")
    concise = sample_stdout("23b-display-only-concise").split("[exit code: 1]\n")[0]
    assert render("concise", report) == concise
