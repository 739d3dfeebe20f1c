from __future__ import annotations

from pathlib import Path

import pytest

from sqlsafe import api
from sqlsafe.index import build_index, module_name
from tests.index.conftest import Build, write_tree


@pytest.mark.parametrize(
    ("relative", "roots", "expected"),
    [
        ("app/db.py", ["."], "app.db"),
        ("app/__init__.py", ["."], "app"),
        ("app/models/__init__.py", ["."], "app.models"),
        ("src/app/db.py", [".", "src"], "app.db"),  # the deepest root wins
        ("src/app/db.py", ["src", "."], "app.db"),
        ("stubs/app/db.pyi", ["stubs"], "app.db"),
        ("top.py", ["."], "top"),
        # Outside every root: named from its package chain.
        ("elsewhere/pkg/sub/mod.py", ["src"], "pkg.sub.mod"),
        ("elsewhere/script.py", ["src"], "script"),
    ],
)
def test_module_name(tmp_path: Path, relative: str, roots: list[str], expected: str) -> None:
    write_tree(
        tmp_path,
        {relative: "", "elsewhere/pkg/__init__.py": "", "elsewhere/pkg/sub/__init__.py": ""},
    )
    assert module_name(tmp_path / relative, [tmp_path / r for r in roots]) == expected


@pytest.mark.parametrize(
    ("relative", "expected"),
    [("corpora/zenml-0.98.0/zenml/db.py", "zenml.db"), (".cache/pkg/mod.py", "pkg.mod")],
)
def test_folders_that_cannot_be_imported_are_not_part_of_the_name(
    tmp_path: Path, relative: str, expected: str
) -> None:
    package = Path(relative).parent
    write_tree(tmp_path, {relative: "", f"{package}/__init__.py": ""})
    assert module_name(tmp_path / relative, [tmp_path]) == expected


def test_relative_paths_are_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"app/db.py": ""})
    monkeypatch.chdir(tmp_path)
    assert module_name(Path("app/db.py"), [Path(".")]) == "app.db"


def test_a_package_made_between_two_runs_of_one_process_counts(tmp_path: Path) -> None:
    """A run keeps which folders are packages; a long-lived process (the editor server)
    starts each run afresh. `from models import Hero` in `app/queries.py` finds
    `app/models.py` only while `app/` is no package: its folder is on Python's path."""
    write_tree(
        tmp_path,
        {
            "app/models.py": """
                from sqlmodel import Field, SQLModel

                class Hero(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)
            """,
            "app/queries.py": """
                from sqlmodel import Session, select

                from models import Hero

                def by_id(engine, key):
                    with Session(engine) as session:
                        return session.exec(select(Hero).where(Hero.id == key)).first()
            """,
        },
    )

    def codes() -> list[str]:
        found = api.check_paths([tmp_path / "app" / "queries.py"], cwd=tmp_path)
        return [diagnostic.code for diagnostic in found]

    assert codes() == ["GET001"]
    (tmp_path / "app" / "__init__.py").write_text("")
    assert codes() == ["DETACH001"]  # `Hero` is now unknown: `models` is no project module


BROKEN_FILES: dict[str, str | bytes] = {
    "ok.py": """
        from sqlmodel import Field, SQLModel

        class User(SQLModel, table=True):
            id: int = Field(primary_key=True)
    """,
    "syntax_error.py": "class User(SQLModel, table=True:\n",
    "undecodable.py": b"x = '\xff\xfe\xfa'\n",
    "null_bytes.py": b"x = 1\x00\n",
    "python2.py": "print 'hello'\n",
    "empty.py": "",
    "latin1.py": "# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1"),
    "bom.py": b"\xef\xbb\xbfimport sqlmodel\n",
    "relative_too_far.py": "from ...nowhere import thing\nfrom . import sibling\n",
    "cycle_a.py": "from cycle_b import *\nfrom cycle_b import name\n",
    "cycle_b.py": "from cycle_a import *\nfrom cycle_a import name\n",
    "self_alias.py": "X = X\nY = Z\nZ = Y\n",
    "deep.py": "import a\nx = a" + ".b" * 950 + "\nclass C(a" + ".b" * 950 + "): pass\n",
    "wide.py": "from sqlmodel import Relationship, SQLModel\n"
    "class T(SQLModel, table=True):\n"
    "    x: " + " | ".join(["T"] * 990) + " = Relationship()\n",
}


