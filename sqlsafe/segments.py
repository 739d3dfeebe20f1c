"""Checking a very large file in pieces, so that its memory stays bounded.

A libcst tree costs several hundred bytes per byte of source (a 5 MB generated module is a
tree of several GB). A file longer than `LARGE` characters is therefore checked as
segments of whole top-level statements, each parsed on its own: every segment holds its
own functions and classes plus every other top-level statement of the file (imports,
session factories, constants), which the rules need to resolve names. Each statement
belongs to one segment, which alone reports on it; the segment's rows are mapped back to
the file's.

What a segment cannot see is the other segments' functions, so analyses across functions
of one module (the DETACH conversion, which rewrites callers) see a large file as text only.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlsafe.diagnostics import Diagnostic, Edit, Location

LARGE = 1_000_000
"""Characters above which a file is checked in segments."""
SEGMENT = 60_000
"""About how many characters of functions and classes each segment holds. Smaller trees are
also faster to check: the 5 MB file of `tests/engine/test_segments.py` took 62 s of CPU in
segments of 250,000 characters, 55 s in segments of 60,000 or of 30,000 (each segment
parses the file's other top-level statements again, which favours the larger size)."""

_WORD = re.compile(r"[ \t\f]*(@|\w+)")
_DEFINITIONS = frozenset({"def", "class", "async", "@"})
# Clauses that continue the statement above them at the same indentation.
_CLAUSES = frozenset({"else", "elif", "except", "finally"})


@dataclass(frozen=True)
class _Piece:
    first: int
    """Row (1-based) of the piece's first line in the file."""
    rows: int
    definition: bool
    """A function or a class (owned by one segment) rather than a statement every segment
    holds."""


@dataclass(frozen=True)
class Segment:
    text: str
    starts: tuple[int, ...]
    """The segment's row at which each of its pieces starts."""
    firsts: tuple[int, ...]
    """The file's row at which each of its pieces starts."""
    owned: tuple[bool, ...]
    """Whether this segment reports on each piece."""

    def _piece(self, row: int) -> int:
        return bisect_right(self.starts, row) - 1

    def owns(self, row: int) -> bool:
        return self.owned[self._piece(row)]

    def moved(self, diagnostic: Diagnostic) -> Diagnostic:
        """`diagnostic` with the file's rows, its fix's edits included."""
        fix = diagnostic.fix
        if fix is not None:
            edits = tuple(
                sorted(
                    Edit(
                        self.location(edit.start, insertion=edit.start == edit.end),
                        self.location(edit.end, insertion=edit.start == edit.end),
                        edit.content,
                    )
                    for edit in fix.edits
                )
            )
            fix = replace(fix, edits=edits)
        return replace(
            diagnostic,
            start=self.location(diagnostic.start),
            end=self.location(diagnostic.end),
            fix=fix,
        )

    def location(self, location: Location, insertion: bool = False) -> Location:
        """The file's location for one of the segment's. An insertion at the start of a
        piece goes right after the piece before it (an import after the file's imports)."""
        row = location.row
        piece = self._piece(row)
        if insertion and location.column == 1 and row == self.starts[piece] and piece > 0:
            before = self.location(Location(row - 1, 1))
            return Location(before.row + 1, 1)
        return Location(self.firsts[piece] + row - self.starts[piece], location.column)


Start = tuple[int, str]
"""The row of a top-level statement's first token, and the token."""


def split(text: str, starts: Sequence[Start] | None = None) -> list[Segment] | None:
    """The segments of a large text; None for a text small enough to check whole, or one
    whose statements cannot be told apart (it does not tokenize). `starts`: its top-level
    statements' starts when known (`starts_of` its syntax tree), which saves tokenizing it."""
    if len(text) <= LARGE:
        return None
    lines = text.splitlines(keepends=True)
    pieces = _pieces(starts or _statement_starts(text), len(lines))
    if pieces is None:
        return None
    groups: list[list[int]] = [[]]
    size = 0
    for number, piece in enumerate(pieces):
        if not piece.definition:
            continue
        if size >= SEGMENT:
            groups.append([])
            size = 0
        groups[-1].append(number)
        size += sum(len(line) for line in lines[piece.first - 1 : piece.first - 1 + piece.rows])
    segments = []
    for index, group in enumerate(groups):
        mine = set(group)
        chosen = [n for n, p in enumerate(pieces) if n in mine or not p.definition]
        parts: list[str] = []
        at: list[int] = []
        firsts: list[int] = []
        owned: list[bool] = []
        row = 1
        for number in chosen:
            piece = pieces[number]
            at.append(row)
            firsts.append(piece.first)
            owned.append(number in mine or index == 0)
            parts.extend(lines[piece.first - 1 : piece.first - 1 + piece.rows])
            row += piece.rows
        segments.append(Segment("".join(parts), tuple(at), tuple(firsts), tuple(owned)))
    return segments


def _pieces(starts: Sequence[Start] | None, row_count: int) -> list[_Piece] | None:
    if not starts:
        return None
    found: list[tuple[int, bool]] = []
    previous = ""
    for row, word in starts:
        # A clause continues its statement; what follows a decorator is what it decorates.
        if word not in _CLAUSES and previous != "@":
            found.append((row, word in _DEFINITIONS))
        previous = word
    if found[0][0] != 1:
        found.insert(0, (1, False))
    ends = [row for row, _ in found[1:]] + [row_count + 1]
    return [
        _Piece(first, end - first, definition)
        for (first, definition), end in zip(found, ends, strict=True)
    ]


def starts_of(tree: ast.Module, text: str) -> list[Start] | None:
    """`_statement_starts` of `text` read from its syntax tree: a definition starts at its
    first decorator (the `@`), any other statement at its first token. None when a row does
    not begin with the token the tree implies (a decorator continued with a backslash)."""
    lines = text.splitlines()
    found: list[Start] = []
    for statement in tree.body:
        kind = type(statement)
        if kind is ast.FunctionDef or kind is ast.AsyncFunctionDef or kind is ast.ClassDef:
            decorators = statement.decorator_list  # type: ignore[attr-defined]
            row = decorators[0].lineno if decorators else statement.lineno
            word = _first_word(lines[row - 1])
            if word not in ("@", "def", "class", "async"):
                return None
            word = "def" if word == "@" else word
        else:
            row, word = statement.lineno, ""
        # Statements after a `;` share their row with the first: one start.
        if not found or found[-1][0] != row:
            found.append((row, word))
    return found


def _first_word(line: str) -> str:
    match = _WORD.match(line)
    return match.group(1) if match else ""


def _statement_starts(text: str) -> list[Start] | None:
    """(row, first token) of every statement at the top level; None if `text` does not
    tokenize."""
    found = []
    depth = 0
    at_start = True
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = token.type
            if kind == tokenize.INDENT:
                depth += 1
            elif kind == tokenize.DEDENT:
                depth -= 1
            elif kind == tokenize.NEWLINE:
                at_start = True
            elif kind in (tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER):
                continue
            elif at_start:
                at_start = False
                if depth == 0:
                    found.append((token.start[0], token.string))
    except (tokenize.TokenError, SyntaxError):
        return None
    return found
