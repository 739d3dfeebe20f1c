"""A session factory known only by its annotation (its sessionmaker is built at run time,
e.g. from settings): whether a commit expires is not visible, so a return after a commit is
a warning (DETACH001), never the certain DETACH002."""

import textwrap
from functools import cache
from pathlib import Path

from sqlsafe.index import ProjectIndex, build_index
from tests.checks.detach_models import MODELS
from tests.checks.harness import check

DB = textwrap.dedent(
    """
    from contextlib import contextmanager
    from typing import Generator

    from sqlalchemy.orm import Session

    from app import settings


    @contextmanager
    def create_session() -> Generator[Session, None, None]:
        session = settings.Session()
        try:
            yield session
        finally:
            session.close()
    """
)


@cache
def project(root: Path = Path("/tmp/sqlsafe-unknown-factory")) -> ProjectIndex:
    package = root / "app"
    package.mkdir(parents=True, exist_ok=True)
    files = {"__init__.py": "", "models.py": MODELS, "db.py": DB, "settings.py": "Session = None\n"}
    for name, text in files.items():
        (package / name).write_text(text)
    return build_index([package / name for name in files], [root])


def test_factory_configuration_is_unknown():
    factory = project().factory("app.db.create_session")
    assert factory is not None and factory.expire_on_commit is None


def test_return_after_commit_is_a_warning_not_an_error():
    code = """
        from app.db import create_session
        from app.models import Plain

        def save(email):
            with create_session() as session:
                row = Plain(email=email)
                session.add(row)
                session.commit()
                return row
        """
    (diagnostic,) = check(code, ["DETACH001", "DETACH002", "DETACH003"], index=project())
    assert diagnostic.code == "DETACH001"
    assert "unless the session factory sets `expire_on_commit=False`" in diagnostic.message
