"""The cache folder may come from the checked repository (its config names it, or the
folder is committed): nothing found there runs code, and nothing else there is deleted."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sqlsafe.cache import RunCache, build_id, digest
from sqlsafe.sealing import KEY_DIR_ENV

ROOT = Path(__file__).resolve().parents[2]


class Planted:
    """What an attacker commits: unpickling it runs a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "otp_app", root / "otp_app")
    # The repository's own config chooses where the cache is.
    (root / "pyproject.toml").write_text('[tool.sqlsafe]\ncache-dir = "shipped-cache"\n')
    past = time.time() - 60
    for path in root.rglob("*.py"):
        os.utime(path, (past, past))
    return root


def sqlsafe(project: Path, key_dir: Path) -> subprocess.CompletedProcess[bytes]:
    environment = {k: v for k, v in os.environ.items() if k != "SQLSAFE_NO_CACHE"}
    return subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--output-format", "json"],
        cwd=project,
        capture_output=True,
        env={**environment, KEY_DIR_ENV: str(key_dir)},
    )


def cache_files(project: Path) -> list[Path]:
    folder = project / "shipped-cache"
    return [path for path in folder.rglob("*") if path.is_file() and path.parent != folder]


def test_a_planted_pickle_does_not_run_and_the_output_is_the_usual(
    project: Path, tmp_path: Path
) -> None:
    key_dir = tmp_path / "user-cache"
    clean = sqlsafe(project, key_dir)
    assert clean.returncode == 1 and b'"code": "DETACH' in clean.stdout
    files = cache_files(project)
    assert files
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Planted(marker))
    # As it would be found in a clone: a cache file of any build, in the place this one reads.
    shipped = project / "shipped-cache" / build_id() / digest("1", str(project))
    for target in {*files, shipped}:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
    planted = sqlsafe(project, key_dir)
    assert not marker.exists()
    assert (planted.returncode, planted.stdout) == (1, clean.stdout)


def test_a_cache_sealed_with_another_key_is_a_miss(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's (or another machine's) cache is as good as a planted one."""
    sqlsafe(project, tmp_path / "theirs")
    folder = project / "shipped-cache"
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "theirs"))
    assert RunCache(folder, str(project)).store.files  # their own key reads it
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "mine"))
    assert RunCache(folder, str(project)).store.files == {}


def test_the_key_is_private_and_one_readable_by_others_is_replaced(
    project: Path, tmp_path: Path
) -> None:
    key_dir = tmp_path / "user-cache"
    sqlsafe(project, key_dir)
    key = key_dir / "key"
    assert key.stat().st_mode & 0o777 == 0o600
    first = key.read_bytes()
    key.chmod(0o644)
    sqlsafe(project, key_dir)
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_bytes() != first


def test_only_build_folders_are_removed_from_the_cache_folder(
    project: Path, tmp_path: Path
) -> None:
    """A config may name any folder as the cache: an old folder of the user's stays."""
    keep = project / "shipped-cache" / "photos"
    stale = project / "shipped-cache" / ("0" * 32)
    for folder in (keep, stale):
        folder.mkdir(parents=True)
        (folder / "file").write_text("x")
        old = time.time() - 3 * 24 * 3600
        os.utime(folder, (old, old))
    sqlsafe(project, tmp_path / "user-cache")
    assert (keep / "file").exists()
    assert not stale.exists()


def test_without_a_home_folder_for_the_key_nothing_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_DIR_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def no_home(cls: type[Path]) -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", classmethod(no_home))
    cache = RunCache(tmp_path / "cache", "scope")
    cache.put(tmp_path / "a.py", "key", ([], []))
    cache.save()
    assert not (tmp_path / "cache").exists()
