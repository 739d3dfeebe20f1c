"""The fix preview's machinery: applying edits, the line diff and its hunks."""

from __future__ import annotations

import random
from functools import cache

import pytest

from sqlsafe.diagnostics import Applicability, Edit, Fix, Location
from sqlsafe.output._fixdiff import _fixed_lines, _groups, _ops, apply_fix, fix_diff


def _fix(*edits: tuple[int, int, int, int, str]) -> Fix:
    return Fix(
        tuple(Edit(Location(a, b), Location(c, d), text) for a, b, c, d, text in edits),
        Applicability.SAFE,
    )


@pytest.mark.parametrize(
    ("source", "fix", "expected"),
    [
        ("a = 1\nb = 2\n", _fix((1, 5, 1, 6, "9")), "a = 9\nb = 2\n"),
        ("a = 1\nb = 2\n", _fix((2, 1, 3, 1, "")), "a = 1\n"),
        ("a = 1", _fix((1, 6, 1, 6, "\nb = 2")), "a = 1\nb = 2"),
        ("a = 1\nb = 2\n", _fix((2, 1, 2, 1, "x; ")), "a = 1\nx; b = 2\n"),
        # Edits come in any order; one overlapping an earlier edit cannot apply.
        ("abcdef\n", _fix((1, 5, 1, 6, "E"), (1, 1, 1, 3, "AB"), (1, 2, 1, 4, "?")), "ABcdEf\n"),
        ("a\r\nb\r\n", _fix((2, 1, 2, 2, "c")), "a\r\nc\r\n"),
    ],
)
def test_apply_fix(source: str, fix: Fix, expected: str) -> None:
    assert apply_fix(source, fix) == expected
    # The diff splits only the touched lines; the result must be the fully split text's.
    lines, _, _ = _fixed_lines(source, fix)
    assert "".join(lines) == expected
    assert lines == expected.splitlines(keepends=True)


def test_no_change_no_preview() -> None:
    assert fix_diff("a = 1\n", _fix((1, 5, 1, 6, "1"))) == []


def test_line_without_final_break_differs_from_one_with_it() -> None:
    assert fix_diff("x = 1", _fix((1, 6, 1, 6, "\ny = 2"))) == [
        "  |",
        "  - x = 1",
        "1 + x = 1",
        "2 + y = 2",
        "  |",
    ]


def test_numbers_widen_for_the_last_new_line() -> None:
    source = "".join(f"line {n}\n" for n in range(1, 11))
    assert fix_diff(source, _fix((9, 1, 9, 7, "fixed line 9"))) == [
        "   |",
        "8  | line 8",
        "   - line 9",
        "9  + fixed line 9",
        "10 | line 10",
        "   |",
    ]


def test_long_unchanged_runs_split_hunks() -> None:
    source = "".join(f"{n}\n" for n in range(1, 9))
    lines = fix_diff(source, _fix((2, 1, 2, 2, "two"), (7, 1, 7, 2, "seven")))
    assert lines == [
        "  |",
        "1 | 1",
        "  - 2",
        "2 + two",
        "3 | 3",
        "-" * 80,
        "6 | 6",
        "  - 7",
        "7 + seven",
        "8 | 8",
        "  |",
    ]
    # Two kept lines between changes are shown rather than cut.
    joined = fix_diff(source, _fix((2, 1, 2, 2, "two"), (5, 1, 5, 2, "five")))
    assert "-" * 80 not in joined and "3 | 3" in joined and "4 | 4" in joined


@cache
def _lcs(a: str, b: str) -> int:
    if not a or not b:
        return 0
    if a[0] == b[0]:
        return 1 + _lcs(a[1:], b[1:])
    return max(_lcs(a[1:], b), _lcs(a, b[1:]))


def test_diff_is_minimal_and_covers_both_sides() -> None:
    rng = random.Random(17)
    for _ in range(400):
        old = "".join(rng.choice("abc") for _ in range(rng.randrange(9)))
        new = "".join(rng.choice("abc") for _ in range(rng.randrange(9)))
        ops = _ops(list(old), list(new), 0, 0)
        changed = 0
        o = n = 0
        for tag, o0, o1, n0, n1 in ops:
            assert (o0, n0) == (o, n)
            if tag == "equal":
                assert old[o0:o1] == new[n0:n1]
            else:
                changed += (o1 - o0) + (n1 - n0)
            o, n = o1, n1
        assert (o, n) == (len(old), len(new))
        assert changed == len(old) + len(new) - 2 * _lcs(old, new)


def test_known_equal_ends_give_the_same_diff() -> None:
    old = list("xaaybz")
    new = list("xaayyaabz")
    assert _ops(old, new, 3, 2) == _ops(old, new, 0, 0)


def test_groups_trim_context() -> None:
    ops = [("equal", 0, 5, 0, 5), ("change", 5, 6, 5, 7), ("equal", 6, 9, 7, 10)]
    assert _groups(ops, 1) == [
        [("equal", 4, 5, 4, 5), ("change", 5, 6, 5, 7), ("equal", 6, 7, 7, 8)]
    ]
    assert _groups([("equal", 0, 3, 0, 3)], 1) == []
