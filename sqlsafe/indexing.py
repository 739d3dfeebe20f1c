"""The project index of a run: one summary per file (from the cache, or made in the run's
fork pool when enough files need one), merged in this process.

A summary depends only on its file's bytes, its module name and its import root, so it is
cached under exactly those (and sqlsafe's build): an edit re-summarises the edited file
alone. Workers send summaries back pickled, as the cache keeps them; this process unpickles
each once, to merge. No worker's parse tree outlives its file, and this process never holds
more than one tree at a time (none at all when the pool makes them).
"""

from __future__ import annotations

import gc
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlsafe.index.modules import ModuleScope, import_root
from sqlsafe.index.pickled import dumped
from sqlsafe.index.project import ProjectIndex, indexing_order, merge, summarize
from sqlsafe.runner import can_fork, chunks_by_size, in_pool, pool_pays
from sqlsafe.segments import LARGE

if TYPE_CHECKING:
    from sqlsafe.cache import RunCache


@dataclass(frozen=True)
class IndexedFile:
    path: Path
    name: str
    """Its module name."""
    content: str | None
    """A hash of its bytes (None when it could not be read)."""
    source: bytes | str | None
    """Its bytes or text when read already (read when summarised otherwise)."""


def project_index(
    files: Sequence[IndexedFile],
    session_factories: Sequence[str],
    cache: RunCache | None,
    workers: int | None = None,
) -> ProjectIndex:
    enabled = gc.isenabled()
    gc.disable()  # see `merge`: the summaries stay alive until the index is made
    try:
        ordered = _ordered(files)
        summaries = _summaries(ordered, cache, workers or os.cpu_count() or 1)
        return merge(summaries, session_factories)
    finally:
        if enabled:
            gc.enable()


def _ordered(files: Sequence[IndexedFile]) -> list[IndexedFile]:
    by_path = {file.path: file for file in files}
    return [by_path[path] for path in indexing_order(by_path)]


def _summaries(
    files: list[IndexedFile], cache: RunCache | None, workers: int
) -> list[ModuleScope | None]:
    from sqlsafe.cache import build_id, digest

    summaries: list[ModuleScope | None] = [None] * len(files)
    keys: dict[int, str] = {}
    missing: list[int] = []
    for number, file in enumerate(files):
        if file.content is not None:
            root = import_root(file.path, file.name)
            keys[number] = digest("summary", build_id(), file.content, file.name, root)
        pickled = cache.summary(file.path, keys[number]) if cache and number in keys else None
        if pickled is None:
            missing.append(number)
        else:
            summaries[number] = pickle.loads(pickled)

    def keep(number: int, summary: ModuleScope | None, pickled: bytes | None) -> None:
        """Keep a new summary, and cache it as it is made (pickled here, before `merge`
        points its imports at the project's modules, when no worker pickled it)."""
        summaries[number] = summary
        if cache is not None and number in keys:
            cache.put_summary(files[number].path, keys[number], pickled or dumped(summary))

    def received(chunk: list[tuple[int, bytes]]) -> None:
        for number, pickled in chunk:
            keep(number, pickle.loads(pickled), pickled)

    # A very large file's `ast` tree alone takes about 200 bytes per byte of source (1 GB
    # for a 5 MB file): it is parsed in a worker even when it is the only one, so that this
    # process, which goes on to check the file, never holds it.
    large = any(_size(files[number]) > LARGE for number in missing)
    if pool_pays(len(missing), workers) or (large and can_fork()):
        workers = min(workers, len(missing))
        in_pool(
            lambda number: dumped(_summary(files[number])),
            chunks_by_size(lambda number: _size(files[number]), missing, workers),
            workers,
            received,
        )
    else:
        for number in missing:
            keep(number, _summary(files[number]), None)
    return summaries


def _summary(file: IndexedFile) -> ModuleScope | None:
    return summarize(file.path, file.name, file.source)


def _size(file: IndexedFile) -> int:
    if file.source is not None:
        return len(file.source)
    try:
        return file.path.stat().st_size
    except OSError:
        return 0
