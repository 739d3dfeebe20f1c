"""`# noqa` comments and file-level exemptions, parsed with Ruff's grammar.

One comment serves both tools: `# noqa: F401, SQL001` suppresses SQL001 here and F401 in
Ruff, and codes sqlsafe does not know are left alone. Only files that have diagnostics are
scanned, so the tokenizer runs rarely.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlsafe.diagnostics import Diagnostic, Edit
from sqlsafe.locator import Locator

_INLINE = re.compile(r"#\s*(?i:noqa)(?![\w-])")
_FILE_LEVEL = re.compile(r"#\s*(?P<tool>ruff|flake8|sqlsafe)\s*:\s*(?i:noqa)(?![\w-])")
_CODE = re.compile(r"[A-Z]+[0-9]+")
# Every directive is a comment naming `noqa`; a string token spans rows only when it is
# triple-quoted or escapes a line break. A text with neither needs no tokenizing.
_MAY_SUPPRESS = re.compile(r"#[^\r\n]*(?i:noqa)")
_MAY_SPAN_ROWS = re.compile(r"\"\"\"|'''|\\[\r\n]")
# Tokens that are neither code nor comments.
_LAYOUT = frozenset(
    {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
)


@dataclass(frozen=True)
class Directive:
    row: int
    codes: tuple[str, ...] | None
    """None for a blanket `# noqa`."""
    codes_end: int
    """Offset just after the last code (or after `noqa` for a blanket directive)."""

    def covers(self, code: str) -> bool:
        return self.codes is None or code in self.codes


@dataclass
class Suppressions:
    lines: dict[int, Directive] = field(default_factory=dict)
    file_codes: set[str] = field(default_factory=set)
    file_blanket: bool = False
    string_end_rows: dict[int, int] = field(default_factory=dict)
    """Rows inside a multi-line string map to the string's last row, where `# noqa` goes."""
    warnings: list[str] = field(default_factory=list)

    def noqa_row(self, row: int) -> int:
        return self.string_end_rows.get(row, row)

    def suppresses(self, diagnostic: Diagnostic) -> bool:
        if not diagnostic.is_rule:
            return False
        if self.file_blanket or diagnostic.code in self.file_codes:
            return True
        directive = self.lines.get(diagnostic.noqa_row or diagnostic.start.row)
        return directive is not None and directive.covers(diagnostic.code)


def _parse_codes(
    comment: str, start: int, where: str, warnings: list[str]
) -> tuple[tuple[str, ...] | None, int] | None:
    """Codes after `noqa` (None for blanket) and the index after the last one.

    Returns None for a malformed list, which suppresses nothing (as in Ruff).
    """
    rest = comment[start:]
    stripped = rest.lstrip()
    if not stripped.startswith(":"):
        return None, start
    index = start + (len(rest) - len(stripped)) + 1
    codes: list[str] = []
    end = index
    while True:
        while index < len(comment) and comment[index] in " \t,":
            index += 1
        match = _CODE.match(comment, index)
        if match is None:
            break
        codes.append(match.group())
        index = end = match.end()
        if index < len(comment) and comment[index].isupper():
            warnings.append(
                f"warning: Missing or joined rule code(s) at {where}: "
                "expected comma or space delimiter between codes"
            )
    if not codes:
        warnings.append(
            f"warning: Invalid `# noqa` directive on {where}: expected a comma-separated list "
            "of codes (e.g., `# noqa: F401, F841`)."
        )
        return None
    return tuple(codes), end


def parse(text: str, display_path: str, locator: Locator | None = None) -> Suppressions:
    result = Suppressions()
    if not _MAY_SUPPRESS.search(text) and not _MAY_SPAN_ROWS.search(text):
        return result  # nothing the tokenizer could find
    locator = locator or Locator(text)
    # One pass, the tokens not kept: a large file has a million of them.
    comments: list[tuple[tokenize.TokenInfo, bool]] = []
    """Every comment, and whether code shares its row."""
    code_end = 0
    """The last row of the last token that is code."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind == tokenize.COMMENT:
                comments.append((token, code_end == token.start[0]))
            elif kind not in _LAYOUT:
                code_end = token.end[0]
                if kind == tokenize.STRING and code_end > token.start[0]:
                    for row in range(token.start[0], code_end):
                        result.string_end_rows[row] = code_end
    except (tokenize.TokenError, SyntaxError):
        return Suppressions()
    for token, after_code in comments:
        row, column = token.start
        comment = token.string
        where = f"{display_path}:{row}"
        file_level = _FILE_LEVEL.match(comment)
        if file_level:
            if after_code:
                tool = file_level.group("tool")
                result.warnings.append(
                    f"warning: Unexpected `# {tool}: noqa` directive at {where}. File-level "
                    "suppression comments must appear on their own line. For line-level "
                    f"suppression, omit the `{tool}:` prefix."
                )
                continue
            parsed = _parse_codes(comment, file_level.end(), where, result.warnings)
            if parsed is not None:
                codes, _ = parsed
                if codes is None:
                    result.file_blanket = True
                else:
                    result.file_codes.update(codes)
            continue
        inline = _INLINE.search(comment)
        if inline is None:
            continue
        parsed = _parse_codes(comment, inline.end(), where, result.warnings)
        if parsed is None:
            continue
        codes, end = parsed
        line_start = locator.line_starts[row - 1]
        result.lines[row] = Directive(row, codes, line_start + column + end)
    return result


def add_noqa_edits(
    locator: Locator,
    suppressions: Suppressions,
    diagnostics: Iterable[Diagnostic],
    reason: str | None = None,
) -> list[Edit]:
    """Edits that make every given diagnostic suppressed, keeping other tools' codes."""
    needed: dict[int, set[str]] = {}
    for diagnostic in diagnostics:
        if diagnostic.is_rule and not suppressions.suppresses(diagnostic):
            row = diagnostic.noqa_row or diagnostic.start.row
            needed.setdefault(row, set()).add(diagnostic.code)
    edits = []
    suffix = f" {reason}" if reason else ""
    for row, codes in sorted(needed.items()):
        directive = suppressions.lines.get(row)
        if directive is not None and directive.codes is not None:
            offset = directive.codes_end
            content = "".join(f", {code}" for code in sorted(codes))
        else:
            offset = locator.line_end(row)
            content = f"  # noqa: {', '.join(sorted(codes))}{suffix}"
        location = locator.location(offset)
        edits.append(Edit(location, location, content))
    return edits
