"""The text formats and the summary lines on a sqlsafe run, exact to the byte.

The layouts were checked against Ruff 0.17.5 itself (see test_ruff_samples.py and
test_full_frames.py); these cases pin down what sqlsafe adds: warnings, a syntax error next
to rule findings, display-only fixes, a file outside the working directory without source.
"""

from __future__ import annotations

from collections import Counter

import pytest

from sqlsafe.output import FORMATS, render, render_statistics, summary_lines
from sqlsafe.report import FixMode
from tests.output.builders import DB, sqlsafe_diagnostics, sqlsafe_report

TIMES = "\N{MULTIPLICATION SIGN}"

FULL = """\
SQL001 SQL text built with an f-string
--> /elsewhere/lib.py:1:1

invalid-syntax: Expected `)`, found newline
 --> app/broken.py:1:13
  |
1 | def broken(:
  |             ^
2 |     return 1
  |

SCOPE001 `Session` opened without `expire_on_commit=False`
 --> app/db.py:5:10
  |
4 | def load(engine, user_id):
5 |     with Session(engine) as session:
  |          ^^^^^^^^^^^^^^^
6 |         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
7 |     return row.name
  |

SQL001 [*] SQL text built with an f-string
 --> app/db.py:6:28
  |
4 | def load(engine, user_id):
5 |     with Session(engine) as session:
6 |         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
  |                            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
7 |     return row.name
  |
help: Pass parameters with `bindparams`
  |
1 + from sqlalchemy import text
2 | from sqlmodel import Session
--------------------------------------------------------------------------------
6 |     with Session(engine) as session:
  -         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
7 +         row = session.exec(text("SELECT * FROM user WHERE id = :id").bindparams(id=user_id)).first()
8 |     return row.name
  |

ROW001 `.first()` may return `None`; `row.name` would fail
 --> app/db.py:6:72
  |
4 | def load(engine, user_id):
5 |     with Session(engine) as session:
6 |         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
  |                                                                        ^^^^^
7 |     return row.name
  |
help: Use `.one()`
  |
5 |     with Session(engine) as session:
  -         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
6 +         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").one()
7 |     return row.name
  |
note: This suggestion may be incorrect or produce invalid syntax. It requires manual review and cannot be applied automatically

DETACH002 `row.name` is read after its session closed
 --> app/db.py:7:12
  |
5 |     with Session(engine) as session:
6 |         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
7 |     return row.name
  |            ^^^^^^^^
help: Read `name` inside the `with` block
  |
6 |         row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
  -     return row.name
7 +         return row.name
  |
note: This is an unsafe fix and may change runtime behavior

Found 6 errors.
[*] 1 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`).
"""

CONCISE_LINES = """\
/elsewhere/lib.py:1:1: SQL001 SQL text built with an f-string
app/broken.py:1:13: invalid-syntax: Expected `)`, found newline
app/db.py:5:10: SCOPE001 `Session` opened without `expire_on_commit=False`
app/db.py:6:28: SQL001 [*] SQL text built with an f-string
app/db.py:6:72: ROW001 `.first()` may return `None`; `row.name` would fail
app/db.py:7:12: DETACH002 `row.name` is read after its session closed
"""

HINT = (
    "Found 6 errors.\n"
    "[*] 1 fixable with `--fix` (1 unsafe fix available with `--fix --unsafe-fixes`).\n"
)

GROUPED = """\
/elsewhere/lib.py:
  1:1 SQL001 SQL text built with an f-string

app/broken.py:
  1:13 invalid-syntax: Expected `)`, found newline

app/db.py:
  5:10 SCOPE001 `Session` opened without `expire_on_commit=False`
  6:28 SQL001 [*] SQL text built with an f-string
  6:72 ROW001 `.first()` may return `None`; `row.name` would fail
  7:12 DETACH002 `row.name` is read after its session closed

"""

PYLINT = """\
/elsewhere/lib.py:1: [SQL001] SQL text built with an f-string
app/broken.py:1: [invalid-syntax] Expected `)`, found newline
app/db.py:5: [SCOPE001] `Session` opened without `expire_on_commit=False`
app/db.py:6: [SQL001] SQL text built with an f-string
app/db.py:6: [ROW001] `.first()` may return `None`; `row.name` would fail
app/db.py:7: [DETACH002] `row.name` is read after its session closed
"""

