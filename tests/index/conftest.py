from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from sqlsafe.index import ProjectIndex, build_index

Build = Callable[..., ProjectIndex]


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> list[Path]:
    paths = []
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text))
        paths.append(path)
    return paths


@pytest.fixture
def build(tmp_path: Path) -> Build:
    """Write files under tmp_path (the import root) and index all of them."""

    def build(files: Mapping[str, str | bytes], session_factories: tuple[str, ...] = ()):
        write_tree(tmp_path, files)
        paths = sorted(tmp_path.rglob("*.py*"))
        return build_index(paths, [tmp_path], session_factories)

    return build
