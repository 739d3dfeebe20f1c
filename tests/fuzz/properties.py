"""What `sqlsafe fix --unsafe-fixes` promises for any program, checked on real files.

`fix_and_check` writes a program into a project next to its models, runs the command the CLI
runs (in process, reading and writing the files), and asserts: no internal error; the fixed
file compiles and holds the bytes that fixing the program on standard input prints; a second
fix changes nothing; the lines no fix edited keep their bytes (line endings and BOM
included); every rewritten line is indented under its block as the original was.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import io
import re
import tempfile
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from sqlsafe import engine
from sqlsafe.command import CheckCommand, CommandOutcome
from sqlsafe.config import Resolver
from sqlsafe.diagnostics import INTERNAL_ERROR_CODE, Edit
from sqlsafe.fixes import apply_edits
from sqlsafe.source import UTF8_BOM
from tests.fuzz.programs import MODELS

PYPROJECT = '[tool.sqlsafe.lint]\nselect = ["ALL"]\n'


@dataclass(frozen=True)
class FixReport:
    fixes: int
    """How many fixes the first run applied."""
    syntax_error: bool
    """sqlsafe took the program for invalid syntax (and so left it alone)."""


def fix_and_check(program: bytes) -> FixReport:
    with tempfile.TemporaryDirectory(prefix="sqlsafe-fuzz-") as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text(PYPROJECT)
        (root / "app").mkdir()
        (root / "app" / "__init__.py").write_text("")
        (root / "app" / "models.py").write_text(MODELS)
        path = root / "app" / "program.py"
        path.write_bytes(program)
        from_stdin = _fix_stdin(root, path, program)
        rounds: list[tuple[str, list[Edit]]] = []
        with mock.patch.object(engine, "apply_edits", _recording(rounds)):
            first = _fix(root)
        fixed = path.read_bytes()
        assert from_stdin == fixed, "fixing standard input gave other bytes than the file"
        compile(fixed, str(path), "exec")
        second = _fix(root)
        assert second.fixed_count == 0, second.report.fixed
        assert path.read_bytes() == fixed, "a second fix changed the file"
        (outcome,) = (result for result in first.outcomes if result.path == path)
        _assert_only_edited_lines_changed(program, fixed, _edited_rows(rounds))
        _assert_rewritten_lines_indented(program, fixed)
        return FixReport(
            fixes=first.fixed_count,
            syntax_error=any(d.code == "invalid-syntax" for d in outcome.diagnostics),
        )


def _fix(root: Path) -> CommandOutcome:
    """`sqlsafe fix --unsafe-fixes --no-cache` run in `root`, in this process."""
    resolver = Resolver(cwd=root, cli={"fix": True, "unsafe-fixes": True})
    command = CheckCommand(
        resolver=resolver, base=resolver.for_path(root), paths=[root], jobs=1, use_cache=False
    )
    outcome = command.run()
    _assert_no_error(outcome)
    return outcome


def _fix_stdin(root: Path, path: Path, program: bytes) -> bytes:
    """What `sqlsafe fix --unsafe-fixes --stdin-filename PATH -` prints for `program`."""
    resolver = Resolver(cwd=root, cli={"fix": True, "unsafe-fixes": True})
    command = CheckCommand(
        resolver=resolver,
        base=resolver.for_path(root),
        paths=[Path("-")],
        stdin_filename=str(path.relative_to(root)),
        jobs=1,
        use_cache=False,
    )
    with mock.patch("sys.stdin", io.TextIOWrapper(io.BytesIO(program))):
        outcome = command.run()
    _assert_no_error(outcome)
    assert outcome.stdout_code is not None
    return outcome.stdout_code


def _assert_no_error(outcome: CommandOutcome) -> None:
    internal = [d for o in outcome.outcomes for d in o.diagnostics if d.code == INTERNAL_ERROR_CODE]
    assert not internal, internal[0].message
    assert outcome.exit_code(exit_zero=False, exit_non_zero_on_fix=False) != 2, outcome.stderr
    assert not [line for line in outcome.stderr if line.startswith("error")], outcome.stderr


def _recording(
    rounds: list[tuple[str, list[Edit]]],
) -> Callable[[str, Iterable[Edit]], str]:
    """`apply_edits`, noting each fix round's text and edits."""

    def apply(text: str, edits: Iterable[Edit]) -> str:
        edits = list(edits)
        rounds.append((text, edits))
        return apply_edits(text, edits)

    return apply