AZURE = """\
##vso[task.logissue type=error;sourcepath=/elsewhere/lib.py;linenumber=1;columnnumber=1;code=SQL001;]SQL text built with an f-string
##vso[task.logissue type=error;sourcepath=/proj/app/broken.py;linenumber=1;columnnumber=13;code=invalid-syntax;]Expected `)`, found newline
##vso[task.logissue type=error;sourcepath=/proj/app/db.py;linenumber=5;columnnumber=10;code=SCOPE001;]`Session` opened without `expire_on_commit=False`
##vso[task.logissue type=error;sourcepath=/proj/app/db.py;linenumber=6;columnnumber=28;code=SQL001;]SQL text built with an f-string
##vso[task.logissue type=error;sourcepath=/proj/app/db.py;linenumber=6;columnnumber=72;code=ROW001;]`.first()` may return `None`; `row.name` would fail
##vso[task.logissue type=warning;sourcepath=/proj/app/db.py;linenumber=7;columnnumber=12;code=DETACH002;]`row.name` is read after its session closed
"""

GITHUB = """\
::error title=sqlsafe (SQL001),file=/elsewhere/lib.py,line=1,col=1,endLine=1,endColumn=2::/elsewhere/lib.py:1:1: SQL001 SQL text built with an f-string
::error title=sqlsafe (invalid-syntax),file=/proj/app/broken.py,line=1,endLine=2::app/broken.py:1:13: invalid-syntax: Expected `)`, found newline
::error title=sqlsafe (SCOPE001),file=/proj/app/db.py,line=5,col=10,endLine=5,endColumn=25::app/db.py:5:10: SCOPE001 `Session` opened without `expire_on_commit=False`
::error title=sqlsafe (SQL001),file=/proj/app/db.py,line=6,col=28,endLine=6,endColumn=70::app/db.py:6:28: SQL001 SQL text built with an f-string%0A  help: Pass parameters with `bindparams`
::error title=sqlsafe (ROW001),file=/proj/app/db.py,line=6,col=72,endLine=6,endColumn=77::app/db.py:6:72: ROW001 `.first()` may return `None`; `row.name` would fail%0A  help: Use `.one()`
::warning title=sqlsafe (DETACH002),file=/proj/app/db.py,line=7,col=12,endLine=7,endColumn=20::app/db.py:7:12: DETACH002 `row.name` is read after its session closed%0A  help: Read `name` inside the `with` block
"""


def test_formats_are_ruffs_twelve() -> None:
    assert FORMATS == (
        "concise",
        "full",
        "json",
        "json-lines",
        "junit",
        "grouped",
        "github",
        "gitlab",
        "pylint",
        "rdjson",
        "azure",
        "sarif",
    )


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("full", FULL),
        ("concise", CONCISE_LINES + HINT),
        ("grouped", GROUPED + HINT),
        ("pylint", PYLINT),
        ("azure", AZURE),
        ("github", GITHUB),
    ],
)
def test_text_format(fmt: str, expected: str) -> None:
    assert render(fmt, sqlsafe_report()) == expected


def test_quiet_drops_only_the_summary() -> None:
    report = sqlsafe_report()
    assert render("concise", report, summary=False) == CONCISE_LINES
    assert render("grouped", report, summary=False) == GROUPED
    assert render("full", report, summary=False) == FULL.removesuffix(HINT)
    assert render("pylint", report, summary=False) == PYLINT


@pytest.mark.parametrize(
    ("unsafe_fixes", "marked", "hint"),
    [
        (None, 1, HINT),
        (True, 2, "Found 6 errors.\n[*] 2 fixable with `--fix`.\n"),
        (False, 1, "Found 6 errors.\n[*] 1 fixable with `--fix`.\n"),
    ],
)
def test_unsafe_fixes_setting(unsafe_fixes: bool | None, marked: int, hint: str) -> None:
    text = render("concise", sqlsafe_report(unsafe_fixes=unsafe_fixes))
    assert text.endswith("\n" + hint)
    assert text.count("[*] ") == marked + hint.count("[*] ")
    # A display-only fix is a suggestion: never marked, never counted.
    assert "ROW001 [*]" not in text


