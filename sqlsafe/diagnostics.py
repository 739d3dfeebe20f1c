"""The data every other part of sqlsafe exchanges: diagnostics, fixes and their edits.

Positions follow Ruff's JSON conventions so that output formats never have to convert:
rows are 1-based, columns are 1-based and counted in characters (code points), and end
positions are exclusive.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class Applicability(enum.Enum):
    """How sure a fix is; the values are the strings Ruff's JSON uses."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    DISPLAY_ONLY = "displayonly"


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class FixAvailability(enum.Enum):
    """What `sqlsafe rule` says about a rule's fix, in Ruff's words."""

    NONE = "None"
    SOMETIMES = "Sometimes"
    ALWAYS = "Always"

    @property
    def sentence(self) -> str:
        return {
            FixAvailability.NONE: "Fix is not available.",
            FixAvailability.SOMETIMES: "Fix is sometimes available.",
            FixAvailability.ALWAYS: "Fix is always available.",
        }[self]


@dataclass(frozen=True, order=True)
class Location:
    row: int
    column: int

    def to_json(self) -> dict[str, int]:
        return {"column": self.column, "row": self.row}


@dataclass(frozen=True, order=True)
class Edit:
    """Replace the text between two positions (start inclusive, end exclusive)."""

    start: Location
    end: Location
    content: str

    def overlaps(self, other: Edit) -> bool:
        if self == other:
            return False
        if self.start == self.end and other.start == other.end:
            return self.start == other.start
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Fix:
    edits: tuple[Edit, ...]
    applicability: Applicability
    message: str | None = None

    def with_applicability(self, applicability: Applicability) -> Fix:
        return Fix(self.edits, applicability, self.message)

    def overlaps(self, other: Fix) -> bool:
        return any(a.overlaps(b) for a in self.edits for b in other.edits)


@dataclass(frozen=True)
class RuleMeta:
    """What outputs and `sqlsafe rule` need to know about a rule, without importing it."""

    code: str
    name: str
    summary: str
    """The message shape in a few words (SARIF's shortDescription/help)."""
    explanation: str
    """Markdown docs: What it does / Why is this bad? / Example / Use instead / Fix safety."""
    severity: Severity
    fix_availability: FixAvailability
    url: str


SYNTAX_ERROR_CODE = "invalid-syntax"
INTERNAL_ERROR_CODE = "internal-error"
"""A rule that failed on a file: the run goes on, and exits 2 at the end."""


@dataclass(frozen=True)
class Related:
    """A place that explains a finding: where the instance was loaded, the commit that
    expired it, where its session closed. A finding's list tells its story in order."""

    path: Path
    start: Location
    end: Location
    message: str

    def to_json(self) -> dict[str, object]:
        return {
            "filename": str(self.path),
            "location": self.start.to_json(),
            "end_location": self.end.to_json(),
            "message": self.message,
        }


@dataclass
class Diagnostic:
    """One finding in one file.

    `code` is the rule code (`SQL001`) or, for problems that are not rule findings,
    a kebab-case identifier as Ruff uses (`invalid-syntax`, `io-error`); `is_rule` tells them
    apart (only rule findings have a docs URL and can be suppressed or fixed).
    """

    code: str
    name: str
    message: str
    path: Path
    start: Location
    end: Location
    severity: Severity = Severity.ERROR
    fix: Fix | None = None
    noqa_row: int | None = None
    url: str | None = None
    is_rule: bool = True
    related: tuple[Related, ...] = ()

    def sort_key(self) -> tuple[str, int, int, str]:
        return (str(self.path), self.start.row, self.start.column, self.code)


def syntax_error(path: Path, message: str, location: Location) -> Diagnostic:
    return Diagnostic(
        code=SYNTAX_ERROR_CODE,
        name=SYNTAX_ERROR_CODE,
        message=message,
        path=path,
        start=location,
        end=location,
        is_rule=False,
    )


def python_syntax_error(text: str, path: Path) -> Diagnostic | None:
    """CPython's own syntax error for `text`, where its parser places it; None if it parses,
    or if libcst does (syntax newer than the running Python, see `newer_syntax`)."""
    from sqlsafe.index import newer_syntax

    try:
        newer_syntax.parse(text, str(path))
    except SyntaxError as error:
        location = Location(error.lineno or 1, (error.offset or 1))
        message = error.msg or "invalid syntax"
        return syntax_error(path, message[:1].upper() + message[1:], location)
    except (ValueError, RecursionError, MemoryError) as error:
        return syntax_error(path, str(error) or type(error).__name__, Location(1, 1))
    return None


def internal_error(path: Path, message: str) -> Diagnostic:
    return Diagnostic(
        code=INTERNAL_ERROR_CODE,
        name=INTERNAL_ERROR_CODE,
        message=message,
        path=path,
        start=Location(1, 1),
        end=Location(1, 1),
        is_rule=False,
    )
