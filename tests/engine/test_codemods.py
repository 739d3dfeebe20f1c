import subprocess
import sys

from sqlsafe.checks.registry import CODES
from sqlsafe.codemods import rules

BUGGY = 'from sqlmodel import Session, text\n\ndef f(engine):\n    with Session(engine) as s:\n        return s.exec(text("select :x"), {"x": 1}).all()\n'


def test_every_rule_has_a_codemod():
    assert all(issubclass(getattr(rules, code), rules.RuleCodemod) for code in CODES)


def test_libcst_runner_applies_the_same_fix(tmp_path):
    target = tmp_path / "a.py"
    target.write_text(BUGGY)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "libcst.tool",
            "codemod",
            "--no-format",
            "-x",
            "sqlsafe.codemods.rules.SQL001",
            "a.py",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    assert target.read_text() == BUGGY.replace('{"x": 1}', 'params={"x": 1}')
