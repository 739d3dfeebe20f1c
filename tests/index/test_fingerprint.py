from __future__ import annotations

import textwrap
from pathlib import Path

from sqlsafe.index import ProjectIndex, build_index
from tests.hash_seeds import outputs_under_hash_seeds
from tests.index.conftest import write_tree

PROJECT = {
    "app/__init__.py": "",
    "app/models/__init__.py": "from .user import User\n",
    "app/models/user.py": """
        from sqlmodel import Field, SQLModel

        class User(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str
    """,
    "app/models/team.py": """
        from sqlmodel import Field, SQLModel

        class Team(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
    """,
    "app/db.py": """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker()
    """,
    "app/views.py": """
        from app.models import User

        def show(session, user_id):
            from app.db import SessionLocal
            return session.get(User, user_id)
    """,
    "app/teams.py": """
        from app.models.team import Team
    """,
}


def _index(root: Path) -> ProjectIndex:
    return build_index(sorted(root.rglob("*.py")), [root])


def _keys(root: Path) -> dict[str, str]:
    index = _index(root)
    return {
        module: index.fingerprint_of(index.dependencies(module))
        for module in ("app.views", "app.teams", "app.models.user", "app.db")
    }


def _edit(root: Path, relative: str, text: str) -> None:
    (root / relative).write_text(textwrap.dedent(text))


def test_dependencies_include_function_level_and_package_imports(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    index = _index(tmp_path)
    assert index.dependencies("app.views") == {"app.views", "app.models", "app.db"}
    # Importing from a submodule does not make the package's own names reachable.
    assert index.dependencies("app.teams") == {"app.teams", "app.models.team"}
    assert index.dependencies("not.indexed") == {"not.indexed"}


def test_irrelevant_edits_change_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    before, whole = _keys(tmp_path), _index(tmp_path).fingerprint()
    _edit(
        tmp_path,
        "app/models/user.py",
        """
        # A comment, a docstring and a helper do not change what the module contributes.
        from sqlmodel import Field, SQLModel

        def helper():
            return 1

        class User(SQLModel, table=True):
            '''A user.'''
            id: int | None = Field(default=None, primary_key=True)
            name: str
        """,
    )
    assert _keys(tmp_path) == before
    assert _index(tmp_path).fingerprint() == whole


def test_a_changed_key_invalidates_exactly_the_dependents(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    before, whole = _keys(tmp_path), _index(tmp_path).fingerprint()
    _edit(
        tmp_path,
        "app/models/user.py",
        """
        from sqlmodel import Field, SQLModel

        class User(SQLModel, table=True):
            id: int | None = None
            name: str = Field(primary_key=True)
        """,
    )
    after = _keys(tmp_path)
    # app.views imports User through the app.models re-export.
    assert after["app.views"] != before["app.views"]
    assert after["app.models.user"] != before["app.models.user"]
    assert after["app.teams"] == before["app.teams"]
    assert after["app.db"] == before["app.db"]
    assert _index(tmp_path).fingerprint() != whole


def test_a_changed_factory_invalidates_function_level_importers(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    before = _keys(tmp_path)
    _edit(
        tmp_path,
        "app/db.py",
        """
        from sqlalchemy.orm import sessionmaker
        SessionLocal = sessionmaker(expire_on_commit=False)
        """,
    )
    after = _keys(tmp_path)
    assert after["app.views"] != before["app.views"]
    assert after["app.teams"] == before["app.teams"]


def test_a_new_model_elsewhere_changes_only_the_whole_fingerprint(tmp_path: Path) -> None:
    write_tree(tmp_path, PROJECT)
    before, whole = _keys(tmp_path), _index(tmp_path).fingerprint()
    write_tree(
        tmp_path,
        {
            "app/models/audit.py": """
                from sqlmodel import Field, SQLModel

                class Audit(SQLModel, table=True):
                    id: int = Field(primary_key=True)
            """
        },
    )
    assert _keys(tmp_path) == before
    assert _index(tmp_path).fingerprint() != whole


def test_fingerprint_is_stable_across_processes(tmp_path: Path) -> None:
    # Frozenset order depends on string hashing, which differs between processes.
    write_tree(tmp_path, PROJECT)
    script = (
        "import sys; from pathlib import Path; from sqlsafe.index import build_index; "
        "root = Path(sys.argv[1]); "
        "i = build_index(sorted(root.rglob('*.py')), [root]); "
        "print(i.fingerprint(), i.fingerprint_of(['app.models', 'app.db']))"
    )
    outputs = outputs_under_hash_seeds(script, str(tmp_path))
    assert len(outputs) == 1


def test_plain_import_reaches_every_package_on_the_way(tmp_path: Path) -> None:
    write_tree(tmp_path, {**PROJECT, "app/cli.py": "import app.models.team\n"})
    assert _index(tmp_path).dependencies("app.cli") == {
        "app.cli",
        "app",
        "app.models",
        "app.models.team",
    }
