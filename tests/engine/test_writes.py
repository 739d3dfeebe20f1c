"""Writing fixed files: a write that fails is an error and is not counted as a fix, an edit
made while the run went on is kept, and the file that is replaced keeps what is not its
content (a symlink stays a symlink, owner, group and mode stay)."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sqlsafe import engine
from sqlsafe.command import CheckCommand
from sqlsafe.config import Resolver

BUGGY = 'from sqlmodel import Session, text\n\n\ndef total(engine):\n    with Session(engine) as session:\n        return session.exec(text("select :x"), {"x": 1}).all()\n'
FIXED = BUGGY.replace('{"x": 1}', 'params={"x": 1}')
UNFIXED_REPORT = "Found 1 error.\n[*] 1 fixable with `--fix`."
FIXED_REPORT = "Found 1 error (1 fixed, 0 remaining)."


@dataclass
class Result:
    code: int
    stdout: str
    stderr: list[str]

    @property
    def summary(self) -> str:
        """The report's closing lines: what it claims was fixed."""
        return "\n".join(
            line for line in self.stdout.splitlines() if not line.startswith("app.py:")
        )


def fix(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """`sqlsafe fix` in `folder`, in this process (so that a test can break the disk)."""
    monkeypatch.chdir(folder)
    resolver = Resolver(cwd=folder, cli={"fix": True, "output-format": "concise"})
    command = CheckCommand(
        resolver=resolver, base=resolver.for_path(folder), paths=[folder], use_cache=False
    )
    outcome = command.run()
    return Result(outcome.exit_code(False, False), outcome.render(summary=True), outcome.stderr)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text(BUGGY)
    return root


def test_a_full_disk_is_an_error_and_nothing_is_counted_as_fixed(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    result = fix(project, monkeypatch)
    assert (result.code, result.summary) == (2, UNFIXED_REPORT)
    assert "error: Failed to write app.py: No space left on device" in result.stderr
    assert (project / "app.py").read_text() == BUGGY
    assert [p.name for p in project.iterdir()] == ["app.py"]  # no temporary file left


def test_a_read_only_folder_is_an_error_naming_the_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: the folder refuses as it would anyone else
        real = tempfile.mkstemp

        def refused(*args: object, **kwargs: object) -> tuple[int, str]:
            if Path(str(kwargs.get("dir"))) == project:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(tempfile, "mkstemp", refused)
    try:
        result = fix(project, monkeypatch)
    finally:
        project.chmod(0o755)
    assert (result.code, result.summary) == (2, UNFIXED_REPORT)
    assert "error: Failed to write app.py: Permission denied" in result.stderr
    assert (project / "app.py").read_text() == BUGGY


def test_a_file_without_write_permission_is_reported_and_left_alone(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = project / "app.py"
    target.chmod(0o444)
    if os.geteuid() == 0:  # root may write it anyway; `os.access` answers as for a user
        real = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode: real(p, mode) and Path(p) != target.resolve()
        )
    result = fix(project, monkeypatch)
    assert (result.code, result.summary) == (2, UNFIXED_REPORT)
    assert "error: Failed to write app.py: no permission to write it" in result.stderr
    assert target.read_text() == BUGGY
    assert stat.S_IMODE(target.stat().st_mode) == 0o444


def edit_during_the_fix(monkeypatch: pytest.MonkeyPatch, target: Path, edit) -> None:  # type: ignore[no-untyped-def]
    """Pause the run once the file is read and fixed in memory, and edit it then."""
    real = engine.fix_source

    def paused(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        edit(target)
        return result

    monkeypatch.setattr(engine, "fix_source", paused)


def test_an_edit_made_during_the_run_is_kept(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = project / "app.py"
    edited = BUGGY + "# the user's edit\n"
    edit_during_the_fix(monkeypatch, target, lambda path: path.write_text(edited))
    result = fix(project, monkeypatch)
    assert target.read_text() == edited
    assert "warning: Not writing app.py: it changed after sqlsafe read it" in result.stderr
    assert (result.code, result.summary) == (1, UNFIXED_REPORT)


def test_an_edit_keeping_size_and_mtime_is_seen_by_its_ctime(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = project / "app.py"
    edited = BUGGY.replace("total", "TOTAL")

    def same_size_same_mtime(path: Path) -> None:
        before = path.stat()
        path.write_text(edited)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))

    edit_during_the_fix(monkeypatch, target, same_size_same_mtime)
    result = fix(project, monkeypatch)
    assert target.read_text() == edited
    assert result.code == 1


def test_a_symlink_stays_a_link_and_its_target_is_fixed(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "elsewhere" / "real.py"
    real.parent.mkdir()
    (project / "app.py").replace(real)
    link = project / "app.py"
    link.symlink_to(real)
    result = fix(project, monkeypatch)
    assert (result.code, result.summary) == (0, FIXED_REPORT)
    assert link.is_symlink() and link.readlink() == real
    assert real.read_text() == FIXED


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_owner_group_and_mode_are_kept(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = project / "app.py"
    os.chown(target, 65534, 65534)
    target.chmod(0o640)
    result = fix(project, monkeypatch)
    assert (result.code, result.summary) == (0, FIXED_REPORT)
    info = target.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o640)
    assert target.read_text() == FIXED


def test_a_file_removed_during_the_run_stays_removed(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = project / "app.py"
    edit_during_the_fix(monkeypatch, target, Path.unlink)
    result = fix(project, monkeypatch)
    assert not target.exists()
    assert "warning: Not writing app.py: it was removed after sqlsafe read it" in result.stderr
    assert result.code == 1
