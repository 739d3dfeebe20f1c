"""The project index from per-file summaries: cached per file, so that an edit summarises
only the edited file again, and made in the fork pool or in this process alike."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from sqlsafe import indexing
from sqlsafe.command import CheckCommand
from sqlsafe.config import Resolver
from sqlsafe.index import module_name
from sqlsafe.indexing import IndexedFile, summaries
from sqlsafe.runner import POOL_THRESHOLD
from tests.hash_seeds import outputs_under_hash_seeds

BASE = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Keyed(Base):
    __abstract__ = True
    id: Mapped[int] = mapped_column(primary_key=True)


class Root(Keyed):
    __tablename__ = "root"
"""
MODEL = """\
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.base import Keyed
from {parent_module} import {parent}


class Model{number}(Keyed):
    __tablename__ = "model_{number}"
    name: Mapped[str] = mapped_column(deferred=True)
    parent: Mapped[{parent}] = relationship(backref="children_{number}")
"""
SESSIONS = """\
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from app.models_1 import Model1 as Reexported

Local = sessionmaker(expire_on_commit=False)


class Quiet(Session):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("expire_on_commit", False)
        super().__init__(*args, **kwargs)


@contextmanager
def scope():
    session = Local()
    yield session
    session.commit()


def rows(session):
    return session.query(Reexported).all()
"""


def write_project(root: Path, models: int) -> list[Path]:
    app = root / "app"
    app.mkdir(parents=True)
    files = {"__init__.py": "", "base.py": BASE, "sessions.py": SESSIONS}
    for number in range(1, models + 1):
        parent = (
            ("app.base", "Root")
            if number == 1
            else (f"app.models_{number - 1}", f"Model{number - 1}")
        )
        files[f"models_{number}.py"] = MODEL.format(
            number=number, parent_module=parent[0], parent=parent[1]
        )
    for name, text in files.items():
        (app / name).write_text(text)
    return sorted(app.iterdir())


def indexed(paths: list[Path], root: Path) -> list[IndexedFile]:
    return [IndexedFile(path, module_name(path, [root]), None, None) for path in paths]


def test_pool_and_in_process_make_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = write_project(tmp_path, POOL_THRESHOLD + 8)
    pools: list[int] = []
    in_pool = indexing.in_pool

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        pools.append(1)
        return in_pool(*args, **kwargs)

    monkeypatch.setattr(indexing, "in_pool", counted)
    alone = summaries(indexed(paths, tmp_path), None, workers=1).merged(["app.sessions.scope"])[0]
    assert not pools
    pooled = summaries(indexed(paths, tmp_path), None, workers=2).merged(["app.sessions.scope"])[0]
    if "fork" in multiprocessing.get_all_start_methods():
        assert pools
    assert vars(pooled) == vars(alone)
    model = alone.model(f"app.models_{POOL_THRESHOLD}.Model{POOL_THRESHOLD}")
    assert model is not None and model.primary_key == ("id",) and "name" in model.deferred
    reexported = alone.model("app.sessions.Reexported")
    assert reexported is not None and reexported.qualname == "app.models_1.Model1"
    assert "children_2" in reexported.relationships
    assert alone.factory("app.sessions.Local") is not None
    assert alone.session_base("app.sessions.Quiet") == "sqlalchemy.orm.Session"


def summarised_in_a_run(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run a check in this process and tell which files it summarised for the index."""
    made: list[str] = []
    summarize = indexing.summarize

    def counted(path: Path, name: str, source: bytes | str | None = None):  # type: ignore[no-untyped-def]
        made.append(str(path.relative_to(root)))
        return summarize(path, name, source)

    monkeypatch.setattr(indexing, "summarize", counted)
    resolver = Resolver(cwd=root, config_file=None, isolated=False, overrides={}, cli={})
    CheckCommand(resolver=resolver, base=resolver.for_path(root), paths=[root], jobs=1).run()
    return sorted(made)


def test_an_edit_summarises_only_the_edited_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SQLSAFE_NO_CACHE", raising=False)
    paths = write_project(tmp_path, 3)
    everything = sorted(str(path.relative_to(tmp_path)) for path in paths)
    assert summarised_in_a_run(tmp_path, monkeypatch) == everything
    assert summarised_in_a_run(tmp_path, monkeypatch) == []  # the whole index is cached
    edited = tmp_path / "app" / "models_2.py"
    edited.write_text(edited.read_text() + "\nextra = 1\n")
    os.utime(edited, (0, 0))  # a new stat: the file is read again
    assert summarised_in_a_run(tmp_path, monkeypatch) == ["app/models_2.py"]


def test_a_summary_pickles_to_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    """The index is cached under its summaries' bytes, and string hashes (so a set's order)
    differ from one process to the next."""
    source = tmp_path / "many_imports.py"
    source.write_text(
        "".join(f"import module_{n}\nfrom package_{n} import name_{n}\n" for n in range(40))
    )
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sqlsafe.index.pickled import dumped\n"
        "from sqlsafe.index.project import summarize\n"
        "sys.stdout.write(dumped(summarize(Path(sys.argv[1]), 'many_imports')).hex())\n"
    )
    pickled = outputs_under_hash_seeds(script, str(source))
    assert len(pickled) == 1