def test_only_unsafe_fixes_left() -> None:
    report = sqlsafe_report(diagnostics=[d for d in sqlsafe_diagnostics() if d.code != "SQL001"])
    assert summary_lines(report) == [
        "Found 4 errors.",
        "1 unsafe fix available with `--fix --unsafe-fixes`.",
    ]
    assert summary_lines(sqlsafe_report(diagnostics=report.diagnostics, unsafe_fixes=False)) == [
        "Found 4 errors."
    ]


def _after_fix(**changes: object):
    remaining = [d for d in sqlsafe_diagnostics() if not (d.code == "SQL001" and d.path == DB)]
    return sqlsafe_report(diagnostics=remaining, fixed={DB: Counter(SQL001=1)}, **changes)


def test_fix_mode_has_no_markers_and_counts_fixed() -> None:
    text = render("concise", _after_fix(mode=FixMode.FIX, unsafe_fixes=True))
    *diagnostics, found, fixable = text.splitlines()
    assert not any("[*]" in line for line in diagnostics)
    assert found == "Found 6 errors (1 fixed, 5 remaining)."
    # The summary still counts what another `--fix` would do (Ruff's wording).
    assert fixable == "[*] 1 fixable with `--fix`."


def test_show_fixes_block_after_fix() -> None:
    report = _after_fix(mode=FixMode.FIX, show_fixes=True)
    expected_tail = (
        "app/db.py:7:12: DETACH002 `row.name` is read after its session closed\n"
        "\n"
        "Fixed 1 error:\n"
        "- app/db.py:\n"
        f"    1 {TIMES} SQL001 (raw-sql-interpolation)\n"
        "\n"
        "Found 6 errors (1 fixed, 5 remaining).\n"
        "1 unsafe fix available with `--fix --unsafe-fixes`.\n"
    )
    assert render("concise", report).endswith(expected_tail)
    # `-q` silences the summary, not the list of fixes.
    assert render("concise", report, summary=False).endswith(
        f"    1 {TIMES} SQL001 (raw-sql-interpolation)\n\n"
    )
    # The full format ends each diagnostic with a blank line, so two precede the block.
    assert "note: This is an unsafe fix and may change runtime behavior\n\n\nFixed 1 error:\n" in (
        render("full", report)
    )


def test_show_fixes_needs_something_fixed() -> None:
    assert render("concise", sqlsafe_report(show_fixes=True)) == CONCISE_LINES + HINT


