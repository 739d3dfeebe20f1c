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

from sqlsafe.index.changes import Reach, unseen
from sqlsafe.index.modules import import_root
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


@dataclass(frozen=True)
class Basis:
    """What a merged index was made from: enough to tell, without merging again, that new
    summaries make the same index (`Summaries.keep`)."""

    paths: tuple[str, ...]
    digests: tuple[str, ...]
    """Of each file's pickled summary, in `indexing_order`."""
    session_factories: tuple[str, ...]
    reach: Reach


class Summaries:
    """Each indexed file's summary (in `indexing_order`), pickled as the cache keeps it (a
    pickled None for a file that cannot be read or parsed). The index is made of these and
    the configured session factories alone, so their bytes key it: an edit that leaves its
    file's summary as it was (most edits inside a function) leaves the index as it was."""

    def __init__(self, paths: list[Path], pickled: list[bytes], previous: dict[int, bytes]) -> None:
        from sqlsafe.cache import digest

        self.paths = tuple(map(str, paths))
        self.pickled = pickled
        self.previous = previous
        """The summary the cache held before for a file summarised again in this run."""
        self.digests = tuple(map(digest, pickled))

    def key(self) -> str:
        from sqlsafe.cache import digest

        return digest(*self.digests)

    def merged(self, session_factories: Sequence[str]) -> tuple[ProjectIndex, Basis]:
        enabled = gc.isenabled()
        gc.disable()  # see `merge`: the summaries stay alive until the index is made
        try:
            scopes = [pickle.loads(pickled) for pickled in self.pickled]
            basis = Basis(self.paths, self.digests, tuple(session_factories), Reach.of(scopes))
            return merge(scopes, session_factories), basis
        finally:
            if enabled:
                gc.enable()

    def keep(self, basis: Basis, session_factories: Sequence[str]) -> bool:
        """Whether the index `basis` was made from is this one too: each summary that
        changed since changed in nothing the index can see (`changes.unseen`), as when a
        file binds a new constant no other file uses."""
        from sqlsafe.cache import digest

        if (basis.paths, basis.session_factories) != (self.paths, tuple(session_factories)):
            return False
        for number, (now, then) in enumerate(zip(self.digests, basis.digests, strict=True)):
            if now == then:
                continue
            before = self.previous.get(number)
            if before is None or digest(before) != then:
                return False
            after = self.pickled[number]
            if not unseen(pickle.loads(before), pickle.loads(after), basis.reach):
                return False
        return True


def summaries(
    files: Sequence[IndexedFile], cache: RunCache | None, workers: int | None = None
) -> Summaries:
    enabled = gc.isenabled()
    gc.disable()  # without a pool, summarising here makes many short-lived nodes
    try:
        ordered = _ordered(files)
        previous: dict[int, bytes] = {}
        pickled = _summaries(ordered, cache, workers or os.cpu_count() or 1, previous)
        return Summaries([file.path for file in ordered], pickled, previous)
    finally:
        if enabled:
            gc.enable()


def _ordered(files: Sequence[IndexedFile]) -> list[IndexedFile]:
    by_path = {file.path: file for file in files}
    return [by_path[path] for path in indexing_order(by_path)]


def _summaries(
    files: list[IndexedFile], cache: RunCache | None, workers: int, previous: dict[int, bytes]
) -> list[bytes]:
    """Each file's pickled summary; the cache's earlier summary of a file summarised again
    goes to `previous`."""
    from sqlsafe.cache import build_id, digest

    summaries: list[bytes] = [b""] * len(files)
    keys: dict[int, str] = {}
    missing: list[int] = []
    for number, file in enumerate(files):
        if file.content is not None:
            root = import_root(file.path, file.name)
            keys[number] = digest("summary", build_id(), file.content, file.name, root)
        pickled = cache.summary(file.path, keys[number]) if cache and number in keys else None
        if pickled is None:
            missing.append(number)
            earlier = cache.any_summary(file.path) if cache is not None else None
            if earlier is not None:
                previous[number] = earlier
        else:
            summaries[number] = pickled

    def received(chunk: list[tuple[int, bytes]]) -> None:
        for number, pickled in chunk:
            summaries[number] = pickled
            if cache is not None and number in keys:
                cache.put_summary(files[number].path, keys[number], pickled)

    # A very large file's `ast` tree alone takes about 200 bytes per byte of source (1 GB
    # for a 5 MB file): it is parsed in a worker even when it is the only one, so that this
    # process, which goes on to check the file, never holds it.
    large = any(_size(files[number]) > LARGE for number in missing)
    if pool_pays(len(missing), workers) or (large and can_fork()):
        workers = min(workers, len(missing))
        in_pool(
            lambda number: _summary(files[number]),
            chunks_by_size(lambda number: _size(files[number]), missing, workers),
            workers,
            received,
        )
    else:
        received([(number, _summary(files[number])) for number in missing])
    return summaries


def _summary(file: IndexedFile) -> bytes:
    return dumped(summarize(file.path, file.name, file.source))


def _size(file: IndexedFile) -> int:
    if file.source is not None:
        return len(file.source)
    try:
        return file.path.stat().st_size
    except OSError:
        return 0
