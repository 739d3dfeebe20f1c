"""Replacing files with their fixed bytes, without losing anyone's work.

Files are read when a run starts and written when it ends, which can be minutes later: a
file whose size, mtime or ctime differ from what they were just before it was read has been
edited meanwhile and is left alone. A symlink is followed (the file it points to is fixed,
the link stays a link); the new file keeps the old one's owner, group and permission bits; a
file the user may not write is reported and left alone, as Ruff and black do (the rename
that replaces a file needs only the folder to be writable, so this is asked first).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Stamp:
    """What a file's stat said just before it was read."""

    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, info: os.stat_result) -> Stamp:
        return cls(info.st_size, info.st_mtime_ns, info.st_ctime_ns)


class Refused(Exception):
    """The file was left alone on purpose; the message says why."""


class Changed(Refused):
    """The file was edited after it was read: the edit wins."""


@dataclass(frozen=True)
class Planned:
    path: Path
    display: str
    data: bytes
    """The new bytes."""
    stamp: Stamp | None
    """None when it is not known what was read (nothing is then written)."""
    before: str
    """A digest of the bytes that were read (what an interrupted run's journal checks)."""


def replace(path: Path, data: bytes, stamp: Stamp | None) -> None:
    """Replace the file `path` resolves to with `data` in one rename (raises `Refused` or
    `OSError`; on any error the file is as it was)."""
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        raise Changed("it was removed after sqlsafe read it") from None
    if stamp is None or Stamp.of(info) != stamp:
        raise Changed("it changed after sqlsafe read it")
    if not os.access(target, os.W_OK):
        raise Refused("no permission to write it")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".sqlsafe-tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, info.st_mode & 0o7777)
        if hasattr(os, "chown") and (info.st_uid, info.st_gid) != _owner(tmp):
            os.chown(tmp, info.st_uid, info.st_gid)
        # A last look: an edit made while the new bytes were written wins too.
        if Stamp.of(os.stat(target)) != stamp:
            raise Changed("it changed after sqlsafe read it")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _owner(path: str) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_uid, info.st_gid


@dataclass
class Writes:
    """What happened to each planned write."""

    written: list[Planned] = field(default_factory=list)
    changed: list[tuple[Planned, str]] = field(default_factory=list)
    """Edited while the run went on: left alone, the user's edit wins."""
    failed: list[tuple[Planned, str]] = field(default_factory=list)
    """Could not be written (no permission, read-only folder, full disk...)."""
    interrupted: bool = False
    """Ctrl-C stopped the writes: what is in none of the lists was not written."""
    planned: int = 0

    @property
    def unfinished(self) -> bool:
        """Whether a planned write may still be needed (a journal of them must stay)."""
        return bool(self.failed) or self.interrupted


def write_all(planned: list[Planned]) -> Writes:
    """Write each file in turn; Ctrl-C stops at once, between two files or within one (a
    file is then either written whole or untouched)."""
    writes = Writes(planned=len(planned))
    for item in planned:
        try:
            replace(item.path, item.data, item.stamp)
        except Changed as reason:
            writes.changed.append((item, str(reason)))
        except Refused as reason:
            writes.failed.append((item, str(reason)))
        except OSError as error:
            writes.failed.append((item, error.strerror or str(error)))
        except KeyboardInterrupt:
            writes.interrupted = True
            break
        else:
            writes.written.append(item)
    return writes
