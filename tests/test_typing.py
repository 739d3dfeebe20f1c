"""The package passes `mypy --strict` under the project's configuration (`[tool.mypy]`)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy comes with the test extras")

ROOT = Path(__file__).resolve().parents[1]

# The oldest Python supported (the configured target) and the one running the tests: between
# them they check both sides of a `sys.version_info` test, such as the `tomllib` import.
TARGETS = sorted({"3.10", f"{sys.version_info.major}.{sys.version_info.minor}"})


@pytest.mark.parametrize("python_version", TARGETS)
def test_package_passes_mypy_strict(python_version: str) -> None:
    # Run from the project root: mypy reads pyproject.toml there and keeps its cache in
    # .mypy_cache, so a run after a small change rechecks only what the change affects.
    done = subprocess.run(
        [sys.executable, "-m", "mypy", f"--python-version={python_version}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
