"""Small projects laid out the usual ways, each with findings that need another file.

Every layout has a model module and a service module whose GET001 (the model's key) and
DETACH002 (a session factory defined elsewhere) can only be found with the whole project in
the index.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

MODELS = """
from typing import Optional

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str
"""

# The same models in syntax Python 3.11's own parser rejects (3.12 and 3.14 forms).
NEWER_MODELS = """
from typing import Optional

from sqlmodel import Field, SQLModel

type UserId = int


class Box[T]:
    item: T


def load(raw):
    try:
        return int(raw)
    except ValueError, TypeError:
        return None


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str
"""

DB = """
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, create_engine

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(engine, class_=Session)
"""


def services(models: str, db: str) -> str:
    """A service module importing the models and the factory the way `models`/`db` say."""
    return f"""
from sqlmodel import Session, select

{models}
{db}


def find(session: Session, user_id):
    return session.exec(select(User).where(User.id == user_id)).first()


def rename(user_id, email):
    with SessionLocal() as session:
        user = session.get(User, user_id)
        user.email = email
        session.commit()
        return user
"""


LAYOUTS: dict[str, dict[str, str]] = {
    # A package with relative imports, beside pyproject.toml.
    "package": {
        "pyproject.toml": "[project]\nname = 'shop'\n",
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/db.py": DB,
        "shop/api/__init__.py": "",
        "shop/api/services.py": services(
            "from ..models import User", "from ..db import SessionLocal"
        ),
    },
    # src/ layout, absolute imports, `src` set in the project's config.
    "src-layout": {
        "pyproject.toml": "[tool.sqlsafe]\nsrc = ['src']\n",
        "src/shop/__init__.py": "",
        "src/shop/models.py": MODELS,
        "src/shop/db.py": DB,
        "src/shop/services.py": services(
            "from shop.models import User", "from shop.db import SessionLocal"
        ),
    },
    # An app folder (no __init__.py) beside pyproject.toml, imports from the app's root.
    "app-folder": {
        "pyproject.toml": "[project]\nname = 'app'\n",
        "app/models.py": MODELS,
        "app/db.py": DB,
        "app/services.py": services(
            "from app.models import User", "from app.db import SessionLocal"
        ),
    },
    # An application package inside a folder of the repository, importing itself by its
    # package name (run from `backend/`), with the project's config at the top.
    "app-in-subfolder": {
        "pyproject.toml": "[tool.sqlsafe]\n",
        "backend/app/__init__.py": "",
        "backend/app/models.py": MODELS,
        "backend/app/db.py": DB,
        "backend/app/api/__init__.py": "",
        "backend/app/api/services.py": services(
            "from app.models import User", "from app.db import SessionLocal"
        ),
    },
    # Flat scripts importing each other by their own folder's names.
    "scripts": {
        ".git/HEAD": "ref: refs/heads/main\n",
        "tools/models.py": MODELS,
        "tools/db.py": DB,
        "tools/services.py": services("from models import User", "from db import SessionLocal"),
    },
    # A namespace package (no __init__.py) under a `src` root.
    "namespace": {
        "sqlsafe.toml": "src = ['lib']\n",
        "lib/acme/shop/models.py": MODELS,
        "lib/acme/shop/db.py": DB,
        "lib/acme/shop/services.py": services(
            "from acme.shop.models import User", "from acme.shop.db import SessionLocal"
        ),
    },
    # The model module uses syntax newer than the Python running sqlsafe may know.
    "newer-syntax": {
        "setup.py": "",
        "shop/__init__.py": "",
        "shop/models.py": NEWER_MODELS,
        "shop/db.py": DB,
        "shop/services.py": services("from .models import User", "from .db import SessionLocal"),
    },
}


def write_layout(root: Path, name: str) -> Path:
    for relative, text in LAYOUTS[name].items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root
