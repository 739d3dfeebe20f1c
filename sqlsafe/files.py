"""Which files a run checks: include/exclude globs, `.gitignore`, explicitly named paths.

Exclude patterns use gitignore syntax (pathspec), which gives Ruff's behaviour: a pattern
without a slash matches a file or directory name anywhere, one with a slash is anchored at
the directory of the config file that set it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pathspec

from sqlsafe.config import Resolver, Settings


@dataclass(frozen=True)
class Missing:
    path: Path
    message: str


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)


class _Patterns:
    """Gitignore-style patterns (pathspec), with one regex that rejects at once a path no
    pattern matches: most paths of a walk, which pathspec would test pattern by pattern."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.spec = pathspec.GitIgnoreSpec.from_lines(lines)
        self.rules = [
            (regex, pattern.include)
            for pattern in self.spec.patterns
            if pattern.include is not None and (regex := getattr(pattern, "regex", None))
        ]
        # Named groups may occur once in a regex: the combined one keeps none.
        either = "|".join(
            f"(?:{regex.pattern.replace('(?P<ps_d>', '(?:')})" for regex, _ in self.rules
        )
        self.any = re.compile(either) if self.rules else None

    def match(self, relative: str) -> bool:
        """pathspec's answer: a path inside a matched folder matches too."""
        return (
            self.any is not None
            and self.any.search(relative) is not None
            and self.spec.match_file(relative)
        )

    def matches_itself(self, relative: str) -> bool:
        """Only a pattern that matches the path itself counts, not one that matches a folder
        above it: pathspec marks such a match with the group `ps_d` (a directory pattern
        matching a descendant). The last matching pattern decides."""
        if self.any is None or self.any.search(relative) is None:
            return False
        ignored = False
        for regex, include in self.rules:
            match = regex.search(relative)
            if match is None:
                continue
            folder = match.groupdict().get("ps_d")
            if folder is None or match.end() == len(relative):
                ignored = include
        return ignored


@cache
def _patterns(lines: tuple[str, ...]) -> _Patterns:
    return _Patterns(lines)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix().lstrip("/")


def is_excluded(path: Path, settings: Settings, is_dir: bool = False) -> bool:
    """Whether an exclude pattern matches the path itself (a folder above it is pruned by
    the walk, unless the folder was named on the command line: then Ruff checks it)."""
    relative = _relative(path, settings.root) + ("/" if is_dir else "")
    return _patterns(settings.exclude + settings.extend_exclude).matches_itself(relative)


def _excluded_by_ancestor(path: Path, settings: Settings, is_dir: bool = False) -> bool:
    """For `--force-exclude`: is the path or one of its folders excluded?"""
    if is_excluded(path, settings, is_dir):
        return True
    return any(
        is_excluded(parent, settings, is_dir=True)
        for parent in path.parents
        if parent != settings.root and settings.root in parent.parents
    )


@cache
def _git_root(directory: Path) -> Path | None:
    if (directory / ".git").exists():
        return directory
    parent = directory.parent
    return None if parent == directory else _git_root(parent)


@cache
def _ignore_file(directory: Path) -> _Patterns | None:
    lines: list[str] = []
    for name in (".gitignore", ".ignore"):
        try:
            lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    info_exclude = directory / ".git" / "info" / "exclude"
    if info_exclude.is_file():
        lines += info_exclude.read_text(encoding="utf-8", errors="replace").splitlines()
    return _Patterns(lines) if lines else None


@cache
def _ignore_chain(directory: Path) -> tuple[tuple[_Patterns, str], ...]:
    """The ignore files that apply to the entries of `directory` (inside a git repository
    only), nearest first, each with the path from its folder down to `directory`."""
    root = _git_root(directory)
    if root is None:
        return ()
    chain = []
    below = ""
    while True:
        spec = _ignore_file(directory)
        if spec is not None:
            chain.append((spec, below))
        if directory == root:
            return tuple(chain)
        below = f"{directory.name}/{below}"
        directory = directory.parent


@cache
def package_top(folder: str) -> tuple[str, int]:
    """The top of the chain of package folders (each holding an `__init__.py`) that the
    absolute `folder` is in, and how many folders up it is (`folder` itself, 0, when it is
    no package). Every file of a folder asks: kept until `forget_folders`."""
    parent = os.path.dirname(folder)
    if parent == folder or not os.path.isfile(os.path.join(folder, "__init__.py")):
        return folder, 0
    top, depth = package_top(parent)
    return top, depth + 1


def forget_folders() -> None:
    """What `package_top` knows, dropped at the start of a run: a long-lived process (the
    editor server, the API) sees `__init__.py` files come and go between its runs."""
    package_top.cache_clear()


def is_gitignored(path: Path, is_dir: bool, inherited: bool = True) -> bool:
    """Whether `.gitignore` files ignore `path`; with `inherited=False`, only a pattern that
    matches the path itself counts, not one that matches a folder above it (Ruff walks a
    directory it was given even when that directory is ignored, so `ignored/` does not hide
    `ignored/x.py` there; `ignored/**` does)."""
    entry = path.name + ("/" if is_dir else "")
    return any(
        spec.match(below + entry) if inherited else spec.matches_itself(below + entry)
        for spec, below in _ignore_chain(path.parent)
    )


def discover(paths: list[Path], resolver: Resolver, force_exclude: bool) -> Discovery:
    """Files to check, in sorted order, and the named paths that do not exist."""
    found = Discovery()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            found.files.append(path)

    for given in paths:
        path = Path(os.path.abspath(resolver.cwd / given))
        if not path.exists():
            found.missing.append(Missing(path, "No such file or directory (os error 2)"))
            continue
        if path.is_file():
            settings = resolver.for_path(path)
            if force_exclude and (
                _excluded_by_ancestor(path, settings)
                or (settings.respect_gitignore and is_gitignored(path, False))
            ):
                continue
            add(path)
            continue
        # Ruff leaves out a named folder that its excludes cover, but not one .gitignore does.
        if force_exclude and _excluded_by_ancestor(path, resolver.for_path(path), is_dir=True):
            continue
        for directory, dirnames, filenames in os.walk(path):
            folder = _Folder(Path(directory), resolver.for_path(Path(directory)))
            dirnames[:] = sorted(name for name in dirnames if not folder.skips(name, is_dir=True))
            for name in sorted(filenames):
                if folder.includes(name) and not folder.skips(name, is_dir=False):
                    add(folder.path / name)
    found.files.sort()
    return found


class _Folder:
    """One folder of a walk, with what `is_excluded` and `is_gitignored(..., inherited=False)`
    work out for every entry computed once: a walk over a large tree pays for pattern
    matching, not for path arithmetic."""

    def __init__(self, path: Path, settings: Settings) -> None:
        self.path = path
        self.include = _patterns(settings.include + settings.extend_include)
        self.exclude = _patterns(settings.exclude + settings.extend_exclude)
        relative = _relative(path, settings.root)
        self.prefix = "" if relative in ("", ".") else relative + "/"
        self.ignores = _ignore_chain(path) if settings.respect_gitignore else ()

    def includes(self, name: str) -> bool:
        return self.include.match(name)

    def skips(self, name: str, is_dir: bool) -> bool:
        entry = name + "/" if is_dir else name
        return self.exclude.matches_itself(self.prefix + entry) or any(
            spec.matches_itself(below + entry) for spec, below in self.ignores
        )
