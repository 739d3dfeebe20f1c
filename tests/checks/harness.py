"""Running rules on snippets: what every rule test uses.

`fix()` also checks what `sqlsafe fix` promises for every file: the result parses and a
second fix changes nothing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import libcst as cst

from sqlsafe.checks.base import EmptyIndex, Index, RuleSettings
from sqlsafe.checks.registry import load
from sqlsafe.diagnostics import Applicability, Diagnostic
from sqlsafe.engine import CheckResult, check_source, fix_source
from sqlsafe.selection import RuleSelection
from tests.checks.story import assert_story

PATH = Path("/project/app/snippet.py")


def _selection(select: Sequence[str], settings: RuleSettings | None) -> RuleSelection:
    return RuleSelection(
        tuple(load(code) for code in select), rule_settings=settings or RuleSettings()
    )


def run(
    code: str,
    select: Sequence[str],
    *,
    index: Index | None = None,
    module_name: str = "app.snippet",
    settings: RuleSettings | None = None,
) -> CheckResult:
    source = textwrap.dedent(code)
    result = check_source(
        source, PATH, module_name, _selection(select, settings), index or EmptyIndex()
    )
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

    def again(text: str) -> CheckResult:
        return check_source(text, PATH, module_name, selection, index or EmptyIndex())

    def applicable(diagnostic: Diagnostic) -> bool:
        assert diagnostic.fix is not None
        return diagnostic.fix.applicability is Applicability.SAFE or (
            unsafe and diagnostic.fix.applicability is Applicability.UNSAFE
        )

    result = fix_source(textwrap.dedent(code), again, applicable)
    assert result.error is None, result.error
    cst.parse_module(result.text)
    assert fix_source(result.text, again, applicable).text == result.text, "fix is not idempotent"
    return result.text


def run_program(path: Path) -> list[str]:
    """The lines a program prints when this interpreter runs it; it must exit 0."""
    done = subprocess.run([sys.executable, path], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()
