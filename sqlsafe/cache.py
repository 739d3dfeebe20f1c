"""The run cache in `.sqlsafe_cache/`: what earlier runs found, reused while its inputs hold.

A file's result depends on its bytes, its resolved settings, the run's options, the facts the
project index holds about the modules it imports (`fingerprint_of(dependencies(module))`,
the run's DETACH plan included) and the code of sqlsafe itself; its cache key hashes all of
them, so editing a model invalidates exactly the files that import what changed, and a hit
can only return what a fresh check would (the CLI tests compare the output byte for byte).
The index is cached as a whole, keyed by every indexed file's content: a run where nothing
changed neither parses nor imports libcst. What the index needs of each file (its summary)
is cached per file too, so an edit parses only the edited file for the index.

The layout follows Ruff's: `CACHEDIR.TAG` (so backup tools skip the folder), a `.gitignore`
that ignores everything, and one folder per sqlsafe build holding one file per project root.
The folder may come from the checked repository (its config names it, or it is committed):
a cache file is unpickled only when it carries this user's seal (`sealing`), so a file
planted there is a miss, never code that runs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from sqlsafe import __version__
from sqlsafe.config import Settings
from sqlsafe.sealing import seal, unseal

CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by sqlsafe.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
GITIGNORE = "# Automatically created by sqlsafe.\n*\n"
# Bumped when what an entry holds changes shape.
FORMAT = "2"
SEAL_PURPOSE = "cache"
# A build folder's name (`build_id`): nothing else in the cache folder is ever removed.
BUILD_FOLDER = re.compile(r"[0-9a-f]{32}")
# Entries for files no run has seen for this long are dropped (Ruff keeps 30 days too).
MAX_AGE = 30 * 24 * 3600
STALE_BUILD = 24 * 3600
# Coarser than any file system's mtime resolution (FAT has 2 s).
RACY = 3 * 10**9
# Settings that shape the output only, not what a file's check finds.
_PRESENTATION = frozenset({"output_format", "show_fixes", "cache_dir", "sources", "root_reason"})


def digest(*parts: str | bytes) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        hasher.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\0")
    return hasher.hexdigest()


@cache
def build_id() -> str:
    """sqlsafe's version and the state of its own modules: an edited rule in a development
    checkout must not be answered with what the previous code found."""
    package = Path(__file__).resolve().parent
    parts = [__version__]
    for directory, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                stat = os.stat(os.path.join(directory, name))
                parts.append(f"{directory}/{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return digest(*parts)


@cache
def settings_key(settings: Settings) -> str:
    return digest(
        *(
            f"{item.name}={getattr(settings, item.name)!r}"
            for item in fields(settings)
            if item.name not in _PRESENTATION
        )
    )


@dataclass
class Entry:
    key: str
    value: Any
    seen: float


@dataclass
class Store:
    """Everything one cache file holds."""

    files: dict[str, Entry] = field(default_factory=dict)
    slots: dict[str, Entry] = field(default_factory=dict)
    """Run-wide values (the index, the DETACH plan, rule documentation), one per name."""
    contents: dict[str, tuple[int, int, int, int, int, str]] = field(default_factory=dict)
    """path -> (size, mtime_ns, inode, ctime_ns, when it was read in ns, hash of its bytes)."""
    marks: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)
    """(kind, path) -> (key, flag): a yes/no fact about a file, kept while its key holds."""
    summaries: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    """path -> (key, pickled summary): what the project index needs of the file. Kept
    pickled: a run that needs no summary (a warm one) does not unpickle them."""


class RunCache:
    """One project's cache file: read once at the start of a run, written once at its end."""

    def __init__(self, directory: Path, scope: str) -> None:
        self.directory = directory
        self.path = directory / build_id() / digest(FORMAT, scope)
        self.store = Store()
        self.dirty = False
        self.now = time.time()
        self.used: set[str] = set()
        """Files whose content or marks this run asked about: kept at save even without a
        checked entry (the project files a check of one file indexes and plans over)."""
        try:
            payload = unseal(self.path.read_bytes(), SEAL_PURPOSE)
            if payload is None:  # not written by this user's sqlsafe: never unpickled
                return
            loaded = pickle.loads(payload)
        except Exception:  # missing, damaged or from other code: a miss, never a failed run
            return
        if isinstance(loaded, Store):
            self.store = loaded

    def get(self, path: Path, key: str) -> Any | None:
        entry = self.store.files.get(str(path))
        if entry is None or entry.key != key:
            return None
        entry.seen = self.now
        return entry.value

    def put(self, path: Path, key: str, value: Any) -> None:
        self.store.files[str(path)] = Entry(key, value, self.now)
        self.dirty = True

    def slot(self, name: str, key: str) -> Any | None:
        entry = self.store.slots.get(name)
        return entry.value if entry is not None and entry.key == key else None

    def any_slot(self, name: str) -> Any | None:
        """The value last kept under `name`, whatever its key (a guess to check)."""
        entry = self.store.slots.get(name)
        return entry.value if entry is not None else None

    def put_slot(self, name: str, key: str, value: Any) -> None:
        self.store.slots[name] = Entry(key, value, self.now)
        self.dirty = True

    def mark(self, kind: str, path: Path, key: str) -> bool | None:
        self.used.add(str(path))
        known = self.store.marks.get((kind, str(path)))
        return known[1] if known is not None and known[0] == key else None

    def put_mark(self, kind: str, path: Path, key: str, flag: bool) -> None:
        self.used.add(str(path))
        self.store.marks[(kind, str(path))] = (key, flag)
        self.dirty = True

    def summary(self, path: Path, key: str) -> bytes | None:
        known = self.store.summaries.get(str(path))
        return known[1] if known is not None and known[0] == key else None

    def any_summary(self, path: Path) -> bytes | None:
        """The summary last kept for `path`, whatever its key."""
        known = self.store.summaries.get(str(path))
        return known[1] if known is not None else None

    def put_summary(self, path: Path, key: str, pickled: bytes) -> None:
        self.store.summaries[str(path)] = (key, pickled)
        self.dirty = True

    def content(self, path: Path, stat: os.stat_result) -> str | None:
        """The hash of the file's bytes as an earlier run read them, if the file has not
        been touched since: what git's index does, to know without reading it. A file
        modified shortly before it was read could have changed again within the clock's
        granularity without a new mtime, so such a "racily clean" record is not trusted."""
        self.used.add(str(path))
        known = self.store.contents.get(str(path))
        if known is None:
            return None
        # ctime too: an edit can keep the size, mtime and inode, never the ctime.
        size, mtime, inode, ctime, read, content = known
        now = (stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)
        if now != (size, mtime, inode, ctime):
            return None
        return content if mtime < read - RACY else None

    def record(self, path: Path, stat: os.stat_result, content: str) -> None:
        self.used.add(str(path))
        self.store.contents[str(path)] = (
            stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns, time.time_ns(), content,
        )  # fmt: skip
        self.dirty = True

    def seen(self, paths: Iterable[Path]) -> None:
        """Keep the entries of files this run saw but did not need (a later run may)."""
        for path in paths:
            entry = self.store.files.get(str(path))
            if entry is not None and self.now - entry.seen > MAX_AGE / 2:
                entry.seen = self.now
                self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        horizon = self.now - MAX_AGE
        self.store.files = {p: e for p, e in self.store.files.items() if e.seen >= horizon}
        kept = self.store.files.keys() | self.used
        self.store.contents = {p: c for p, c in self.store.contents.items() if p in kept}
        self.store.marks = {k: m for k, m in self.store.marks.items() if k[1] in kept}
        self.store.summaries = {p: s for p, s in self.store.summaries.items() if p in kept}
        sealed = seal(pickle.dumps(self.store, pickle.HIGHEST_PROTOCOL), SEAL_PURPOSE)
        if sealed is None:
            return  # no key to seal with: a cache this run could not trust later
        try:
            prepare(self.directory)
            _prune(self.directory, self.path.parent)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(sealed)
                # Two runs at once: each writes whole files, the last one wins.
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            return  # a read-only checkout still gets checked, only not cached
        self.dirty = False


def prepare(directory: Path) -> None:
    """Make the cache folder, tagged and ignored, if it is not there."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", GITIGNORE)):
        target = directory / name
        if not target.exists():
            target.write_text(content, encoding="utf-8")


def _prune(directory: Path, current: Path) -> None:
    # Every edit of sqlsafe's own code starts a new build folder; old ones would pile up in
    # a development checkout. Another install of sqlsafe may still use its folder: a day's
    # grace keeps two installs that take turns from wiping each other. The folder may be
    # any folder a repository's config names: only build folders are ever removed.
    for sibling in directory.iterdir():
        if BUILD_FOLDER.fullmatch(sibling.name) and sibling.is_dir() and sibling != current:
            try:
                stale = time.time() - sibling.stat().st_mtime > STALE_BUILD
                if stale:
                    shutil.rmtree(sibling, ignore_errors=True)
            except OSError:
                continue
