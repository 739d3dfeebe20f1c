from __future__ import annotations

import pickle
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from sqlsafe.index import ProjectIndex, build_index, module_name, modules
from sqlsafe.index.pickled import dumped
from sqlsafe.index.project import indexing_order, merge, summarize

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
def build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Build:
    """Write files under tmp_path (the import root) and index all of them.

    Every index built here is also built from summaries that went through pickle (as the
    cache and the pool hand them over) and from whole, unpruned trees: all three must be
    the same index, so pruning drops nothing any finder reads."""

    def build(files: Mapping[str, str | bytes], session_factories: tuple[str, ...] = ()):
        write_tree(tmp_path, files)
        paths = sorted(tmp_path.rglob("*.py*"))
        index = build_index(paths, [tmp_path], session_factories)
        pickled = merge(
            (
                pickle.loads(dumped(summarize(path, module_name(path, [tmp_path]))))
                for path in indexing_order(paths)
            ),
            session_factories,
        )
        with monkeypatch.context() as unpruned:
            unpruned.setattr(modules, "prune", lambda scope: [])
            whole = build_index(paths, [tmp_path], session_factories)
        assert vars(index) == vars(pickled) == vars(whole)
        return index

    return build
