"""The journal of a fix run's writes: a multi-file fix lands whole, or the next run knows.

A DETACH fix converts a function in one file and migrates its callers in others: a run
stopped after the first file (killed, Ctrl-C, a full disk) leaves callers that use the
dict as the object it replaced, and nothing a later check looks for shows it. So before
the first of several files is replaced, every planned write (each file's digest before and
after, and the new bytes) is written to the cache folder; the journal is removed once every
write is done. A journal still there means an unfinished run: a check reports it, and
`sqlsafe fix` completes it first, writing each file that is still as that run read it.

The journal is sealed like the cache: one planted in a repository's cache folder is
ignored, never obeyed.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlsafe.cache import digest, prepare
from sqlsafe.sealing import seal, unseal
from sqlsafe.writer import Planned, Stamp, Writes, write_all

SEAL_PURPOSE = "journal"
COMPLETE_COMMAND = "sqlsafe fix"


@dataclass(frozen=True)
class Entry:
    path: Path
    before: str
    after: str
    data: bytes


class Journal:
    """The journal of one project's fix runs (`scope`), in its cache folder."""

    def __init__(self, directory: Path, scope: str) -> None:
        self.directory = directory
        self.path = directory / f"journal-{digest(scope)}.json"

    def begin(self, planned: list[Planned]) -> bool:
        """Journal `planned`; False when it cannot be (no key to seal it, read-only folder)."""
        files = [
            {
                "path": str(item.path),
                "before": item.before,
                "after": digest(item.data),
                "data": base64.b64encode(item.data).decode("ascii"),
            }
            for item in planned
        ]
        sealed = seal(json.dumps({"files": files}).encode("utf-8"), SEAL_PURPOSE)
        if sealed is None:
            return False
        try:
            prepare(self.directory)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".journal-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(sealed)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return False
        return True

    def end(self) -> None:
        try:
            self.path.unlink(missing_ok=True)
        except OSError:
            return  # the next run finds nothing pending in it and removes it then

    def entries(self) -> list[Entry]:
        """The journaled writes; none when there is no journal this user's sqlsafe wrote."""
        try:
            payload = unseal(self.path.read_bytes(), SEAL_PURPOSE)
        except OSError:
            return []
        if payload is None:
            return []
        try:
            return [
                Entry(
                    Path(item["path"]),
                    item["before"],
                    item["after"],
                    base64.b64decode(item["data"]),
                )
                for item in json.loads(payload)["files"]
            ]
        except (ValueError, KeyError, TypeError):
            return []

    def pending(self) -> list[Entry]:
        """The journaled writes not done yet whose file is still as the run read it; a
        journal with none left is removed."""
        entries = self.entries()
        pending = [entry for entry in entries if _state(entry)[0] == entry.before]
        if entries and not pending:
            self.end()
        return pending

    def complete(self, display: Callable[[Path], str]) -> Writes:
        """Do the journaled writes still to do: a file that is neither as the run read it
        nor as it would have written it was edited since, and is left alone. `display`
        names a file in messages (this run's working folder may not be that run's)."""
        entries = self.entries()
        if not entries:
            return Writes()  # none, or not this user's to obey (nor to delete)
        planned: list[Planned] = []
        changed: list[tuple[Planned, str]] = []
        for entry in entries:
            current, stamp = _state(entry)
            if current == entry.after:
                continue
            item = Planned(entry.path, display(entry.path), entry.data, stamp, entry.before)
            if current == entry.before:
                planned.append(item)
            else:
                changed.append((item, "it changed after the interrupted run"))
        writes = write_all(planned)
        writes.changed[:0] = changed
        if not writes.unfinished:
            self.end()
        return writes


def _state(entry: Entry) -> tuple[str | None, Stamp | None]:
    """A digest of the file's bytes now (None: unreadable), and its stamp before the read."""
    try:
        stamp = Stamp.of(os.stat(entry.path))
        return digest(entry.path.read_bytes()), stamp
    except OSError:
        return None, None