def _edited_rows(rounds: list[tuple[str, list[Edit]]]) -> set[int]:
    """The rows of the original file that the applied fixes' edits touch, and one row either
    side (where lines repeat, `pass`, `)`, difflib may align an inserted line one row off).
    A later round edits the text an earlier one made: its rows are traced back through the
    changes between them."""
    if not rounds:
        return set()
    original = _rows_of(rounds[0][0])
    rows: set[int] = set()
    for text, edits in rounds:
        touched: set[int] = set()
        for edit in edits:
            touched.update(range(edit.start.row - 1, edit.end.row + 2))
        rows |= _traced(original, _rows_of(text), touched)
    return rows


def _traced(original: list[str], current: list[str], rows: set[int]) -> set[int]:
    """Rows of `original` that `rows` of `current` come from: a row in a changed region
    counts for all of that region and the rows around it."""
    found: set[int] = set()
    matcher = difflib.SequenceMatcher(None, original, current, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        inside = [row for row in rows if j1 < row <= j2 or (j1 == j2 and row in (j1, j1 + 1))]
        if not inside:
            continue
        if tag == "equal":
            found.update(i1 + row - j1 for row in inside)
        else:
            found.update(range(i1, i2 + 2))
    return found


def _rows_of(text: str) -> list[str]:
    # The rows of edits: lines end at \n, \r\n or \r, as `_lines` breaks the bytes.
    lines = re.split(r"(?<=\n)|(?<=\r)(?!\n)", text)
    return lines[:-1] if lines and not lines[-1] else lines


def _lines(data: bytes) -> list[bytes]:
    # bytes.splitlines breaks where Python's tokenizer does (\n, \r\n, \r), not at \f.
    return data.splitlines(keepends=True)


def _assert_only_edited_lines_changed(before: bytes, after: bytes, edited: set[int]) -> None:
    assert before.startswith(UTF8_BOM) == after.startswith(UTF8_BOM), "BOM added or lost"
    old, new = _lines(before), _lines(after)
    endings = {_ending(line) for line in old} - {b""}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        rows = set(range(i1 + 1, i2 + 1)) if i2 > i1 else {i1, i1 + 1}
        assert rows & edited == rows or (i2 == i1 and rows & edited), (
            f"lines {i1 + 1}-{i2} changed outside the fixes' edits (rows {sorted(edited)}):\n"
            f"{old[i1:i2]!r}\n->\n{new[j1:j2]!r}"
        )
        for number in range(j1, j2):
            ending = _ending(new[number])
            if number == len(new) - 1 and not _ending(old[-1]):
                assert not ending, "a line ending added at the end of the file"
                continue
            # A file with mixed line endings may get any of them in the lines a fix writes.
            assert ending in endings, (
                f"rewritten line {number + 1} ends with {ending!r}, not {endings}: {new[number]!r}"
            )


def _ending(line: bytes) -> bytes:
    return line[len(line.rstrip(b"\r\n")) :]


def _assert_rewritten_lines_indented(before: bytes, after: bytes) -> None:
    """Each line a fix wrote starts with the indentation of the statement it belongs to
    (same characters: tabs stay tabs), wherever the lines it replaced did."""
    old, new = _text_lines(before), _text_lines(after)
    old_ok, new_ok = _indented_under_block(old), _indented_under_block(new)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or not all(old_ok[i1:i2]):
            continue
        for number in range(j1, j2):
            assert new_ok[number], f"rewritten line {number + 1} left its block: {new[number]!r}"


def _text_lines(data: bytes) -> list[str]:
    return importlib.util.decode_source(data).splitlines(keepends=True)


def _indented_under_block(lines: list[str]) -> list[bool]:
    """For each line: whether it starts with its innermost statement's indentation (blank
    lines and the inside of multi-line strings always do)."""
    text = "".join(lines)
    owner_indent: dict[int, str] = {}
    for node in ast.walk(ast.parse(text)):
        # ast.walk goes down level by level: an inner statement comes after its block.
        if isinstance(node, ast.stmt):
            first = lines[node.lineno - 1]
            indent = first[: len(first) - len(first.lstrip(" \t\f"))]
            for row in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                owner_indent[row] = indent
    in_strings = _string_interiors(text)
    return [
        not line.strip() or row in in_strings or line.startswith(owner_indent.get(row, ""))
        for row, line in enumerate(lines, start=1)
    ]


def _string_interiors(text: str) -> set[int]:
    """Rows after the first of each multi-line string: their indentation is the string's."""
    rows: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.STRING and token.end[0] > token.start[0]:
            rows.update(range(token.start[0] + 1, token.end[0] + 1))
    return rows
