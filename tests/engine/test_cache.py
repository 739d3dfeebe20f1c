"""The run cache: it never changes what a run reports, and it is used exactly as far as its
inputs hold (a model edit rechecks the files that import it, and only those)."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sqlsafe import command as command_module
from sqlsafe import indexing as indexing_module
from sqlsafe.cache import CACHEDIR_TAG, GITIGNORE, RunCache
from sqlsafe.checks.plan import Planner
from sqlsafe.command import CheckCommand
from sqlsafe.config import Resolver
from sqlsafe.sealing import unseal
from tests.engine.libcst_free import check_without_libcst

ROOT = Path(__file__).resolve().parents[2]

MODELS = """\
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
"""
QUERIES = """\
from sqlmodel import Session, select, text

from app.models import Hero


def names(engine):
    with Session(engine) as session:
        rows = session.exec(text("select name from hero where id = :id"), {"id": 1})
        return [row[0] for row in rows]


def first(engine):
    with Session(engine) as session:
        return session.exec(select(Hero)).first()
"""
UNRELATED = """\
from sqlmodel import Session, text


def ping(engine):
    with Session(engine) as session:
        session.exec(text("select 1"), {})
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "app").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    (root / "app" / "queries.py").write_text(QUERIES)
    (root / "app" / "unrelated.py").write_text(UNRELATED)
    (root / "plain.py").write_text("print('nothing to see')\n")
    shutil.copytree(ROOT / "examples" / "otp_app", root / "otp_app")
    return root


@pytest.fixture
def unconverted(project: Path) -> Path:
    """The project without the example app, whose plan converts functions: every file may
    then hold a caller, and every file's text counts for the plan."""
    shutil.rmtree(project / "otp_app")
    age(project)
    return project


def sqlsafe(project: Path, *args: str, env: dict[str, str] | None = None) -> bytes:
    environment = {k: v for k, v in os.environ.items() if k != "SQLSAFE_NO_CACHE"}
    result = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--output-format", "json", *args],
        cwd=project,
        capture_output=True,
        env={**environment, **(env or {})},
    )
    assert result.returncode in (0, 1), result.stderr.decode()
    return result.stdout


def age(project: Path) -> None:
    """Backdate every file: the cache trusts a file's stat only once it is safely older than
    the moment it was read (see `RunCache.content`)."""
    past = time.time() - 60
    for path in project.rglob("*.py"):
        os.utime(path, (past, past))


