"""Seals on the files sqlsafe reads back from folders a repository controls.

`cache-dir` may be set by the checked repository's own config, and `.sqlsafe_cache/` may be
committed to it: whatever sqlsafe finds there could have been planted by whoever wrote the
repository. Every such file is sealed with an HMAC-SHA256 tag; the key is 32 random bytes
in the user's own cache folder (mode 0600, outside any repository), so a file that carries a
valid tag was written by sqlsafe for this user, and anything else is never deserialised.
"""

from __future__ import annotations

import hmac
import os
import stat
import sys
import tempfile
from functools import cache
from pathlib import Path

MAGIC = b"sqlsafe-sealed-1\n"
TAG_SIZE = 32
KEY_SIZE = 32
KEY_DIR_ENV = "SQLSAFE_KEY_DIR"
"""Where the key lives when set (tests give each run its own)."""


def key_folder() -> Path:
    configured = os.environ.get(KEY_DIR_ENV)
    if configured:
        return Path(configured)
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sqlsafe"


@cache
def _key(folder: Path) -> bytes | None:
    """The user's key, made on first use; None when it can be neither read nor made (nothing
    is then sealed or unsealed: a run without a cache, never a failed run)."""
    path = folder / "key"
    trusted = _read_key(path)
    if trusted is not None:
        return trusted
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".key-")  # created with mode 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(KEY_SIZE))
            # A key another run made meanwhile wins, so that both seal with the same key;
            # one that is not private (another owner, readable by others) is replaced.
            try:
                os.link(tmp, path)
            except FileExistsError:
                if _read_key(path) is None:
                    os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    except OSError:
        return None
    return _read_key(path)


def _read_key(path: Path) -> bytes | None:
    """The key at `path` if only this user can have written or read it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        private = os.name == "nt" or (
            info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
        )
        data = handle.read(KEY_SIZE + 1)
    return data if private and stat.S_ISREG(info.st_mode) and len(data) == KEY_SIZE else None


def _tag(key: bytes, purpose: str, payload: bytes) -> bytes:
    # One key per purpose, so that a sealed cache never passes for a journal. SHA-256 rather
    # than BLAKE2: OpenSSL's runs on the CPU's SHA instructions, 7x faster on a warm run's
    # 2 MB cache file.
    return hmac.digest(hmac.digest(key, purpose.encode(), "sha256"), payload, "sha256")


def _user_key() -> bytes | None:
    try:
        folder = key_folder()
    except (RuntimeError, KeyError):  # no home folder to keep it in
        return None
    return _key(folder)


def seal(payload: bytes, purpose: str) -> bytes | None:
    """`payload` with a tag only this user's sqlsafe can make; None without a key."""
    key = _user_key()
    if key is None:
        return None
    return MAGIC + _tag(key, purpose, payload) + payload


def unseal(data: bytes, purpose: str) -> bytes | None:
    """The payload `seal` wrapped for the same `purpose`; None for anything else."""
    key = _user_key()
    if key is None or not data.startswith(MAGIC):
        return None
    tag = data[len(MAGIC) : len(MAGIC) + TAG_SIZE]
    payload = data[len(MAGIC) + TAG_SIZE :]
    return payload if hmac.compare_digest(tag, _tag(key, purpose, payload)) else None
