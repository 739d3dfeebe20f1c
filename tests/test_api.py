"""The library API runs the CLI's command: same findings as `sqlsafe check`, unsaved text judged
against the project on disk, and fixes as `sqlsafe fix` writes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqlsafe import api
from tests.example_app import REPO, copy_example


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def _cli_json(project: Path, *args: str) -> list[dict[str, object]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--output-format", "json", *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return json.loads(done.stdout)


def test_check_paths_reports_what_the_cli_reports(project: Path) -> None:
    found = api.check_paths(["examples"], cwd=project)
    cli = _cli_json(project, "examples")
    assert [(str(d.path), d.start.row, d.code) for d in found] == [
        (row["filename"], row["location"]["row"], row["code"])  # type: ignore[index]
        for row in cli
    ]
    assert any(d.related for d in found)


def test_check_text_judges_the_unsaved_text_against_the_project(project: Path) -> None:
    main = project / "examples" / "otp_app" / "main.py"
    on_disk = api.check_text("examples/otp_app/main.py", main.read_text(), cwd=project)
    assert {d.code for d in on_disk} == {"DETACH001", "DETACH002"}
    # The callers' findings come from accounts.py, which only the project index knows.
    assert all(d.related[0].path.name == "accounts.py" for d in on_disk)
    assert api.check_text("examples/otp_app/main.py", "print(1)\n", cwd=project) == []
    broken = api.check_text("examples/otp_app/main.py", "def f(:\n", cwd=project)
    assert [d.code for d in broken] == ["invalid-syntax"]


def test_fix_text_applies_safe_fixes_and_unsafe_ones_on_request(project: Path) -> None:
    accounts = project / "examples" / "otp_app" / "accounts.py"
    text = accounts.read_text()
    name = "examples/otp_app/accounts.py"
    safe = api.fix_text(name, text, cwd=project)
    assert '        print(f"sent a code to {user.email}")' in safe  # SCOPE001's move
    assert {d.code for d in api.check_text(name, safe, cwd=project)} == {"DETACH001", "DETACH003"}
    assert accounts.read_text() == text, "fix_text writes nothing"
    # An unsaved new file that nothing calls: its function is converted (an unsafe fix).
    new = "examples/otp_app/extra.py"
    source = text.split("def sign_up")[0] + (
        "def latest() -> User:\n"
        "    with Session(engine) as session:\n"
        "        return session.exec(select(User)).first()\n"
    )
    assert "model_to_dict" not in api.fix_text(new, source, cwd=project)
    assert "return model_to_dict(" in api.fix_text(new, source, unsafe=True, cwd=project)


def test_saved_index_checks_the_text_against_the_saved_project(project: Path) -> None:
    name = "examples/otp_app/accounts.py"
    saved = (project / name).read_text()
    first = api.check_text(name, saved, cwd=project, saved_index=True)
    assert "DETACH002" in {d.code for d in first}
    # The buffer is what is checked (not the saved file's cached findings)...
    assert api.check_text(name, "print(1)\n", cwd=project, saved_index=True) == []
    # ...while the plan is the saved project's: main.py is reported as a caller of the
    # `verify_otp()` that accounts.py defines on disk.
    main = "examples/otp_app/main.py"
    callers = api.check_text(main, (project / main).read_text(), cwd=project, saved_index=True)
    assert any("verify_otp()" in d.message for d in callers)