def checked(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run in-process and tell which files were checked rather than taken from the cache."""
    seen: list[str] = []
    original = command_module.run_jobs

    def spy(run, jobs, *args):  # type: ignore[no-untyped-def]
        if run.only is None:  # not the planner's DETACH checks
            seen.extend(str(job.path.relative_to(project)) for job in jobs)
        return original(run, jobs, *args)

    monkeypatch.setattr(command_module, "run_jobs", spy)
    resolver = Resolver(cwd=project, config_file=None, isolated=False, overrides={}, cli={})
    CheckCommand(resolver=resolver, base=resolver.for_path(project), paths=[project]).run()
    return sorted(seen)


def calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[tuple[object, ...]]:
    """The arguments of each call of `owner.name` from now on."""
    seen: list[tuple[object, ...]] = []
    original = getattr(owner, name)

    def spy(*args: object) -> object:
        seen.append(args)
        return original(*args)

    monkeypatch.setattr(owner, name, spy)
    return seen


def test_output_is_byte_identical_cold_warm_and_without_cache(project: Path) -> None:
    age(project)
    uncached = sqlsafe(project, "--no-cache")
    assert not (project / ".sqlsafe_cache").exists()
    cold = sqlsafe(project)
    warm = sqlsafe(project)
    assert b'"code": "SQL001"' in cold and b'"code": "DETACH' in cold
    assert uncached == cold == warm
    assert sqlsafe(project, env={"SQLSAFE_NO_CACHE": "1"}) == warm


def test_cache_folder_is_tagged_and_ignored(project: Path) -> None:
    sqlsafe(project)
    cache = project / ".sqlsafe_cache"
    assert (cache / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG
    assert CACHEDIR_TAG.startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert (
        (cache / ".gitignore").read_text()
        == GITIGNORE
        == "# Automatically created by sqlsafe.\n*\n"
    )
    assert [p.name for p in cache.iterdir() if p.is_dir()]  # one folder for this build


def test_clean_removes_it(project: Path) -> None:
    sqlsafe(project)
    result = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "clean"], cwd=project, capture_output=True
    )
    assert result.returncode == 0
    assert not (project / ".sqlsafe_cache").exists()


def test_a_warm_run_imports_no_libcst(project: Path) -> None:
    age(project)
    sqlsafe(project)
    result = check_without_libcst(project, "--output-format", "json", code=1)
    assert result.returncode == 0, result.stderr
    assert '"code": "SQL001"' in result.stdout


def test_a_model_edit_rechecks_exactly_its_importers(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    age(project)
    assert len(checked(project, monkeypatch)) == len(list(project.rglob("*.py")))  # cold
    assert checked(project, monkeypatch) == []  # warm: nothing

    models = project / "app" / "models.py"
    models.write_text(MODELS.replace("    name: str\n", "    name: str\n    secret: str\n"))
    assert checked(project, monkeypatch) == ["app/models.py", "app/queries.py"]

    # A comment changes the file's bytes but no fact of the index: only the file itself.
    models.write_text(models.read_text() + "# a comment\n")
    assert checked(project, monkeypatch) == ["app/models.py"]


def test_an_edit_the_index_cannot_see_reuses_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merges = calls(monkeypatch, indexing_module, "merge")
    age(project)
    checked(project, monkeypatch)
    assert len(merges) == 1

    # Inside a function: the file's summary keeps none of it.
    unrelated = project / "app" / "unrelated.py"
    unrelated.write_text(
        UNRELATED.replace("    with Session", "    print('ping')\n    with Session")
    )
    assert checked(project, monkeypatch) == ["app/unrelated.py"]
    assert len(merges) == 1
    assert sqlsafe(project) == sqlsafe(project, "--no-cache")

    # A new constant no file mentions: its summary changed, in nothing the index sees.
    unrelated.write_text(unrelated.read_text() + "\nRETRIES = 3\n")
    assert checked(project, monkeypatch) == ["app/unrelated.py"]
    assert len(merges) == 1
    assert sqlsafe(project) == sqlsafe(project, "--no-cache")

    # A new function may make sessions: the index is merged again.
    unrelated.write_text(unrelated.read_text() + "\n\ndef helper():\n    return RETRIES\n")
    assert checked(project, monkeypatch) == ["app/unrelated.py"]
    assert len(merges) == 2

    # A constant another file imports is looked up there.
    queries = project / "app" / "queries.py"
    queries.write_text("from app.unrelated import LIMIT\n" + QUERIES)
    checked(project, monkeypatch)
    assert len(merges) == 3
    unrelated.write_text(unrelated.read_text() + "\nLIMIT = 10\n")
    checked(project, monkeypatch)
    assert len(merges) == 4
    assert sqlsafe(project) == sqlsafe(project, "--no-cache")


def test_an_edit_that_changes_no_index_name_reads_no_other_file_for_the_plan(
    unconverted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = unconverted
    read = calls(monkeypatch, command_module, "looks_into")
    checked(project, monkeypatch)
    assert len(read) == len(list(project.rglob("*.py")))
    read.clear()
    # A new import changes the index's fingerprint, not the names the planner looks for.
    unrelated = project / "app" / "unrelated.py"
    unrelated.write_text("import os\n" + UNRELATED)
    checked(project, monkeypatch)
    assert [text for text, *_ in read] == [unrelated.read_text()]


def test_an_edit_is_seen_at_once(project: Path) -> None:
    age(project)
    before = sqlsafe(project)
    queries = project / "app" / "unrelated.py"
    queries.write_text(UNRELATED.replace(", {})", ", params={})"))
    after = sqlsafe(project)
    assert after != before
    assert after == sqlsafe(project, "--no-cache")


def test_settings_and_fixes_are_part_of_the_key(project: Path) -> None:
    age(project)
    everything = sqlsafe(project)
    only_sql = sqlsafe(project, "--select", "SQL001")
    assert only_sql != everything and b"DETACH" not in only_sql
    assert sqlsafe(project) == everything

    subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--fix", "--select", "SQL001"],
        cwd=project,
        capture_output=True,
    )
    assert b"SQL001" not in sqlsafe(project)
    assert sqlsafe(project) == sqlsafe(project, "--no-cache")


def test_a_damaged_cache_is_a_miss(project: Path) -> None:
    clean = sqlsafe(project)
    for path in (project / ".sqlsafe_cache").rglob("*"):
        if path.is_file() and path.parent.name != ".sqlsafe_cache":
            path.write_bytes(b"not a pickle")
    assert sqlsafe(project) == clean


def test_a_file_is_not_read_again_while_its_stat_holds(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    old = time.time() - 60
    os.utime(path, (old, old))
    cache = RunCache(tmp_path / ".sqlsafe_cache", "scope")
    cache.record(path, path.stat(), "hash")
    assert cache.content(path, path.stat()) == "hash"

    path.write_text("x = 2\n")  # same size, new mtime
    assert cache.content(path, path.stat()) is None

    fresh = tmp_path / "fresh.py"
    fresh.write_text("y = 1\n")
    cache.record(fresh, fresh.stat(), "hash")
    assert cache.content(fresh, fresh.stat()) is None  # racily clean: read it again


def test_what_a_run_learnt_of_files_it_did_not_check_is_kept(tmp_path: Path) -> None:
    """A check of one file indexes and plans over the rest of its project: their content
    hashes and planner marks outlive the run, those of files no run asked about do not."""
    old = time.time() - 60
    paths = []
    for name in ("checked.py", "project.py", "gone.py"):
        path = tmp_path / name
        path.write_text("x = 1\n")
        os.utime(path, (old, old))
        paths.append(path)
    checked, project, gone = paths
    first = RunCache(tmp_path / "c", "scope")
    for path in paths:
        first.record(path, path.stat(), f"hash of {path.name}")
        first.put_mark("plan", path, "key", True)
    first.put(checked, "key", ([], []))
    first.save()
    second = RunCache(tmp_path / "c", "scope")
    assert second.content(project, project.stat()) == "hash of project.py"
    assert second.mark("plan", project, "key") is True
    second.put_slot("index", "k", b"")  # something to save
    second.save()
    third = RunCache(tmp_path / "c", "scope")
    assert third.content(checked, checked.stat()) == "hash of checked.py"
    assert third.content(project, project.stat()) == "hash of project.py"
    assert third.mark("plan", project, "key") is True
    # The second run never asked about `gone` (deleted, say): it was dropped.
    assert third.content(gone, gone.stat()) is None
    assert third.mark("plan", gone, "key") is None


def test_the_store_survives_a_round_trip(tmp_path: Path) -> None:
    cache = RunCache(tmp_path / "c", "scope")
    cache.put(tmp_path / "a.py", "key", ([], ["warning"]))
    cache.put_slot("index", "k", b"bytes")
    cache.save()
    again = RunCache(tmp_path / "c", "scope")
    assert again.get(tmp_path / "a.py", "key") == ([], ["warning"])
    assert again.get(tmp_path / "a.py", "other") is None
    assert again.slot("index", "k") == b"bytes"
    assert pickle.loads(unseal(again.path.read_bytes(), "cache")).files


def test_a_plan_made_after_the_checks_reports_what_a_plan_made_first_does(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DETACH plan of a run with enough files is made after the files are checked against
    the previous plan, from the candidates the checks told; the example app's plan converts
    functions, so the files that name them are checked again."""
    from sqlsafe.runner import POOL_THRESHOLD

    for number in range(POOL_THRESHOLD):
        (project / f"filler_{number}.py").write_text(f"VALUE_{number} = {number}\n")

    def diagnostics(use_cache: bool) -> list[tuple[object, ...]]:
        resolver = Resolver(cwd=project, config_file=None, isolated=False, overrides={}, cli={})
        command = CheckCommand(
            resolver=resolver, base=resolver.for_path(project), paths=[project], use_cache=use_cache
        )
        found = command.run().report.diagnostics
        return [(d.path, d.code, d.start, d.message, d.fix) for d in found]

    beside = diagnostics(use_cache=False)
    cold, warm = diagnostics(use_cache=True), diagnostics(use_cache=True)
    # Planned before the checks, as a run of a few files is.
    monkeypatch.setattr(command_module, "POOL_THRESHOLD", len(list(project.rglob("*.py"))) + 1)
    first = diagnostics(use_cache=False)
    assert any(code.startswith("DETACH") for _, code, *_ in first)
    assert beside == first == cold == warm


def test_the_plan_is_made_again_only_when_a_file_it_reads_changes(
    unconverted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = unconverted
    made = calls(monkeypatch, Planner, "from_facts")
    checked(project, monkeypatch)
    checked(project, monkeypatch)
    assert len(made) == 1

    # A file that owns no session: the planner never reads it.
    models = project / "app" / "models.py"
    models.write_text(models.read_text() + "# a comment\n")
    assert checked(project, monkeypatch) == ["app/models.py"]
    assert len(made) == 1

    # A new function returning an instance from a session it owns: a new DETACH candidate.
    unrelated = project / "app" / "unrelated.py"
    unrelated.write_text(
        UNRELATED + "\n\ndef hero(engine):\n"
        "    from app.models import Hero\n"
        "    with Session(engine) as session:\n"
        "        return session.get(Hero, 1)\n"
    )
    checked(project, monkeypatch)
    assert len(made) == 2
    assert sqlsafe(project) == sqlsafe(project, "--no-cache")
