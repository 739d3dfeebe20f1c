"""Running rules on snippets: what every rule test uses.

`fix()` also checks what `sqlsafe fix` promises for every file: the result parses and a
second fix changes nothing. Both run every snippet with and without the syntactic screen
(`sqlsafe.screen`) and require the same result: every snippet is a case of its soundness.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

import libcst as cst

from sqlsafe.checks.base import EmptyIndex, Index, RuleSettings
from sqlsafe.checks.registry import load
from sqlsafe.diagnostics import Applicability, Diagnostic
from sqlsafe.engine import CheckResult, FixResult, check_source, fix_source
from sqlsafe.screen import screened
from sqlsafe.selection import RuleSelection
from tests.checks.story import assert_story

PATH = Path("/project/app/snippet.py")


def _selection(select: Sequence[str], settings: RuleSettings | None) -> RuleSelection:
    return RuleSelection(
        tuple(load(code) for code in select), rule_settings=settings or RuleSettings()
    )


def _checker(
    selection: RuleSelection, module_name: str, index: Index, screen: bool
) -> Callable[[str], CheckResult]:
    """What a run checks each text with: the enabled rules, or those the screen keeps."""

    def check(text: str) -> CheckResult:
        rules = selection.rules
        if screen:
            rules, _ = screened(rules, text, PATH, module_name, index)
        chosen = dataclasses.replace(selection, rules=rules)
        return check_source(text, PATH, module_name, chosen, index)

    return check


def _told(result: CheckResult) -> tuple[object, ...]:
    """What a run reports and tells its plan: a rule the screen left out tells nothing,
    which the plan reads as a rule that found nothing."""
    facts = {key: value for key, value in result.facts.items() if value}
    return result.diagnostics, result.warnings, facts


def run(
    code: str,
    select: Sequence[str],
    *,
    index: Index | None = None,
    module_name: str = "app.snippet",
    settings: RuleSettings | None = None,
) -> CheckResult:
    source = textwrap.dedent(code)
    selection = _selection(select, settings)
    index = index or EmptyIndex()
    result = _checker(selection, module_name, index, screen=False)(source)
    screened_result = _checker(selection, module_name, index, screen=True)(source)
    assert _told(screened_result) == _told(result), "the screen changes what the rules find"
    for diagnostic in result.diagnostics:
        assert_story(source, diagnostic)
    return result


def check(code: str, select: Sequence[str], **kwargs: object) -> list[Diagnostic]:
    return run(code, select, **kwargs).diagnostics  # type: ignore[arg-type]


def codes(code: str, select: Sequence[str], **kwargs: object) -> list[str]:
    return [d.code for d in check(code, select, **kwargs)]


def fix(
    code: str,
    select: Sequence[str],
    *,
    unsafe: bool = False,
    index: Index | None = None,
    module_name: str = "app.snippet",
    settings: RuleSettings | None = None,
) -> str:
    """The snippet after `sqlsafe fix` (with `--unsafe-fixes` when `unsafe`)."""
    selection = _selection(select, settings)
    index = index or EmptyIndex()
    again = _checker(selection, module_name, index, screen=False)

    def applicable(diagnostic: Diagnostic) -> bool:
        assert diagnostic.fix is not None
        return diagnostic.fix.applicability is Applicability.SAFE or (
            unsafe and diagnostic.fix.applicability is Applicability.UNSAFE
        )

    result = fix_source(textwrap.dedent(code), again, applicable)
    screened_result = fix_source(
        textwrap.dedent(code), _checker(selection, module_name, index, screen=True), applicable
    )
    assert _fixed(screened_result) == _fixed(result), "the screen changes what a fix does"
    assert result.error is None, result.error
    cst.parse_module(result.text)
    assert fix_source(result.text, again, applicable).text == result.text, "fix is not idempotent"
    return result.text


def _fixed(result: FixResult) -> tuple[object, ...]:
    return result.text, result.fixed, result.error, _told(result.remaining)


def run_program(path: Path) -> list[str]:
    """The lines a program prints when this interpreter runs it; it must exit 0."""
    done = subprocess.run([sys.executable, path], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()
