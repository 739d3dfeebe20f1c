"""The incident, end to end: the example app fails with DetachedInstanceError, `sqlsafe fix
--unsafe-fixes` repairs it across modules, and it then prints what its author intended."""

import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INTENDED = [
    "sent a code to ada@example.com",
    "session token for user 1 <ada@example.com>",
    "found: ada@example.com",
    "verified: ['ada@example.com']",
]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_otp_app_is_repaired(tmp_path):
    shutil.copytree(EXAMPLES / "otp_app", tmp_path / "examples" / "otp_app")

    before = run(tmp_path, "-m", "examples.otp_app")
    assert before.returncode == 1
    assert "sqlalchemy.orm.exc.DetachedInstanceError" in before.stderr

    fixed = run(tmp_path, "-m", "sqlsafe", "fix", "--unsafe-fixes", "examples/otp_app")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "7 fixed, 0 remaining" in fixed.stdout + fixed.stderr
    main = (tmp_path / "examples" / "otp_app" / "main.py").read_text()
    assert "user['id']" in main

    after = run(tmp_path, "-m", "examples.otp_app")
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == INTENDED

    check = run(tmp_path, "-m", "sqlsafe", "check", "examples/otp_app")
    assert check.returncode == 0, check.stdout