def test_odd_and_broken_files_never_crash_the_index(build: Build) -> None:
    index = build(BROKEN_FILES)
    assert index.model("ok.User") is not None
    assert "syntax_error" not in index.modules
    assert "undecodable" not in index.modules
    assert "null_bytes" not in index.modules
    assert "python2" not in index.modules
    assert {"latin1", "bom", "empty", "cycle_a", "cycle_b", "self_alias", "deep", "wide"} <= set(
        index.modules
    )
    assert index.resolve("cycle_a.name") in {"cycle_a.name", "cycle_b.name"}
    assert index.alias("self_alias.Y") in {"self_alias.Y", "self_alias.Z", None}


def test_unreadable_and_missing_files_are_skipped(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ok.py": "x = 1\n"})
    index = build_index([tmp_path / "ok.py", tmp_path / "missing.py", tmp_path], [tmp_path])
    assert set(index.modules) == {"ok"}


def test_py_file_wins_over_its_stub(tmp_path: Path) -> None:
    paths = write_tree(
        tmp_path,
        {
            "m.pyi": "class User: ...\n",
            "m.py": """
                from sqlmodel import Field, SQLModel

                class User(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            """,
        },
    )
    index = build_index(paths, [tmp_path])
    assert index.modules["m"].suffix == ".py"
    assert index.model("m.User") is not None


def test_star_import_from_a_library(build: Build) -> None:
    index = build(
        {
            "m.py": """
                from sqlmodel import *

                class User(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            """
        }
    )
    user = index.model("m.User")
    assert user is not None and user.primary_key == ("id",)


def test_conditional_imports_prefer_the_main_branch(build: Build) -> None:
    index = build(
        {
            "m.py": """
                try:
                    from sqlmodel import Session
                except ImportError:
                    Session = None

                if True:
                    from sqlalchemy.orm import sessionmaker
                else:
                    sessionmaker = None

                Local = sessionmaker(class_=Session)
            """
        }
    )
    assert index.resolve("m.Session") == "sqlmodel.Session"
    factory = index.factory("m.Local")
    assert factory is not None and factory.session_class == "sqlmodel.Session"


def test_a_package_module_imports_the_library_not_its_namesake_sibling(tmp_path: Path) -> None:
    """`from sqlalchemy.orm import ...` in `pkg/db.py` is the library even beside a
    `pkg/sqlalchemy.py` (apache-airflow has `airflow/utils/sqlalchemy.py`); only a script
    outside any package imports its own folder's modules by absolute name."""
    write_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sqlalchemy.py": "",
            "pkg/db.py": "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n",
            "scripts/models.py": (
                "from sqlmodel import Field, SQLModel\n"
                "class User(SQLModel, table=True):\n"
                "    id: int = Field(primary_key=True)\n"
            ),
            "scripts/run.py": "from models import User\n",
        },
    )
    index = build_index(sorted(tmp_path.rglob("*.py")), [tmp_path])
    assert index.factory("pkg.db.SessionLocal") is not None
    assert index.model("scripts.run.User") is not None


def test_the_runtime_branch_of_type_checking_binds(tmp_path: Path) -> None:
    """`if TYPE_CHECKING: Base = Any` / `else: Base = registry.generate_base()` (as
    apache-airflow declares its models): the program runs the `else` branch."""
    write_tree(
        tmp_path,
        {
            "models.py": (
                "from typing import TYPE_CHECKING, Any\n"
                "from sqlalchemy.orm import Mapped, mapped_column, registry\n"
                "mapper_registry = registry()\n"
                "if TYPE_CHECKING:\n"
                "    Base = Any\n"
                "else:\n"
                "    Base = mapper_registry.generate_base()\n"
                "class Job(Base):\n"
                "    __tablename__ = 'job'\n"
                "    id: Mapped[int] = mapped_column(primary_key=True)\n"
            )
        },
    )
    index = build_index([tmp_path / "models.py"], [tmp_path])
    job = index.model("models.Job")
    assert job is not None and job.primary_key == ("id",)


def test_imports_under_match_and_loop_else_are_bound(build: Build) -> None:
    index = build(
        {
            "m.py": """
                import sys

                match sys.version_info:
                    case (3, 11, *_):
                        from sqlmodel import Session
                    case _:
                        Session = None

                for _ in ():
                    pass
                else:
                    from sqlalchemy.orm import sessionmaker

                Local = sessionmaker(class_=Session)
            """
        }
    )
    assert index.resolve("m.Session") == "sqlmodel.Session"
    factory = index.factory("m.Local")
    assert factory is not None and factory.session_class == "sqlmodel.Session"
