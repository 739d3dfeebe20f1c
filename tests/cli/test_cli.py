"""The command line as a user meets it: real processes, real files, exit codes and streams."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BUGGY = 'from sqlmodel import Session, text\n\n\ndef total(engine):\n    with Session(engine) as session:\n        return session.exec(text("select :x"), {"x": 1}).all()\n'
FIXED = BUGGY.replace('{"x": 1}', 'params={"x": 1}')


def sqlsafe(*args: str, cwd: Path, stdin: bytes | None = None, env: dict | None = None):
    result = subprocess.run(
        [sys.executable, "-m", "sqlsafe", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, "SQLSAFE_NO_CACHE": "1", **(env or {})},
    )
    assert b"Traceback" not in result.stderr, result.stderr.decode()
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(BUGGY)
    return tmp_path


def test_check_concise_reports_sql001(project):
    result = sqlsafe("check", "--output-format", "concise", cwd=project)
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert lines[0].startswith("app.py:6:48: SQL001 [*] ")
    assert lines[1:] == ["Found 1 error.", "[*] 1 fixable with `--fix`."]


def test_diff_then_fix_then_clean(project):
    diff = sqlsafe("fix", "--diff", cwd=project)
    assert diff.returncode == 1
    out = diff.stdout.decode()
    assert "--- app.py\n+++ app.py\n" in out
    assert '+        return session.exec(text("select :x"), params={"x": 1}).all()' in out
    assert out.endswith("Would fix 1 error.\n")
    assert (project / "app.py").read_text() == BUGGY

    fixed = sqlsafe("fix", cwd=project)
    assert fixed.returncode == 0, fixed.stdout
    assert fixed.stdout.decode() == "Found 1 error (1 fixed, 0 remaining).\n"
    assert (project / "app.py").read_text() == FIXED

    again = sqlsafe("check", cwd=project)
    assert again.returncode == 0
    assert again.stdout.decode() == "All checks passed!\n"
    assert sqlsafe("fix", cwd=project).stdout.decode() == "All checks passed!\n"
    assert (project / "app.py").read_text() == FIXED


@pytest.mark.parametrize(
    ("encoding", "prefix", "newline"),
    [("utf-8", b"\xef\xbb\xbf", "\r\n"), ("latin-1", b"", "\n")],
    ids=["crlf-bom", "latin-1-cookie"],
)
def test_fix_keeps_every_other_byte(tmp_path, encoding, prefix, newline):
    cookie = "# -*- coding: latin-1 -*-\n" if encoding == "latin-1" else ""
    text = (cookie + "# caf\xe9\n" + BUGGY).replace("\n", newline)
    original = prefix + text.encode(encoding)
    target = tmp_path / "legacy.py"
    target.write_bytes(original)
    os.chmod(target, 0o741)
    assert sqlsafe("check", cwd=tmp_path).returncode == 1
    assert sqlsafe("fix", cwd=tmp_path).returncode == 0
    expected = original.replace(b'{"x": 1}', b'params={"x": 1}')
    assert target.read_bytes() == expected
    assert (target.stat().st_mode & 0o777) == 0o741
    assert sqlsafe("check", cwd=tmp_path).returncode == 0


def test_noqa_select_and_ignore(project):
    assert sqlsafe("check", "--select", "ROW", cwd=project).returncode == 0
    assert sqlsafe("check", "--ignore", "SQL", cwd=project).returncode == 0
    (project / "app.py").write_text(BUGGY.replace(".all()\n", ".all()  # noqa: SQL001\n"))
    result = sqlsafe("check", cwd=project)
    assert result.returncode == 0, result.stdout


def test_unknown_config_key_exits_2_naming_key_and_file(project):
    (project / "pyproject.toml").write_text("[tool.sqlsafe.lint]\nbogus-key = 5\n")
    result = sqlsafe("check", cwd=project)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.startswith("sqlsafe failed\n  Cause: Failed to parse ")
    assert "pyproject.toml" in err and "unknown field `lint.bogus-key`" in err


def test_unknown_selector_exits_2(project):
    result = sqlsafe("check", "--select", "NOPE1", cwd=project)
    assert result.returncode == 2
    assert "Unknown rule selector `NOPE1` in `select` from the CLI" in result.stderr.decode()


def test_syntax_error_beside_does_not_stop_the_run(project):
    (project / "broken.py").write_text("def broken(:\n")
    result = sqlsafe("check", "--output-format", "concise", cwd=project)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "app.py:6:48: SQL001" in out
    assert "broken.py:1:" in out and "invalid-syntax" in out


def test_undecodable_and_missing_paths_are_diagnostics(project):
    (project / "bad.py").write_bytes(b"from sqlmodel import Session\nx = '\xff'\n")
    result = sqlsafe("check", ".", "nope.py", "--output-format", "concise", cwd=project)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "nope.py:1:1: E902" in out and "No such file or directory" in out
    assert "bad.py:1:1: E902" in out and "not valid utf-8" in out
    assert "app.py:6:48: SQL001" in out


def test_json_output_has_ruffs_shape(project):
    result = sqlsafe("check", "--output-format", "json", cwd=project)
    data = json.loads(result.stdout)
    assert not result.stdout.endswith(b"\n")
    (item,) = data
    assert sorted(item) == [
        "cell",
        "code",
        "end_location",
        "filename",
        "fix",
        "location",
        "message",
        "name",
        "noqa_row",
        "severity",
        "url",
    ]
    assert item["location"] == {"column": 48, "row": 6}
    assert item["end_location"] == {"column": 56, "row": 6}
    assert item["filename"] == str(project / "app.py")
    assert item["fix"]["applicability"] == "safe"
    assert item["fix"]["edits"] == [
        {
            "content": "params=",
            "end_location": {"column": 48, "row": 6},
            "location": {"column": 48, "row": 6},
        }
    ]


def test_output_format_from_environment(project):
    result = sqlsafe("check", cwd=project, env={"SQLSAFE_OUTPUT_FORMAT": "pylint"})
    assert result.stdout.decode().startswith("app.py:6: [SQL001] ")


def test_output_file(project):
    result = sqlsafe("check", "--output-format", "concise", "-o", "report.txt", cwd=project)
    assert result.returncode == 1 and result.stdout == b""
    assert (project / "report.txt").read_text().startswith("app.py:6:48: SQL001")


def test_quiet_and_silent(project):
    quiet = sqlsafe("check", "-q", "--output-format", "concise", cwd=project)
    assert quiet.stdout.decode().count("\n") == 1 and quiet.returncode == 1
    silent = sqlsafe("check", "-s", cwd=project)
    assert silent.stdout == b"" and silent.returncode == 1


def test_exit_code_flags(project):
    assert sqlsafe("check", "--exit-zero", cwd=project).returncode == 0
    conflict = sqlsafe("check", "--exit-zero", "--exit-non-zero-on-fix", cwd=project)
    assert conflict.returncode == 2
    assert sqlsafe("fix", "--exit-non-zero-on-fix", cwd=project).returncode == 1
    assert sqlsafe("fix", "--exit-non-zero-on-fix", cwd=project).returncode == 0


def test_fix_only_reports_count(project):
    result = sqlsafe("check", "--fix-only", cwd=project)
    assert result.returncode == 0
    assert result.stdout.decode() == "Fixed 1 error.\n"


def test_stdin_check_and_fix(tmp_path):
    checked = sqlsafe(
        "check",
        "--stdin-filename",
        "x.py",
        "--output-format",
        "concise",
        "-",
        cwd=tmp_path,
        stdin=BUGGY.encode(),
    )
    assert checked.returncode == 1
    assert checked.stdout.decode().startswith("x.py:6:48: SQL001")
    fixed = sqlsafe(
        "check", "--fix", "--stdin-filename", "x.py", "-", cwd=tmp_path, stdin=BUGGY.encode()
    )
    assert fixed.stdout.decode() == FIXED
    assert "Found 1 error (1 fixed, 0 remaining)." in fixed.stderr.decode()
    assert fixed.returncode == 0


def test_add_noqa_keeps_other_tools_codes(project):
    (project / "app.py").write_text(BUGGY.replace(".all()\n", ".all()  # noqa: E501\n"))
    result = sqlsafe("check", "--add-noqa", cwd=project)
    assert result.returncode == 0
    assert result.stderr.decode().strip() == "Added 1 noqa directive."
    assert ".all()  # noqa: E501, SQL001\n" in (project / "app.py").read_text()
    assert sqlsafe("check", cwd=project).returncode == 0


def test_no_python_files(tmp_path):
    result = sqlsafe("check", cwd=tmp_path)
    assert result.returncode == 0
    assert "warning: No Python files found under the given path(s)" in result.stderr.decode()


def test_excludes_and_force_exclude(project):
    (project / ".venv").mkdir()
    shutil.copy(project / "app.py", project / ".venv" / "lib.py")
    (project / "pyproject.toml").write_text('[tool.sqlsafe]\nextend-exclude = ["generated_*.py"]\n')
    shutil.copy(project / "app.py", project / "generated_models.py")
    files = sqlsafe("check", "--show-files", cwd=project).stdout.decode().splitlines()
    assert files == [str(project / "app.py")]
    named = sqlsafe("check", "generated_models.py", cwd=project)
    assert named.returncode == 1
    forced = sqlsafe("check", "--force-exclude", "generated_models.py", cwd=project)
    assert forced.returncode == 0


def test_gitignore_respected_inside_a_repository(project):
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("ignored/\n")
    (project / "ignored").mkdir()
    shutil.copy(project / "app.py", project / "ignored" / "x.py")
    files = sqlsafe("check", "--show-files", cwd=project).stdout.decode().splitlines()
    assert files == [str(project / "app.py")]
    unignored = sqlsafe("check", "--show-files", "--no-respect-gitignore", cwd=project)
    assert len(unignored.stdout.decode().splitlines()) == 2


def test_named_folder_is_checked_like_ruff_does(project):
    """Ruff walks a folder it is given even when .gitignore or an exclude covers the folder
    itself; a pattern for its contents (`globbed/**`) still applies, and `--force-exclude`
    drops a folder its excludes cover (measured with ruff 0.17.5)."""
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    (project / ".gitignore").write_text("ignored/\nglobbed/**\n")
    (project / "pyproject.toml").write_text('[tool.sqlsafe]\nextend-exclude = ["generated"]\n')
    for folder in ("ignored", "ignored/deep", "globbed", "generated"):
        (project / folder).mkdir()
        shutil.copy(project / "app.py", project / folder / "x.py")

    def shown(*args: str) -> list[str]:
        out = sqlsafe("check", "--show-files", *args, cwd=project).stdout.decode()
        return [str(Path(line).relative_to(project)) for line in out.splitlines()]

    assert shown() == ["app.py"]
    assert shown("ignored") == ["ignored/deep/x.py", "ignored/x.py"]
    assert shown("globbed") == []
    assert shown("generated") == ["generated/x.py"]
    assert shown("--force-exclude", "generated", "ignored") == [
        "ignored/deep/x.py",
        "ignored/x.py",
    ]
    assert shown("--force-exclude", "ignored/x.py") == []


def test_config_override_and_isolated(project):
    (project / "sqlsafe.toml").write_text('[lint]\nignore = ["SQL001"]\n')
    assert sqlsafe("check", cwd=project).returncode == 0
    assert sqlsafe("check", "--isolated", cwd=project).returncode == 1
    assert sqlsafe("check", "--config", "lint.ignore = []", cwd=project).returncode == 1
    bad = sqlsafe("check", "--config", "not toml [", cwd=project)
    assert bad.returncode == 2


def test_rule_command(project):
    text = sqlsafe("rule", "SQL001", cwd=project)
    assert text.returncode == 0
    out = text.stdout.decode()
    assert out.startswith(
        "# exec-positional-params (SQL001)\n\nDerived from the **sqlsafe** linter.\n"
    )
    for section in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "Use instead:",
        "## Fix safety",
    ):
        assert section in out
    assert sqlsafe("rule", "exec-positional-params", cwd=project).stdout == text.stdout
    data = json.loads(sqlsafe("rule", "--all", "--output-format", "json", cwd=project).stdout)
    assert any(rule["code"] == "SQL001" for rule in data)
    assert sqlsafe("rule", "NOPE1", cwd=project).returncode == 2


def test_version(project):
    result = sqlsafe("--version", cwd=project)
    assert result.stdout.decode().startswith("sqlsafe ")


def test_statistics(project):
    result = sqlsafe("check", "--statistics", cwd=project)
    assert result.returncode == 1
    assert result.stdout.decode().startswith("1\tSQL001\t[*] exec-positional-params\n")


def test_ruff_keeps_sqlsafe_codes_with_external(tmp_path):
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it is a test dependency)")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ruff.lint]\nselect = ["F", "RUF100"]\nexternal = ["SQL"]\n'
    )
    code = "import os  # noqa: F401, E501, SQL001\n"
    (tmp_path / "m.py").write_text(code)
    subprocess.run(
        [ruff, "check", "--fix", "--no-cache", "m.py"], cwd=tmp_path, capture_output=True
    )
    assert (tmp_path / "m.py").read_text() == "import os  # noqa: F401, SQL001\n"
    # Without `external`, Ruff's RUF100 rewrite would drop the unknown code.
    (tmp_path / "pyproject.toml").write_text('[tool.ruff.lint]\nselect = ["F", "RUF100"]\n')
    (tmp_path / "m.py").write_text(code)
    subprocess.run(
        [ruff, "check", "--fix", "--no-cache", "m.py"], cwd=tmp_path, capture_output=True
    )
    assert "SQL001" not in (tmp_path / "m.py").read_text()


def test_helpers_export_writes_an_importable_package(tmp_path):
    result = sqlsafe("helpers", "export", "app/utils/db_helpers", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    package = tmp_path / "app" / "utils" / "db_helpers"
    assert (package / "__init__.py").is_file() and (package / "asyncio.py").is_file()
    for module in package.glob("*.py"):
        assert not re.search(r"^\s*(from|import) sqlsafe\b", module.read_text(), re.MULTILINE)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from app.utils.db_helpers import query_one, model_to_dict; from app.utils.db_helpers.asyncio import query_one",
        ],
        cwd=tmp_path,
        capture_output=True,
    )
    assert probe.returncode == 0, probe.stderr
    assert sqlsafe("helpers", "export", "x.py", cwd=tmp_path).returncode == 2