def test_show_fixes_aligns_counts_and_sorts_files() -> None:
    other = DB.with_name("models.py")
    report = sqlsafe_report(
        diagnostics=[],
        mode=FixMode.FIX_ONLY,
        show_fixes=True,
        fixed={other: Counter(SQL001=12), DB: Counter(SQL001=3, DETACH002=3)},
    )
    assert render("full", report) == (
        "\n"
        "Fixed 18 errors:\n"
        "- app/db.py:\n"
        f"     3 {TIMES} DETACH002 (attribute-after-session-close)\n"
        f"     3 {TIMES} SQL001 (raw-sql-interpolation)\n"
        "- app/models.py:\n"
        f"    12 {TIMES} SQL001 (raw-sql-interpolation)\n"
        "\n"
        "Fixed 18 errors.\n"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_fix_only_prints_only_the_text_formats_summary(fmt: str) -> None:
    report = _after_fix(mode=FixMode.FIX_ONLY)
    expected = "Fixed 1 error (1 additional fix available with `--unsafe-fixes`).\n"
    assert render(fmt, report) == (expected if fmt in ("full", "concise", "grouped") else "")
    assert render(fmt, report, summary=False) == ""


@pytest.mark.parametrize(
    ("mode", "fixed", "unsafe_fixes", "expected"),
    [
        (FixMode.FIX_ONLY, 1, None, ["Fixed 1 error (1 additional fix available with `--unsafe-fixes`)."]),
        (FixMode.FIX_ONLY, 2, True, ["Fixed 2 errors."]),
        (FixMode.FIX_ONLY, 0, None, ["No errors fixed (1 fix available with `--unsafe-fixes`)."]),
        (FixMode.DIFF, 3, None, ["Would fix 3 errors (1 additional fix available with `--unsafe-fixes`)."]),
        (FixMode.DIFF, 1, True, ["Would fix 1 error."]),
        (FixMode.DIFF, 0, None, ["No errors would be fixed (1 fix available with `--unsafe-fixes`)."]),
    ],
)  # fmt: skip
def test_fix_only_and_diff_lines(
    mode: FixMode, fixed: int, unsafe_fixes: bool | None, expected: list[str]
) -> None:
    remaining = [d for d in sqlsafe_diagnostics() if d.code == "DETACH002"]
    if unsafe_fixes:
        remaining = []
    report = sqlsafe_report(
        diagnostics=remaining,
        mode=mode,
        unsafe_fixes=unsafe_fixes,
        fixed={DB: Counter(SQL001=fixed)} if fixed else {},
    )
    assert summary_lines(report) == expected


def test_diff_with_nothing_to_fix_says_nothing() -> None:
    report = sqlsafe_report(
        diagnostics=[d for d in sqlsafe_diagnostics() if d.fix is None], mode=FixMode.DIFF
    )
    assert summary_lines(report) == []
    assert render("concise", report) == ""


def test_clean_run() -> None:
    report = sqlsafe_report(diagnostics=[])
    for fmt in ("full", "concise", "grouped"):
        assert render(fmt, report) == "All checks passed!\n"
        assert render(fmt, report, summary=False) == ""
    for fmt in ("json-lines", "github", "pylint", "azure"):
        assert render(fmt, report) == ""
    assert render("json", report) == "[]"
    assert render("gitlab", report) == "[]"
    all_fixed = sqlsafe_report(diagnostics=[], mode=FixMode.FIX, fixed={DB: Counter(SQL001=2)})
    assert render("full", all_fixed) == "Found 2 errors (2 fixed, 0 remaining).\n"


def test_statistics_text() -> None:
    assert render_statistics(sqlsafe_report(), "concise") == (
        "2\tSQL001   \t[-] raw-sql-interpolation\n"
        "1\tDETACH002\t[ ] attribute-after-session-close\n"
        "1\tROW001   \t[ ] first-without-none-check\n"
        "1\t         \t[ ] invalid-syntax\n"
        "1\tSCOPE001 \t[ ] session-without-scope\n" + HINT
    )
    unsafe = render_statistics(sqlsafe_report(unsafe_fixes=True), "full", summary=False)
    assert unsafe.splitlines()[1] == "1\tDETACH002\t[*] attribute-after-session-close"
    assert "Found" not in unsafe


def test_statistics_without_fixes_has_no_marker_column() -> None:
    report = sqlsafe_report(diagnostics=[d for d in sqlsafe_diagnostics() if d.fix is None])
    assert render_statistics(report, "full", summary=False) == (
        "1\t        \tinvalid-syntax\n"
        "1\tSQL001  \traw-sql-interpolation\n"
        "1\tSCOPE001\tsession-without-scope\n"
    )


def test_statistics_json() -> None:
    text = render_statistics(sqlsafe_report(), "json")
    assert text.endswith("}\n]\n")
    assert text.startswith(
        "[\n"
        "  {\n"
        '    "code": "SQL001",\n'
        '    "name": "raw-sql-interpolation",\n'
        '    "count": 2,\n'
        '    "fixable": false,\n'
        '    "fixable_count": 1\n'
        "  },\n"
    )
    assert '"code": null,\n    "name": "invalid-syntax"' in text


def test_statistics_of_a_clean_run_is_empty() -> None:
    report = sqlsafe_report(diagnostics=[])
    assert render_statistics(report, "full") == ""
    assert render_statistics(report, "json") == ""


@pytest.mark.parametrize("fmt", ["grouped", "pylint", "sarif"])
def test_statistics_in_other_formats_is_refused(fmt: str) -> None:
    with pytest.raises(ValueError, match="Unsupported serialization format for statistics"):
        render_statistics(sqlsafe_report(), fmt)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown output format 'text'"):
        render("text", sqlsafe_report())


def test_github_escapes_what_it_would_decode() -> None:
    diagnostic = sqlsafe_diagnostics()[2]
    diagnostic.message = "LIKE '%0A' matches\nnothing, 100%"
    line = render("github", sqlsafe_report(diagnostics=[diagnostic]))
    assert line.endswith("SCOPE001 LIKE '%250A' matches%0Anothing, 100%25\n")
    assert line.count("\n") == 1


def test_azure_keeps_one_command_per_line() -> None:
    diagnostic = sqlsafe_diagnostics()[2]
    diagnostic.message = "two\nlines; 5% ]"
    line = render("azure", sqlsafe_report(diagnostics=[diagnostic]))
    assert line.endswith(";code=SCOPE001;]two%0Alines; 5%AZP25 ]\n")
