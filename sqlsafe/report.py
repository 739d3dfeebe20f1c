"""What a run produced, handed to an output format as one object."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from sqlsafe.diagnostics import Applicability, Diagnostic, RuleMeta


class FixMode(Enum):
    """Which summary a run ends with (Ruff words its last line differently for each)."""

    CHECK = "check"  # plain check: "Found N errors." + fixable hint
    FIX = "fix"  # --fix: "Found N errors (F fixed, R remaining)."
    FIX_ONLY = "fix-only"  # --fix-only: "Fixed N errors."
    DIFF = "diff"  # --diff: "Would fix N errors."


@dataclass
class Report:
    diagnostics: list[Diagnostic]
    """Remaining diagnostics, sorted by path, row, column."""
    mode: FixMode = FixMode.CHECK
    unsafe_fixes: bool | None = None
    """True: unsafe fixes are applied/marked; False: hidden, no hint; None: hint only."""
    fixed: dict[Path, Counter[str]] = field(default_factory=dict)
    """Per file, how many diagnostics of each code the fix loop removed."""
    show_fixes: bool = False
    sources: dict[Path, str] = field(default_factory=dict)
    """Text of each file with diagnostics, for formats that show a source frame."""
    cwd: Path = field(default_factory=Path.cwd)
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    """Every known rule by code (names for --show-fixes and statistics, SARIF's rules[])."""

    def applicable(self, diagnostic: Diagnostic) -> bool:
        """Would `--fix` apply this diagnostic's fix with the current settings (Ruff's `[*]`)?"""
        fix = diagnostic.fix
        if fix is None:
            return False
        if fix.applicability is Applicability.SAFE:
            return True
        return fix.applicability is Applicability.UNSAFE and self.unsafe_fixes is True

    def hidden_unsafe(self, diagnostic: Diagnostic) -> bool:
        fix = diagnostic.fix
        return (
            fix is not None
            and fix.applicability is Applicability.UNSAFE
            and self.unsafe_fixes is not True
        )

    def display_path(self, path: Path) -> str:
        """Relative to the working directory when below it, else absolute (as Ruff prints)."""
        if str(path) == "-":
            return "-"
        try:
            return str(path.relative_to(self.cwd))
        except ValueError:
            return str(path)
