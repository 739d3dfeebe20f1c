"""A pool worker lives no longer than the run that started it.

A worker blocked on the pool's task queue does not notice its parent's death: the other
workers hold the queue open. Killed with SIGTERM or SIGKILL, a run would leave its workers
parsing (or waiting) for minutes. On Linux the kernel kills them with the parent
(`PR_SET_PDEATHSIG`); elsewhere a thread in each worker watches for the parent to go.
Ctrl-C is the parent's to handle: it stops the workers itself, at once.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 0.2


def bind_to_parent(parent: int) -> None:
    """Run first in each worker: it dies when process `parent` does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not (sys.platform.startswith("linux") and _death_signal()):
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the worker was bound to it
        os._exit(1)


def _death_signal() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        status: int = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        return status == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL)
    os._exit(1)
