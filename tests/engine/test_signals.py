"""A pooled run and signals: its workers die with it, and Ctrl-C stops it at once.

The workers are held in their first file (a patch the forked workers inherit), so the test
knows they are busy when the signal comes, without timing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlsafe.runner import POOL_THRESHOLD

BUGGY = 'from sqlmodel import Session, text\n\n\ndef total(engine):\n    with Session(engine) as session:\n        return session.exec(text("select :x"), {"x": 1}).all()\n'
# Every file's check waits for a minute, in the workers that run it.
HELD = """
import sys, time
from sqlsafe import runner
def held(self, job):
    time.sleep(60)
runner.Run.process = held
from sqlsafe.cli import main
sys.argv = ["sqlsafe", *sys.argv[1:]]
main()
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for number in range(POOL_THRESHOLD + 2):
        (tmp_path / f"module_{number}.py").write_text(BUGGY)
    return tmp_path


@pytest.fixture
def started(project: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The runs a test starts; whatever of them still runs at its end (a worker that outlived
    its parent included) is killed: each run has its own process group."""
    runs: list[subprocess.Popen[bytes]] = []
    yield runs
    for run in runs:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait()


def start(
    project: Path, runs: list[subprocess.Popen[bytes]], *args: str, prelude: str = ""
) -> subprocess.Popen[bytes]:
    run = subprocess.Popen(
        [sys.executable, "-c", prelude + HELD, *args, "--jobs", "2"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "SQLSAFE_NO_CACHE": "1"},
        start_new_session=True,  # its own group: the test can clean up after a failure
    )
    runs.append(run)
    return run


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def workers_of(run: subprocess.Popen[bytes], count: int = 2) -> set[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = children(run.pid)
        if len(found) >= count:
            return found
        assert run.poll() is None, run.stderr.read() if run.stderr else ""
        time.sleep(0.05)
    raise AssertionError("the pool never started")


def gone(pids: set[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


# Where the kernel cannot kill them with the parent, a thread in each worker watches for it.
WATCHED = "from sqlsafe import lifetime\nlifetime._death_signal = lambda: False\n"


@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
@pytest.mark.parametrize("prelude", ["", WATCHED], ids=["kernel", "watched"])
def test_workers_die_with_their_parent(  # type: ignore[no-untyped-def]
    project: Path, started, kill: signal.Signals, prelude: str
) -> None:
    run = start(project, started, "check", prelude=prelude)
    workers = workers_of(run)
    os.kill(run.pid, kill)
    run.wait(timeout=10)
    assert gone(workers, within=5), "workers outlived their parent"


def test_ctrl_c_stops_a_pooled_fix_at_once_and_writes_nothing(project: Path, started) -> None:  # type: ignore[no-untyped-def]
    run = start(project, started, "fix")
    workers = workers_of(run)
    os.kill(run.pid, signal.SIGINT)
    run.wait(timeout=10)
    assert run.returncode == 130
    assert run.stderr is not None
    assert run.stderr.read().decode() == "Interrupted: no file was written.\n"
    assert gone(workers, within=5)
    assert all(path.read_text() == BUGGY for path in project.glob("*.py"))
