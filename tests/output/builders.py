"""Reports for the output tests: a small sqlsafe run built by hand, and Ruff's scratch project
rebuilt from the verbatim Ruff 0.17.5 samples in shared/ (so both can be rendered and compared).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sqlsafe.diagnostics import (
    SYNTAX_ERROR_CODE,
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    FixAvailability,
    Location,
    RuleMeta,
    Severity,
)
from sqlsafe.report import Report

RAW = Path(__file__).parents[2].parent / "shared" / "ruff" / "samples" / "raw"
SAMPLES = RAW.parent

needs_samples = pytest.mark.skipif(
    not RAW.is_dir(),
    reason=f"the Ruff 0.17.5 samples are not at {RAW} (CI clones the repo with shared/ beside it)",
)


# --- a sqlsafe run -------------------------------------------------------------------------

CWD = Path("/proj")
DB = CWD / "app" / "db.py"
BROKEN = CWD / "app" / "broken.py"
OUTSIDE = Path("/elsewhere/lib.py")

DB_SOURCE = """\
from sqlmodel import Session


def load(engine, user_id):
    with Session(engine) as session:
        row = session.exec(f"SELECT * FROM user WHERE id = {user_id}").first()
    return row.name
"""
BROKEN_SOURCE = "def broken(:\n    return 1\n"

SQL_TEXT = 'text("SELECT * FROM user WHERE id = :id").bindparams(id=user_id)'


def span(source: str, needle: str, occurrence: int = 0) -> tuple[Location, Location]:
    """Start and (exclusive) end of `needle` in `source`, in 1-based character columns."""
    index = -1
    for _ in range(occurrence + 1):
        index = source.index(needle, index + 1)
    return _location(source, index), _location(source, index + len(needle))


def _location(source: str, offset: int) -> Location:
    before = source[:offset]
    row = before.count("\n") + 1
    return Location(row, offset - (before.rfind("\n") + 1) + 1)


def _rule(code: str, name: str, summary: str, severity: Severity = Severity.ERROR) -> RuleMeta:
    return RuleMeta(
        code=code,
        name=name,
        summary=summary,
        explanation=f"## What it does\nExplains {code}.\n",
        severity=severity,
        fix_availability=FixAvailability.SOMETIMES,
        url=f"https://sqlsafe.example/rules/{name}",
    )


RULES = {
    meta.code: meta
    for meta in (
        _rule("SQL001", "raw-sql-interpolation", "SQL text built with {how}"),
        _rule("ROW001", "first-without-none-check", "`.first()` used without a None check"),
        _rule(
            "DETACH002",
            "attribute-after-session-close",
            "Attribute read after the session closed",
            Severity.WARNING,
        ),
        _rule("SCOPE001", "session-without-scope", "Session without a scope"),
    )
}


def _diagnostic(
    code: str,
    message: str,
    path: Path,
    where: tuple[Location, Location],
    fix: Fix | None = None,
) -> Diagnostic:
    meta = RULES[code]
    return Diagnostic(
        code=code,
        name=meta.name,
        message=message,
        path=path,
        start=where[0],
        end=where[1],
        severity=meta.severity,
        fix=fix,
        noqa_row=where[0].row,
        url=meta.url,
    )


def sqlsafe_diagnostics() -> list[Diagnostic]:
    """Findings of every kind: safe, unsafe, display-only and no fix, a warning, a syntax
    error, two files below the working directory and one outside it without its source."""
    f_string = span(DB_SOURCE, 'f"SELECT * FROM user WHERE id = {user_id}"')
    sql001 = Fix(
        (
            Edit(*f_string, SQL_TEXT),
            Edit(Location(1, 1), Location(1, 1), "from sqlalchemy import text\n"),
        ),
        Applicability.SAFE,
        "Pass parameters with `bindparams`",
    )
    row001 = Fix(
        (Edit(*span(DB_SOURCE, "first"), "one"),),
        Applicability.DISPLAY_ONLY,
        "Use `.one()`",
    )
    detach = Fix(
        (Edit(Location(7, 1), Location(8, 1), "        return row.name\n"),),
        Applicability.UNSAFE,
        "Read `name` inside the `with` block",
    )
    return [
        _diagnostic("SQL001", "SQL text built with an f-string", OUTSIDE, span("x = 1", "x")),
        Diagnostic(
            code=SYNTAX_ERROR_CODE,
            name=SYNTAX_ERROR_CODE,
            message="Expected `)`, found newline",
            path=BROKEN,
            start=Location(1, 13),
            end=Location(2, 1),
            is_rule=False,
        ),
        _diagnostic(
            "SCOPE001",
            "`Session` opened without `expire_on_commit=False`",
            DB,
            span(DB_SOURCE, "Session(engine)"),
        ),
        _diagnostic("SQL001", "SQL text built with an f-string", DB, f_string, sql001),
        _diagnostic(
            "ROW001",
            "`.first()` may return `None`; `row.name` would fail",
            DB,
            span(DB_SOURCE, "first"),
            row001,
        ),
        _diagnostic(
            "DETACH002",
            "`row.name` is read after its session closed",
            DB,
            span(DB_SOURCE, "row.name"),
            detach,
        ),
    ]


def sqlsafe_report(**changes: Any) -> Report:
    fields: dict[str, Any] = {
        "diagnostics": sqlsafe_diagnostics(),
        "sources": {DB: DB_SOURCE, BROKEN: BROKEN_SOURCE},
        "cwd": CWD,
        "rules": RULES,
    }
    fields.update(changes)
    return Report(**fields)


# --- Ruff's scratch project, from the samples ----------------------------------------------

PROJECT = Path("/PROJECT")
SERVICE = PROJECT / "pkg" / "service.py"


def raw(name: str) -> str:
    return (RAW / f"{name}.stdout").read_text(encoding="utf-8")


def sample_stdout(name: str) -> str:
    """The verbatim stdout of a sample that has no raw file (the `.txt` marks a missing `\\n`)."""
    text = (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")
    match = re.search(r"# ---- stdout \(verbatim\) ----\n(.*?)# ---- stderr", text, re.S)
    assert match, name
    stdout = match.group(1)
    marker = "# (stdout had no trailing newline)\n"
    if stdout.endswith(marker):
        stdout = stdout[: -len(marker)].removesuffix("\n")
    return stdout


def scratch_sources() -> dict[Path, str]:
    text = (SAMPLES / "00-scratch-project-files.txt").read_text(encoding="utf-8")
    pattern = r"^===== (.+?) =====\n(.*?)(?=^===== |\Z)"
    return {PROJECT / m.group(1): m.group(2) for m in re.finditer(pattern, text, re.S | re.M)}


def _loc(data: dict[str, int]) -> Location:
    return Location(data["row"], data["column"])


def diagnostics_from_json(text: str) -> list[Diagnostic]:
    """Ruff's `--output-format json` read back into sqlsafe diagnostics."""
    diagnostics = []
    for item in json.loads(text):
        fix = None
        if item["fix"] is not None:
            edits = tuple(
                Edit(_loc(e["location"]), _loc(e["end_location"]), e["content"])
                for e in item["fix"]["edits"]
            )
            fix = Fix(edits, Applicability(item["fix"]["applicability"]), item["fix"]["message"])
        diagnostics.append(
            Diagnostic(
                code=item["code"],
                name=item["name"],
                message=item["message"],
                path=Path(item["filename"]),
                start=_loc(item["location"]),
                end=_loc(item["end_location"]),
                severity=Severity(item["severity"]),
                fix=fix,
                noqa_row=item["noqa_row"],
                url=item["url"],
                is_rule=item["url"] is not None,
            )
        )
    return diagnostics


