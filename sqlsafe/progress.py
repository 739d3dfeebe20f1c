"""A progress bar on stderr for long runs, and nothing at all for short ones.

The bar appears only when stderr is a terminal and the run has already taken a while, so
pre-commit hooks, pipes and CI logs never see it and a quick run never pays for importing
rich. It is drawn from the main thread only (no refresh thread), because the run forks its
workers while it is shown.
"""

from __future__ import annotations

import sys
import time
from typing import Any

# A run that ends sooner never shows a bar (nor imports rich).
DELAY = 1.0
_REFRESH = 0.1


class ProgressBar:
    """Counts checked files; callable with the number just finished."""

    def __init__(self, total: int, started: float | None = None) -> None:
        self.total = total
        self.done = 0
        self.started = time.monotonic() if started is None else started
        self._shown: Any = None
        self._task: Any = None
        self._drawn = 0.0

    def __call__(self, finished: int) -> None:
        self.done += finished
        now = time.monotonic()
        if self._shown is None:
            if now - self.started < DELAY or self.done >= self.total:
                return
            self._show()
        if now - self._drawn >= _REFRESH or self.done >= self.total:
            self._shown.update(self._task, completed=self.done)
            self._shown.refresh()
            self._drawn = now

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._shown = Progress(
            "Checking",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            auto_refresh=False,
            transient=True,
        )
        self._task = self._shown.add_task("check", total=self.total, completed=self.done)
        self._shown.start()

    def close(self) -> None:
        if self._shown is not None:
            self._shown.stop()
            self._shown = None


def progress_bar(total: int, enabled: bool, started: float | None = None) -> ProgressBar | None:
    """A bar for `total` files, or None when it could never be shown."""
    if not enabled or total == 0 or not sys.stderr.isatty():
        return None
    return ProgressBar(total, started)
