"""Python code run in fresh processes whose string hashes differ."""

from __future__ import annotations

import os
import subprocess
import sys


def outputs_under_hash_seeds(script: str, *args: str) -> set[str]:
    """What `python -c script ARGS` prints under three string-hash seeds: a set's order, and
    so whatever is made from it in that order, may differ from one to the next."""
    return {
        subprocess.run(
            [sys.executable, "-c", script, *args],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
