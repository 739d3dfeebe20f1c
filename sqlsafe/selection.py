"""Which rules run on a file and how their fixes count: resolved from config, read by the
engine. Free of libcst so the CLI can build it before deciding whether to parse anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlsafe.diagnostics import Applicability, Fix

if TYPE_CHECKING:
    from sqlsafe.checks.base import Rule


@dataclass(frozen=True)
class RuleSettings:
    """The part of the configuration rules may read."""

    helpers_module: str = "sqlsafe.helpers"
    sqlalchemy_version: tuple[int, ...] = (2, 0)


@dataclass(frozen=True)
class RuleSelection:
    """The resolved rule settings for one file."""

    rules: tuple[type[Rule], ...]
    fixable: frozenset[str] | None = None
    """Codes whose fixes are offered; None means all."""
    safe_fixes: frozenset[str] = frozenset()
    """Codes whose unsafe fixes count as safe (`lint.extend-safe-fixes`)."""
    unsafe_fixes: frozenset[str] = frozenset()
    """Codes whose safe fixes count as unsafe (`lint.extend-unsafe-fixes`)."""
    rule_settings: RuleSettings = field(default_factory=RuleSettings)

    def adjust(self, code: str, fix: Fix | None) -> Fix | None:
        if fix is None or (self.fixable is not None and code not in self.fixable):
            return None
        if code in self.unsafe_fixes and fix.applicability is Applicability.SAFE:
            return fix.with_applicability(Applicability.UNSAFE)
        if code in self.safe_fixes and fix.applicability is Applicability.UNSAFE:
            return fix.with_applicability(Applicability.SAFE)
        return fix
