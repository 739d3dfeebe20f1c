"""The example app (`examples/otp_app`) copied into a scratch project, for tests that run
sqlsafe over a real small project."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).parents[1]


def copy_example(root: Path) -> Path:
    """`root` as a project holding the app; it imports itself as `examples.otp_app`."""
    app = root / "examples" / "otp_app"
    if not app.exists():
        shutil.copytree(REPO / "examples" / "otp_app", app)
        (app.parent / "__init__.py").write_text("")
        (root / "pyproject.toml").write_text("")
    return root
