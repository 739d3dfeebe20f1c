"""The DETACH conversion across files, through the CLI: it is planned for the whole run,
callers in other modules are migrated with it, and anything that cannot be followed blocks
it (the diagnostic names the site)."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sqlsafe.runner import POOL_THRESHOLD
from tests.checks.detach_models import MODELS

ACCOUNTS = """
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

from app.models import Plain

engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)


def create(email):
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        plain = Plain(email=email)
        s.add(plain)
        s.commit()
        return plain
"""


@pytest.fixture(autouse=True, params=["few files", "many files"])
def run_size(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A run of a few files is planned before its checks; one of POOL_THRESHOLD files or more
    after them, from the candidates they told: both must decide alike."""
    if request.param == "many files":
        package = tmp_path / "app"
        package.mkdir()
        for number in range(POOL_THRESHOLD):
            (package / f"filler_{number}.py").write_text(f"VALUE = {number}\n")


def project(tmp_path: Path, caller: str) -> Path:
    package = tmp_path / "app"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(MODELS)
    (package / "accounts.py").write_text(ACCOUNTS)
    (package / "main.py").write_text(textwrap.dedent(caller))
    return package


def sqlsafe(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlsafe", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def diagnostics(tmp_path: Path, *paths: str) -> list[dict]:
    result = sqlsafe(tmp_path, "check", "--select", "DETACH002", "--output-format", "json", *paths)
    return json.loads(result.stdout)


def run_main(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.main"], cwd=tmp_path, capture_output=True, text=True
    )


def test_callers_in_another_module_are_migrated(tmp_path):
    project(
        tmp_path,
        """
        from app.accounts import create

        plain = create("a@x.io")
        print(plain.id, getattr(plain, "email"))
        """,
    )
    found = diagnostics(tmp_path, "app")
    assert [(d["filename"].rpartition("/")[2], d["code"]) for d in found] == [
        ("accounts.py", "DETACH002"),
        ("main.py", "DETACH002"),
    ]
    assert "DetachedInstanceError" in run_main(tmp_path).stderr
    sqlsafe(tmp_path, "fix", "--unsafe-fixes", "app")
    assert 'print(plain["id"], plain["email"])' in (tmp_path / "app" / "main.py").read_text()
    after = run_main(tmp_path)
    assert after.stdout == "1 a@x.io\n", after.stderr


def test_an_escaping_caller_blocks_the_conversion_and_gets_the_safe_fix(tmp_path):
    project(
        tmp_path,
        """
        from app.accounts import create

        def show(plain):
            print(plain.email)

        show(create("a@x.io"))
        """,
    )
    (callee,) = diagnostics(tmp_path, "app")
    assert 'app/main.py:7: `create("a@x.io")` is passed to `show()`' in callee["message"]
    assert callee["fix"]["applicability"] == "safe"
    sqlsafe(tmp_path, "fix", "app")
    assert (
        "        s.refresh(plain)\n        return plain\n"
        in (tmp_path / "app" / "accounts.py").read_text()
    )
    assert run_main(tmp_path).stdout == "a@x.io\n"


def test_a_fix_run_writes_each_file_once(tmp_path, monkeypatch):
    """A run that writes plans first: checked against a plan of its own file only, the callee
    would be converted and written, then taken back once the run's plan blocks it."""
    from sqlsafe import writer
    from sqlsafe.command import CheckCommand
    from sqlsafe.config import Resolver

    project(
        tmp_path,
        """
        from app.accounts import create

        def show(plain):
            print(plain.email)

        show(create("a@x.io"))
        """,
    )
    log = tmp_path / "writes.log"
    real = writer.replace

    def logged(path: Path, data: bytes, stamp: writer.Stamp | None) -> None:
        with log.open("a") as out:
            out.write(f"{path.name}\n")
        real(path, data, stamp)

    monkeypatch.setattr(writer, "replace", logged)
    monkeypatch.chdir(tmp_path)
    resolver = Resolver(cwd=tmp_path, cli={"fix": True, "unsafe-fixes": True})
    command = CheckCommand(
        resolver=resolver, base=resolver.for_path(tmp_path), paths=[tmp_path / "app"]
    )
    command.run()
    assert log.read_text() == "accounts.py\n"
    assert "s.refresh(plain)" in (tmp_path / "app" / "accounts.py").read_text()


def test_callers_outside_the_run_block_the_conversion(tmp_path):
    project(
        tmp_path,
        """
        from app.accounts import create

        print(create("a@x.io").email)
        """,
    )
    # A check of one file answers as the check of the whole tree: the caller in main.py
    # follows the result, so the function is converted.
    (callee,) = diagnostics(tmp_path, "app/accounts.py")
    assert [callee] == [
        d for d in diagnostics(tmp_path, ".") if d["filename"] == callee["filename"]
    ]
    assert callee["fix"] is not None
    # A fix of that file alone would leave main.py reading attributes of a dict: withheld.
    sqlsafe(tmp_path, "fix", "--unsafe-fixes", "app/accounts.py")
    assert "model_to_dict" not in (tmp_path / "app" / "accounts.py").read_text()
    assert run_main(tmp_path).stdout == "a@x.io\n"


def test_a_gitignored_copy_outside_the_run_does_not_block_the_conversion(tmp_path):
    """`pip install .` leaves a copy of the sources in build/ (gitignored): what it mentions
    is not a caller. Measured on this repository's own examples before the fix."""
    project(
        tmp_path,
        """
        from app.accounts import create

        plain = create("a@x.io")
        print(plain.id, getattr(plain, "email"))
        """,
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "build" / "lib").mkdir(parents=True)
    (tmp_path / "build" / "lib" / "copy.py").write_text("from app.accounts import create\n")
    # A mention in a docstring or a comment calls nothing: it does not block either.
    (tmp_path / "docs.py").write_text('"""Example: plain = create(email)"""\n# create()\n')
    (tmp_path / ".gitignore").write_text("build/\n")
    found = diagnostics(tmp_path, "app")
    assert [d["filename"].rpartition("/")[2] for d in found] == ["accounts.py", "main.py"]
    (tmp_path / ".gitignore").write_text("")
    # Now build/lib/copy.py is project code the run does not fix: it holds the conversion.
    sqlsafe(tmp_path, "fix", "--unsafe-fixes", "app")
    assert "model_to_dict" not in (tmp_path / "app" / "accounts.py").read_text()
    assert run_main(tmp_path).stdout == "1 a@x.io\n"


def test_a_suppressed_call_site_blocks_the_conversion(tmp_path):
    project(
        tmp_path,
        """
        from app.accounts import create

        plain = create("a@x.io")  # noqa: DETACH002
        print(plain.email)
        """,
    )
    (callee,) = diagnostics(tmp_path, "app")
    assert "suppressed with `# noqa`" in callee["message"]
