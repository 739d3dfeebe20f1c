"""Running the CLI in a fresh interpreter and telling whether it imported libcst (a run that
parses nothing must not pay for importing it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def check_without_libcst(cwd: Path, *args: str, code: int) -> subprocess.CompletedProcess[str]:
    """`sqlsafe check ARGS .` in `cwd`, which must exit with `code` and leave libcst unimported;
    the process fails (returncode 1, the reason on stderr) when either does not hold."""
    script = (
        "import sys\n"
        "from sqlsafe.cli import main\n"
        f"sys.argv = ['sqlsafe', 'check', *{list(args)!r}, '.']\n"
        f"try:\n    main()\nexcept SystemExit as done:\n    assert done.code == {code}, done.code\n"
        "assert 'libcst' not in sys.modules, 'libcst was imported'\n"
    )
    return subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True)
