"""Which files a run checks: include/exclude globs, `.gitignore`, explicitly named paths.

Exclude patterns use gitignore syntax (pathspec), which gives Ruff's behaviour: a pattern
without a slash matches a file or directory name anywhere, one with a slash is anchored at
the directory of the config file that set it.
"""

from __future__ import annotations

import os
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


@cache
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix().lstrip("/")


def is_excluded(path: Path, settings: Settings, is_dir: bool = False) -> bool:
    """Whether an exclude pattern matches the path itself (a folder above it is pruned by
    the walk, unless the folder was named on the command line: then Ruff checks it)."""
    relative = _relative(path, settings.root) + ("/" if is_dir else "")
    return _matches_itself(_spec(settings.exclude + settings.extend_exclude), relative)


def is_included(path: Path, settings: Settings) -> bool:
    return _spec(settings.include + settings.extend_include).match_file(path.name)


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
def _ignore_file(directory: Path) -> pathspec.PathSpec | None:
    lines: list[str] = []
    for name in (".gitignore", ".ignore"):
        try:
            lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    info_exclude = directory / ".git" / "info" / "exclude"
    if info_exclude.is_file():
        lines += info_exclude.read_text(encoding="utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def is_gitignored(path: Path, is_dir: bool, inherited: bool = True) -> bool:
    """Whether `.gitignore` files ignore `path`; with `inherited=False`, only a pattern that
    matches the path itself counts, not one that matches a folder above it (Ruff walks a
    directory it was given even when that directory is ignored, so `ignored/` does not hide
    `ignored/x.py` there; `ignored/**` does)."""
    root = _git_root(path.parent)
    if root is None:
        return False
    directory = path.parent
    while True:
        spec = _ignore_file(directory)
        if spec is not None:
            relative = path.relative_to(directory).as_posix() + ("/" if is_dir else "")
            if spec.match_file(relative) if inherited else _matches_itself(spec, relative):
                return True
        if directory == root:
            return False
        directory = directory.parent


def _matches_itself(spec: pathspec.PathSpec, relative: str) -> bool:
    # pathspec marks a match that stops at a folder above the path with the group `ps_d`
    # (a directory pattern matching a descendant); the last matching pattern decides.
    ignored = False
    for pattern in spec.patterns:
        regex = getattr(pattern, "regex", None)
        if pattern.include is None or regex is None:
            continue
        match = regex.match(relative)
        if match is None:
            continue
        folder = match.groupdict().get("ps_d")
        if folder is None or match.end() == len(relative):
            ignored = pattern.include
    return ignored


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
            here = Path(directory)
            settings = resolver.for_path(here)
            dirnames[:] = sorted(
                name
                for name in dirnames
                if not is_excluded(here / name, settings, is_dir=True)
                and not (settings.respect_gitignore and is_gitignored(here / name, True, False))
            )
            for name in sorted(filenames):
                candidate = here / name
                if (
                    is_included(candidate, settings)
                    and not is_excluded(candidate, settings)
                    and not (settings.respect_gitignore and is_gitignored(candidate, False, False))
                ):
                    add(candidate)
    found.files.sort()
    return found
