from pathlib import Path

import pytest

from sqlsafe import suppression
from sqlsafe.diagnostics import Diagnostic, Location
from sqlsafe.fixes import apply_edits
from sqlsafe.locator import Locator


def diag(row: int, code: str = "SQL001") -> Diagnostic:
    return Diagnostic(
        code, "x", "m", Path("/a.py"), Location(row, 1), Location(row, 2), noqa_row=row
    )


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("# noqa", True),
        ("# noqa: SQL001", True),
        ("#noqa:SQL001", True),
        ("# NOQA: SQL001", True),
        ("# noqa : SQL001", True),
        ("# noqa:F401,SQL001", True),
        ("# noqa: F401 SQL001", True),
        ("# noqa: SQL001,", True),
        ("# noqa SQL001", True),  # no colon: blanket, as in Ruff
        ("# noqa: SQL001 because the driver wants it", True),
        ("# noqa:SQL001 -- reason", True),
        ("# type: ignore # noqa: SQL001", True),
        ("# noqa: F401", False),
        ("# noqa: sql001", False),
        ("# noqa: SQL", False),
        ("# noqa: SQL00", False),
        ("# noqa: F401 reason SQL001", False),  # free text ends the list
        ("# ruff: noqa: SQL001", False),  # file-level form as a trailing comment is ignored
        ("# noqanope", False),
    ],
)
def test_inline_grammar(comment, suppressed):
    text = f"x = 1  {comment}\n"
    parsed = suppression.parse(text, "a.py")
    assert parsed.suppresses(diag(1)) is suppressed


def test_invalid_directive_warns():
    parsed = suppression.parse("x = 1  # noqa: sql001\n", "a.py")
    assert parsed.warnings == [
        "warning: Invalid `# noqa` directive on a.py:1: expected a comma-separated list of "
        "codes (e.g., `# noqa: F401, F841`)."
    ]


@pytest.mark.parametrize(
    ("header", "codes", "suppressed"),
    [
        ("# ruff: noqa", ["SQL001", "ROW001"], [True, True]),
        ("# flake8: noqa", ["SQL001"], [True]),
        ("# sqlsafe: noqa", ["SQL001"], [True]),
        ("# ruff: noqa: SQL001", ["SQL001", "ROW001"], [True, False]),
        ("#ruff:noqa:SQL001 reason", ["SQL001"], [True]),
        ("# sqlsafe: noqa: ROW001", ["SQL001", "ROW001"], [False, True]),
        ("# RUFF: NOQA: SQL001", ["SQL001"], [False]),
        ("# noqa", ["SQL001"], [False]),  # a lone `# noqa` on line 1 is not file-level
    ],
)
def test_file_level(header, codes, suppressed):
    text = f"{header}\nimport os\nx = 1\n"
    parsed = suppression.parse(text, "a.py")
    assert [parsed.suppresses(diag(3, code)) for code in codes] == suppressed


def test_trailing_file_level_warns():
    parsed = suppression.parse("import os  # ruff: noqa: SQL001\n", "a.py")
    assert not parsed.file_codes
    assert "File-level suppression comments must appear on their own line" in parsed.warnings[0]


def test_multiline_string_noqa_row():
    text = 'x = f(\n    """a\nb\n"""\n)\n'
    parsed = suppression.parse(text, "a.py")
    assert parsed.noqa_row(2) == 4
    assert parsed.noqa_row(1) == 1


def test_add_noqa_keeps_other_codes_and_appends():
    text = "a = 1  # noqa: E501\nb = 2\nc = 3  # type: ignore\r\n"
    locator = Locator(text)
    parsed = suppression.parse(text, "a.py")
    edits = suppression.add_noqa_edits(
        locator, parsed, [diag(1), diag(2), diag(2, "ROW001"), diag(3)]
    )
    assert apply_edits(text, edits) == (
        "a = 1  # noqa: E501, SQL001\n"
        "b = 2  # noqa: ROW001, SQL001\n"
        "c = 3  # type: ignore  # noqa: SQL001\r\n"
    )


def test_add_noqa_reason_and_already_suppressed():
    text = "a = 1\nb = 2  # noqa\n"
    locator = Locator(text)
    parsed = suppression.parse(text, "a.py")
    edits = suppression.add_noqa_edits(locator, parsed, [diag(1), diag(2)], reason="legacy")
    assert apply_edits(text, edits) == "a = 1  # noqa: SQL001 legacy\nb = 2  # noqa\n"


@pytest.mark.parametrize(
    ("text", "rows", "directives"),
    [
        ('x = """a\nb"""\n', {1: 2}, []),
        ("x = '''a\r\nb'''\r\n", {1: 2}, []),
        ('x = "a\\\nb"\n', {1: 2}, []),
        ("f()  # NoQA: SQL001\n", {}, [1]),
        ("#ruff:noqa\nf()\n", {}, []),
        ("x = 1\nf(x)\n", {}, []),
        ('x = "# noqa"\n', {}, []),
    ],
)
def test_what_a_text_without_tokenizing_would_lose(text, rows, directives):
    """A text is tokenized only when it may hold a directive or a string spanning rows: those
    that do are still found, and one without either has nothing to find."""
    found = suppression.parse(text, "a.py")
    assert found.string_end_rows == rows
    assert sorted(found.lines) == directives
    assert found.file_blanket == text.startswith("#ruff:noqa")
