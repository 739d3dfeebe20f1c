"""Related locations (a lifecycle finding's story) in each output format, from a real run over
the example app: the notes of `full`, the `related` key of JSON, SARIF's `relatedLocations`
and `codeFlows` (schema-validated), and the same after a run served from the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.example_app import copy_example
from tests.output.test_machine_formats import _sarif_schema

# accounts.py: `verify_otp` loads at 24, commits at 28, its `with` opens at 23, returns at 29;
# main.py reads its result (the call at row 6).
VERIFY_STORY = [
    ("accounts.py", 24, "instance obtained here"),
    ("accounts.py", 28, "expired by `session.commit()`"),
    ("accounts.py", 23, "session `session` closes at the end of this `with` block"),
    ("main.py", 6, "the result is read here, in `examples/otp_app/main.py`"),
]


def _run(tmp_path: Path, fmt: str, *extra: str) -> str:
    copy_example(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    env.pop("SQLSAFE_NO_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--output-format", fmt, *extra, "examples"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    return done.stdout


def _by_row(rows: list[dict[str, Any]], name: str, row: int) -> dict[str, Any]:
    (found,) = [r for r in rows if r["filename"].endswith(name) and r["location"]["row"] == row]
    return found


def _story(found: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [
        (Path(r["filename"]).name, r["location"]["row"], r["message"]) for r in found["related"]
    ]


def test_json_has_one_extra_key_with_the_story_in_order(tmp_path: Path) -> None:
    rows = json.loads(_run(tmp_path, "json", "--no-cache"))
    verify = _by_row(rows, "accounts.py", 29)
    assert verify["code"] == "DETACH002"
    assert _story(verify) == VERIFY_STORY
    assert verify["related"][0]["filename"] == str(
        tmp_path / "examples" / "otp_app" / "accounts.py"
    )
    caller = _by_row(rows, "main.py", 6)
    assert _story(caller) == [("accounts.py", 29, "`verify_otp()` returns the instance here")]
    ruff_keys = {"cell", "code", "end_location", "filename", "fix", "location", "message"}
    for row in rows:
        assert set(row) - ruff_keys <= {"name", "noqa_row", "severity", "url", "related"}
    lines = [json.loads(line) for line in _run(tmp_path, "json-lines", "--no-cache").splitlines()]
    assert lines == rows


def test_the_cache_keeps_the_story(tmp_path: Path) -> None:
    first = _run(tmp_path, "json")
    assert (tmp_path / ".sqlsafe_cache").is_dir()
    assert _run(tmp_path, "json") == first
    assert '"related"' in first


def test_full_shows_each_step_as_a_note_with_its_location(tmp_path: Path) -> None:
    text = _run(tmp_path, "full", "--no-cache")
    block = text.split("DETACH002 `verify_otp()` returns an ORM")[1].split("\n\n")[0]
    notes = block.split("\nnote: ", 1)[1].splitlines()[: len(VERIFY_STORY) * 2]
    notes[0] = "note: " + notes[0]
    expected = []
    for name, row, message in VERIFY_STORY:
        expected += [f"note: {message}", f"  --> examples/otp_app/{name}:{row}:"]
    assert [n[: len(e)] for n, e in zip(notes, expected, strict=True)] == expected
    concise = _run(tmp_path, "concise", "--no-cache")
    assert "note:" not in concise
    assert len(concise.splitlines()) == 9


def test_sarif_related_locations_and_code_flows_validate(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    log = json.loads(_run(tmp_path, "sarif", "--no-cache"))
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    results = log["runs"][0]["results"]
    (verify,) = [
        r
        for r in results
        if r["ruleId"] == "DETACH002"
        and r["locations"][0]["physicalLocation"]["region"]["startLine"] == 29
    ]
    related = verify["relatedLocations"]
    assert [(r["id"], r["message"]["text"]) for r in related] == [
        (number, text) for number, (_, _, text) in enumerate(VERIFY_STORY, 1)
    ]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [24, 28, 23, 6]
    assert related[3]["physicalLocation"]["artifactLocation"]["uri"].endswith("/main.py")
    steps = verify["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps] == [
        24,
        28,
        23,
        6,
        29,
    ]
