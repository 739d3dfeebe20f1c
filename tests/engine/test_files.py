"""File discovery's pattern matching against pathspec's own answers: the one regex that rejects
most paths at once must never reject a path pathspec matches, and an entry's own match ignores a
folder above it (Ruff walks a folder named on the command line even when it is ignored)."""

from __future__ import annotations

import itertools

import pathspec
import pytest

from sqlsafe.files import _Patterns

PATTERN_SETS = [
    ["build", "*.py[cod]", "!keep.pyc"],
    ["ignored/", "globbed/**", "/top.py", "a/**/b"],
    ["*.py", "!src/*.py", "src/gen_*.py"],
    ["docs/", "!docs/api/", "[Bb]uild", "**/cache", "name with space"],
    [".venv", "__pypackages__", "node_modules", "site-packages", "venv", "*.egg-info/"],
]
PATHS = [
    "build",
    "build/",
    "build/x.py",
    "sub/build/x.py",
    "x.pyc",
    "keep.pyc",
    "ignored/",
    "ignored/x.py",
    "sub/ignored/",
    "globbed/x.py",
    "globbed/",
    "top.py",
    "sub/top.py",
    "a/b",
    "a/x/y/b",
    "src/app.py",
    "src/gen_models.py",
    "docs/",
    "docs/api/",
    "docs/api/x.py",
    "Build/",
    "x/cache/",
    "name with space",
    ".venv/",
    "pkg.egg-info/",
    "plain.py",
]


@pytest.mark.parametrize("lines", PATTERN_SETS, ids=lambda lines: lines[0])
def test_match_is_pathspecs_answer(lines: list[str]) -> None:
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    patterns = _Patterns(lines)
    for path in PATHS:
        assert patterns.match(path) == spec.match_file(path), path


@pytest.mark.parametrize("lines", PATTERN_SETS, ids=lambda lines: lines[0])
def test_an_entry_matches_itself_only_where_pathspec_matches_it(lines: list[str]) -> None:
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    patterns = _Patterns(lines)
    for path in PATHS:
        if patterns.matches_itself(path):
            assert spec.match_file(path), path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("ignored/", True),
        ("ignored/x.py", False),  # only through the folder above it
        ("sub/ignored/", True),
        ("globbed/x.py", True),  # `globbed/**` names the contents themselves
        ("top.py", True),
        ("sub/top.py", False),
    ],
)
def test_an_entry_matches_itself(path: str, expected: bool) -> None:
    assert _Patterns(["ignored/", "globbed/**", "/top.py"]).matches_itself(path) is expected


def test_no_patterns_match_nothing() -> None:
    empty = _Patterns([])
    assert not any(
        itertools.chain((empty.match(p) for p in PATHS), (empty.matches_itself(p) for p in PATHS))
    )