def scratch_rules() -> dict[str, RuleMeta]:
    sarif = json.loads(raw("03-format-sarif"))
    rules = {}
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]:
        rules[rule["id"]] = RuleMeta(
            code=rule["id"],
            name=rule["properties"]["name"],
            summary=rule["shortDescription"]["text"],
            explanation=rule["fullDescription"]["text"],
            severity=Severity(rule["defaultConfiguration"]["level"]),
            fix_availability=FixAvailability.SOMETIMES,
            url=rule["helpUri"],
        )
    return rules


def scratch_report(**changes: Any) -> Report:
    """`ruff check` on the scratch project (every sample's starting point)."""
    fields: dict[str, Any] = {
        "diagnostics": diagnostics_from_json(raw("03-format-json")),
        "sources": scratch_sources(),
        "cwd": PROJECT,
        "rules": scratch_rules(),
    }
    fields.update(changes)
    return Report(**fields)


def _shift(d: Diagnostic, rows: int) -> Diagnostic:
    def move(location: Location) -> Location:
        return Location(location.row - rows, location.column)

    fix = d.fix
    if fix is not None:
        edits = tuple(Edit(move(e.start), move(e.end), e.content) for e in fix.edits)
        fix = Fix(edits, fix.applicability, fix.message)
    noqa_row = d.noqa_row - rows if d.noqa_row is not None else None
    return dataclasses.replace(d, start=move(d.start), end=move(d.end), fix=fix, noqa_row=noqa_row)


def scratch_after_safe_fixes(**changes: Any) -> Report:
    """The scratch project once `--fix` removed the two unused imports from service.py."""
    report = scratch_report()
    remaining = [
        _shift(d, 2) if d.path == SERVICE else d for d in report.diagnostics if d.code != "F401"
    ]
    sources = dict(report.sources)
    sources[SERVICE] = "".join(
        line
        for line in sources[SERVICE].splitlines(keepends=True)
        if not line.startswith(("import os", "import json"))
    )
    fields: dict[str, Any] = {
        "diagnostics": remaining,
        "sources": sources,
        "fixed": {SERVICE: Counter(F401=2)},
    }
    fields.update(changes)
    return dataclasses.replace(report, **fields)


def as_ruff(text: str) -> str:
    """sqlsafe's output with the program's own names put back to Ruff's, for byte comparison."""
    return (
        text.replace("title=sqlsafe (", "title=ruff (")
        .replace('"sqlsafe"', '"ruff"')
        .replace("org.sqlsafe", "org.ruff")
        .replace('"https://github.com/sqlsafe/sqlsafe"', '"https://docs.astral.sh/ruff"')
    )
