from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sqlsafe.checks.base import RuleSettings
from sqlsafe.diagnostics import Applicability
from sqlsafe.index import ProjectIndex, build_index
from tests.checks.harness import check, fix

SELECT = ["GET001"]
GET_ONE = RuleSettings(sqlalchemy_version=(2, 0, 22))

MODELS = {
    "app/__init__.py": "",
    "app/models.py": """
        from sqlmodel import Field, SQLModel

        class User(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            email: str = ""
            team_id: int | None = None

        class Membership(SQLModel, table=True):
            team_id: int = Field(primary_key=True)
            user_id: int = Field(primary_key=True)
            role: str = "member"

        class Ticket(SQLModel, table=True):
            id: int = 0
            code: str = Field(primary_key=True)

        class UserRead(SQLModel):
            id: int
    """,
    "app/legacy.py": """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Tenanted:
            tenant: Mapped[int] = mapped_column(primary_key=True)

        class Account(Base):
            __tablename__ = "account"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(default="")

        class Doc(Tenanted, Base):
            __tablename__ = "doc"
            number: Mapped[int] = mapped_column(primary_key=True)
    """,
    "app/deps.py": """
        from typing import Annotated
        from fastapi import Depends
        from sqlmodel import Session

        def get_session():
            with Session(engine) as session:
                yield session

        SessionDep = Annotated[Session, Depends(get_session)]
    """,
}


def _write(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> ProjectIndex:
    root = tmp_path_factory.mktemp("project")
    return build_index(_write(root, MODELS), [root])


HEADER = """
from sqlalchemy import and_, select as sa_select
from sqlalchemy.orm import Session as SASession, selectinload
from sqlmodel import Session, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from app import models
from app.deps import SessionDep
from app.legacy import Account, Doc
from app.models import Membership, Ticket, User, UserRead
"""


def _snippet(body: str) -> str:
    return HEADER + textwrap.dedent(body)


# (snippet body, the expression the fix leaves)
FLAGGED = {
    "exec-first": (
        "def f(session: Session, user_id: int):\n"
        "    return session.exec(select(User).where(User.id == user_id)).first()\n",
        "session.get(User, user_id)",
    ),
    "reversed-operands": (
        "def f(session: Session, user_id: int):\n"
        "    return session.exec(select(User).where(user_id == User.id)).first()\n",
        "session.get(User, user_id)",
    ),
    "filter-by": (
        "def f(session: Session, user_id: int):\n"
        "    return session.exec(select(User).filter_by(id=user_id)).one_or_none()\n",
        "session.get(User, user_id)",
    ),
    "sqlmodel-col": (
        "def f(session: Session, user_id: int):\n"
        "    return session.exec(select(User).where(col(User.id) == user_id)).first()\n",
        "session.get(User, user_id)",
    ),
    # The model named in an annotation is the module's `User`, not a local of `f`.
    "model-in-a-parameter-annotation": (
        "def f(session: Session, user: User | None = None, other=User):\n"
        "    return session.exec(select(User).where(User.id == user.id)).first()\n",
        "session.get(User, user.id)",
    ),
    "key-from-an-instance": (
        "def f(session: Session, ticket: Ticket):\n"
        "    return session.exec(select(User).where(User.id == ticket.id)).first()\n",
        "session.get(User, ticket.id)",
    ),
    "filter-method": (
        "def f(session: Session):\n"
        "    return session.exec(select(User).filter(User.id == 3)).first()\n",
        "session.get(User, 3)",
    ),
    "session-scalars": (
        "def f(session: Session, user_id: int):\n"
        "    return session.scalars(select(User).where(User.id == user_id)).first()\n",
        "session.get(User, user_id)",
    ),
    "execute-scalar-one-or-none": (
        "def f(session: Session, user_id: int):\n"
        "    return session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()\n",
        "session.get(User, user_id)",
    ),
    "execute-scalars-first": (
        "def f(session: SASession, user_id: int):\n"
        "    return session.execute(sa_select(User).where(User.id == user_id)).scalars().first()\n",
        "session.get(User, user_id)",
    ),
    "execute-scalar": (
        "def f(session: SASession):\n"
        "    return session.execute(sa_select(Account).where(Account.id == 1)).scalar()\n",
        "session.get(Account, 1)",
    ),
    "session-scalar": (
        "def f(session: SASession, key: int):\n"
        "    return session.scalar(sa_select(Account).where(Account.id == key))\n",
        "session.get(Account, key)",
    ),
    "exec-sqlalchemy-select-scalars": (
        "def f(session: Session):\n"
        "    return session.exec(sa_select(User).where(User.id == 1)).scalars().first()\n",
        "session.get(User, 1)",
    ),
    "legacy-query-filter": (
        "def f(session: SASession, user_id: int):\n"
        "    return session.query(User).filter(User.id == user_id).first()\n",
        "session.get(User, user_id)",
    ),
    "legacy-query-filter-by": (
        "def f(session: Session):\n"
        "    return session.query(Account).filter_by(id=7).one_or_none()\n",
        "session.get(Account, 7)",
    ),
    "with-session-block": (
        "def f(engine, user_id):\n"
        "    with Session(engine) as s:\n"
        "        return s.exec(select(User).where(User.id == user_id)).first()\n",
        "s.get(User, user_id)",
    ),
    "dependency-alias": (
        "def f(session: SessionDep, user_id: int):\n"
        "    return session.exec(select(User).where(User.id == user_id)).first()\n",
        "session.get(User, user_id)",
    ),
    "module-qualified-model": (
        "def f(session: Session, user_id: int):\n"
        "    return session.exec(select(models.User).where(models.User.id == user_id)).first()\n",
        "session.get(models.User, user_id)",
    ),
    "key-that-is-not-named-id": (
        "def f(session: Session, code: str):\n"
        "    return session.exec(select(Ticket).where(Ticket.code == code)).first()\n",
        "session.get(Ticket, code)",
    ),
    "composite-key-in-mapper-order": (
        "def f(session: Session, u: int, t: int):\n"
        "    stmt = select(Membership).where(Membership.user_id == u, Membership.team_id == t)\n"
        "    return session.exec(select(Membership).where(\n"
        "        Membership.user_id == u, Membership.team_id == t\n"
        "    )).first()\n",
        "session.get(Membership, (t, u))",
    ),
    "composite-key-and": (
        "def f(session: Session, u: int, t: int):\n"
        "    return session.exec(\n"
        "        select(Membership).where(and_(Membership.team_id == t, Membership.user_id == u))\n"
        "    ).first()\n",
        "session.get(Membership, (t, u))",
    ),
    "composite-key-chained-where": (
        "def f(session: Session, u: int, t: int):\n"
        "    q = select(Membership).where(Membership.user_id == u).where(Membership.team_id == t)\n"
        "    return session.exec(\n"
        "        select(Membership).where(Membership.user_id == u).where(Membership.team_id == t)\n"
        "    ).first()\n",
        "session.get(Membership, (t, u))",
    ),
    "composite-key-version-dependent-order": (
        "def f(session: SASession, n: int, t: int):\n"
        "    return session.scalars(sa_select(Doc).filter_by(tenant=t, number=n)).first()\n",
        'session.get(Doc, {"tenant": t, "number": n})',
    ),
    "with-for-update": (
        "def f(session: Session):\n"
        "    return session.exec(select(User).where(User.id == 1).with_for_update()).first()\n",
        "session.get(User, 1, with_for_update=True)",
    ),
    "with-for-update-flags": (
        "def f(session: Session):\n"
        "    return session.exec(\n"
        "        select(User).with_for_update(nowait=True).where(User.id == 1)\n"
        "    ).first()\n",
        'session.get(User, 1, with_for_update={"nowait": True})',
    ),
    "async-exec": (
        "async def f(session: AsyncSession, user_id: int):\n"
        "    return (await session.exec(select(User).where(User.id == user_id))).first()\n",
        "return await session.get(User, user_id)",
    ),
    "async-attribute-of-result": (
        "async def f(session: AsyncSession, user_id: int):\n"
        "    return (await session.exec(select(User).where(User.id == user_id))).first().email\n",
        "return (await session.get(User, user_id)).email",
    ),
    "async-scalar": (
        "async def f(session: AsyncSession, user_id: int):\n"
        "    return await session.scalar(select(User).where(User.id == user_id))\n",
        "return await session.get(User, user_id)",
    ),
    "async-held-result": (
        "async def f(session: AsyncSession, user_id: int):\n"
        "    result = await session.execute(select(User).where(User.id == user_id))\n"
        "    return result.scalar_one_or_none()\n",
        "    result = await session.get(User, user_id)\n    return result\n",
    ),
    "async-held-exec-result": (
        "async def f(session: AsyncSession, user_id: int):\n"
        "    result = await session.exec(select(User).where(User.id == user_id))\n"
        "    return result.first().email\n",
        "    result = await session.get(User, user_id)\n    return result.email\n",
    ),
    "async-held-result-scalars": (
        "async def f(session: AsyncSession, user_id: int):\n"
        "    result = await session.execute(sa_select(User).where(User.id == user_id))\n"
        "    return result.scalars().first()\n",
        "    result = await session.get(User, user_id)\n    return result\n",
    ),
    "async-execute": (
        "async def f(session: AsyncSession, user_id: int):\n"
        "    result = await session.execute(select(User).where(User.id == user_id))\n"
        "    return (await session.execute(select(User).where(User.id == user_id)))"
        ".scalar_one_or_none()\n",
        "return await session.get(User, user_id)",
    ),
}


@pytest.mark.parametrize(("body", "expected"), FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged_and_fixed(index: ProjectIndex, body: str, expected: str) -> None:
    code = _snippet(body)
    (diagnostic,) = check(code, SELECT, index=index)
    assert diagnostic.code == "GET001"
    assert diagnostic.fix is not None
    assert diagnostic.fix.applicability is Applicability.UNSAFE
    fixed = fix(code, SELECT, unsafe=True, index=index)
    assert expected in fixed
    assert fix(code, SELECT, index=index) == code  # unsafe: not applied without the flag


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "def f(session: Session, user_id: int):\n"
            "    return session.exec(select(User).where(User.id == user_id)).one()\n",
            "session.get_one(User, user_id)",
        ),
        (
            "def f(session: SASession):\n"
            "    return session.execute(sa_select(Account).filter_by(id=1)).scalar_one()\n",
            "session.get_one(Account, 1)",
        ),
        (
            "def f(session: Session):\n    return session.query(User).filter(User.id == 1).one()\n",
            "session.get_one(User, 1)",
        ),
    ],
    ids=["exec-one", "execute-scalar-one", "query-one"],
)
def test_one_becomes_get_one_from_sqlalchemy_2_0_22(
    index: ProjectIndex, body: str, expected: str
) -> None:
    code = _snippet(body)
    assert check(code, SELECT, index=index) == []
    assert len(check(code, SELECT, index=index, settings=GET_ONE)) == 1
    assert expected in fix(code, SELECT, unsafe=True, index=index, settings=GET_ONE)


def test_legacy_query_get_has_a_safe_fix(index: ProjectIndex) -> None:
    code = _snippet("def f(session: SASession, key):\n    return session.query(User).get(key)\n")
    (diagnostic,) = check(code, SELECT, index=index)
    assert diagnostic.message == "`Query.get()` is deprecated; use `Session.get()`"
    assert diagnostic.fix is not None and diagnostic.fix.applicability is Applicability.SAFE
    assert "return session.get(User, key)" in fix(code, SELECT, index=index)
    old = RuleSettings(sqlalchemy_version=(1, 3))
    assert check(code, SELECT, index=index, settings=old) == []


NOT_FLAGGED = {
    "partial-composite-key": """
        def f(session: Session, u: int):
            return session.exec(select(Membership).where(Membership.user_id == u)).first()
        """,
    "id-that-is-not-the-key": """
        def f(session: Session):
            return session.exec(select(Ticket).where(Ticket.id == 1)).first()
        """,
    "extra-condition": """
        def f(session: Session, e: str):
            return session.exec(select(User).where(User.id == 1, User.email == e)).first()
        """,
    "extra-where": """
        def f(session: Session, e: str):
            return session.exec(select(User).where(User.id == 1).where(User.email == e)).first()
        """,
    "extra-filter-by": """
        def f(session: Session, e: str):
            return session.exec(select(User).filter_by(id=1, email=e)).first()
        """,
    "key-twice": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == 1, User.id == 2)).first()
        """,
    "join": """
        def f(session: Session):
            return session.exec(select(User).join(Ticket).where(User.id == 1)).first()
        """,
    "order-by": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == 1).order_by(User.email)).first()
        """,
    "limit": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == 1).limit(1)).first()
        """,
    "loader-options": """
        def f(session: Session):
            return session.exec(
                select(User).options(selectinload(User.team)).where(User.id == 1)
            ).first()
        """,
    "execution-options": """
        def f(session: Session):
            return session.exec(
                select(User).where(User.id == 1).execution_options(populate_existing=True)
            ).first()
        """,
    "all": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == 1)).all()
        """,
    "unknown-model": """
        from elsewhere import Thing
        def f(session: Session):
            return session.exec(select(Thing).where(Thing.id == 1)).first()
        """,
    "non-table-model": """
        def f(session: Session):
            return session.exec(select(UserRead).where(UserRead.id == 1)).first()
        """,
    "execute-first-is-a-row": """
        def f(session: Session):
            return session.execute(select(User).where(User.id == 1)).first()
        """,
    "exec-of-sqlalchemy-select-is-a-row": """
        def f(session: Session):
            return session.exec(sa_select(User).where(User.id == 1)).first()
        """,
    "scalar-one-or-none-on-a-scalar-result": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == 1)).scalar_one_or_none()
        """,
    "compared-with-none": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == None)).first()
        """,
    "filter-by-none": """
        def f(session: Session):
            return session.exec(select(User).filter_by(id=None)).first()
        """,
    "column-against-column": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == User.team_id)).first()
        """,
    "another-models-column": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == Ticket.id)).first()
        """,
    "subquery-of-another-model": """
        def f(session: Session):
            return session.exec(
                select(User).where(User.id == select(Ticket.id).scalar_subquery())
            ).first()
        """,
    "not-equal": """
        def f(session: Session):
            return session.exec(select(User).where(User.id != 1)).first()
        """,
    "in": """
        def f(session: Session):
            return session.exec(select(User).where(User.id.in_([1]))).first()
        """,
    "statement-reassigned-on-a-path": """
        def f(session: Session, e: str | None):
            stmt = select(User).where(User.id == 1)
            if e:
                stmt = select(User).where(User.email == e)
            return session.exec(stmt).first()
        """,
    "statement-refined-in-place": """
        def f(session: Session, e: str):
            stmt = select(User).where(User.id == 1)
            stmt = stmt.where(User.email == e)
            return session.exec(stmt).first()
        """,
    "statement-parameter": """
        def f(session: Session, stmt):
            return session.exec(stmt).first()
        """,
    "result-in-a-variable": """
        def f(session: Session):
            results = session.exec(select(User).where(User.id == 1))
            return results.first()
        """,
    "unknown-receiver": """
        def f(db, user_id):
            return db.exec(select(User).where(User.id == user_id)).first()
        """,
    "one-before-2.0.22": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == 1)).one()
        """,
    "async-not-awaited": """
        def f(session: AsyncSession):
            return session.exec(select(User).where(User.id == 1)).first()
        """,
    "async-held-result-used-twice": """
        async def f(session: AsyncSession):
            result = await session.execute(select(User).where(User.id == 1))
            print(result)
            return result.scalar_one_or_none()
        """,
    "async-held-result-reassigned": """
        async def f(session: AsyncSession, again: bool):
            result = await session.execute(select(User).where(User.id == 1))
            if again:
                result = await session.execute(select(User).where(User.id == 2))
            return result.scalar_one_or_none()
        """,
    "sync-held-result": """
        def f(session: Session):
            results = session.exec(select(User).where(User.id == 1))
            return results.first()
        """,
    "sync-awaited": """
        async def f(session: Session):
            return (await session.exec(select(User).where(User.id == 1))).first()
        """,
    "query-with-options": """
        def f(session: Session):
            return session.query(User).options(selectinload(User.team)).filter(User.id == 1).first()
        """,
    "query-get-of-a-column": """
        def f(session: Session):
            return session.query(User.id).get(1)
        """,
    "query-get-of-unknown-class": """
        from elsewhere import Thing
        def f(session: Session):
            return session.query(Thing).get(1)
        """,
    "query-get-after-filter": """
        def f(session: Session):
            return session.query(User).filter(User.email == "x").get(1)
        """,
    "two-entities": """
        def f(session: Session):
            return session.exec(select(User, Ticket).where(User.id == 1)).first()
        """,
    "column-select": """
        def f(session: Session):
            return session.exec(select(User.id).where(User.id == 1)).first()
        """,
    "shadowed-model": """
        def f(session: Session, User):
            return session.exec(select(User).where(User.id == 1)).first()
        """,
    "exec-with-params": """
        def f(session: Session):
            return session.exec(select(User).where(User.id == 1), params={}).first()
        """,
    "other-exec": """
        class Runner:
            def exec(self, stmt): ...
        def f(runner: Runner):
            return runner.exec(select(User).where(User.id == 1)).first()
        """,
    "get-on-a-dict": """
        def f(session: Session, data: dict):
            return data.get(1)
        """,
}


@pytest.mark.parametrize("body", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_not_flagged(index: ProjectIndex, body: str) -> None:
    assert check(_snippet(body), SELECT, index=index) == []


def test_not_flagged_without_the_index() -> None:
    body = FLAGGED["exec-first"][0]
    assert check(_snippet(body), SELECT) == []


def test_message_position_and_fix_title(index: ProjectIndex) -> None:
    (diagnostic,) = check(_snippet(FLAGGED["exec-first"][0]), SELECT, index=index)
    assert diagnostic.message == (
        "`User` is loaded by its primary key with a query; use `session.get()`"
    )
    assert (diagnostic.start.row, diagnostic.start.column) == (11, 12)
    assert diagnostic.end.column == 72
    assert diagnostic.fix is not None and diagnostic.fix.message == "Use `session.get()`"


@pytest.mark.parametrize(
    "body",
    [
        "def f(session: Session, user_id: int):\n"
        "    statement = select(User).where(User.id == user_id)\n"
        "    return session.exec(statement).first()\n",
        "statement = select(Account).filter_by(id=1)\n"
        "def f(session: SASession):\n"
        "    return 1\n"
        "with SASession() as s:\n"
        "    found = s.scalars(statement).one_or_none()\n",
    ],
    ids=["in-a-function", "at-module-level"],
)
def test_statement_in_a_variable_is_reported_without_fix(index: ProjectIndex, body: str) -> None:
    (diagnostic,) = check(_snippet(body), SELECT, index=index)
    assert diagnostic.code == "GET001" and diagnostic.fix is None


def test_comment_inside_the_query_means_no_fix(index: ProjectIndex) -> None:
    code = _snippet(
        "def f(session: Session, user_id: int):\n"
        "    return session.exec(\n"
        "        select(User)  # the user\n"
        "        .where(User.id == user_id)\n"
        "    ).first()\n"
    )
    (diagnostic,) = check(code, SELECT, index=index)
    assert diagnostic.fix is None


def test_comment_inside_a_kept_value_keeps_the_fix(index: ProjectIndex) -> None:
    code = _snippet(
        "def f(session: Session, ids: list):\n"
        "    return session.exec(select(User).where(User.id == ids[\n"
        "        0  # the first\n"
        "    ])).first()\n"
    )
    assert "# the first" in fix(code, SELECT, unsafe=True, index=index)


# --- the fix against a database ------------------------------------------------------------

RUNTIME_MODELS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = ""


class Membership(SQLModel, table=True):
    team_id: int = Field(primary_key=True)
    user_id: int = Field(primary_key=True)
    role: str = "member"


class Ticket(SQLModel, table=True):
    id: int = 0
    code: str = Field(primary_key=True)


class Base(DeclarativeBase):
    pass


class Tenanted:
    tenant: Mapped[int] = mapped_column(primary_key=True)


class Doc(Tenanted, Base):
    __tablename__ = "doc"
    number: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(default="")
"""

RUNTIME_QUERIES = """
from sqlalchemy import and_, select as sa_select
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import Doc, Membership, Ticket, User


def lookups(session: Session, legacy: SASession):
    return [
        session.exec(select(User).where(User.id == 1)).first(),
        session.exec(select(User).filter_by(id=2)).one_or_none(),
        session.exec(select(User).where(User.id == 99)).first(),
        session.scalars(select(User).where(2 == User.id)).first(),
        session.execute(select(User).where(User.id == 1)).scalar_one_or_none(),
        session.execute(sa_select(User).where(User.id == 2)).scalars().first(),
        session.scalar(sa_select(User).where(User.id == 1)),
        session.exec(select(User).where(User.id == 1)).one(),
        session.exec(select(User).where(User.id == 2).with_for_update()).first(),
        session.exec(
            select(Membership).where(and_(Membership.user_id == 2, Membership.team_id == 1))
        ).first(),
        session.exec(select(Ticket).where(Ticket.code == "T-2")).first(),
        session.query(User).filter(User.id == 2).first(),
        session.query(User).get(1),
        legacy.scalars(sa_select(Doc).filter_by(number=5, tenant=9)).first(),
        legacy.execute(sa_select(Doc).where(Doc.tenant == 9, Doc.number == 6)).scalar(),
    ]


async def async_lookups(session: AsyncSession):
    return [
        (await session.exec(select(User).where(User.id == 1))).first(),
        await session.scalar(select(User).where(User.id == 2)),
        (await session.execute(select(User).where(User.id == 2))).scalar_one_or_none(),
        (await session.exec(select(User).where(User.id == 1))).first().email,
        await held_result(session, 1),
        await held_exec_result(session, 2),
    ]


async def held_result(session: AsyncSession, key: int):
    result = await session.execute(select(User).where(User.id == key))
    return result.scalar_one()


async def held_exec_result(session: AsyncSession, key: int):
    result = await session.exec(select(User).where(User.id == key))
    return result.first()
"""

RUNTIME_DRIVER = """
import asyncio
import warnings

from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

import queries
import queries_fixed
from models import Base, Doc, Membership, Ticket, User

warnings.simplefilter("ignore")
engine = create_engine("sqlite:///db.sqlite")
SQLModel.metadata.create_all(engine)
Base.metadata.create_all(engine)
with Session(engine) as session:
    session.add_all([
        User(id=1, email="a@x"), User(id=2, email="b@x"),
        Membership(team_id=1, user_id=2), Membership(team_id=2, user_id=1),
        Ticket(id=1, code="T-1"), Ticket(id=2, code="T-2"),
    ])
    session.commit()
with SASession(engine) as session:
    session.add_all([Doc(tenant=9, number=5, title="five"), Doc(tenant=9, number=6)])
    session.commit()

with Session(engine) as session, SASession(engine) as legacy:
    original = queries.lookups(session, legacy)
    fixed = queries_fixed.lookups(session, legacy)
    assert len(original) == len(fixed) == 15
    for before, after in zip(original, fixed):
        assert before is after, (before, after)
    print("sync", [getattr(o, "id", getattr(o, "number", None)) for o in original])


async def main():
    async_engine = create_async_engine("sqlite+aiosqlite:///db.sqlite")
    async with AsyncSession(async_engine) as session:
        original = await queries.async_lookups(session)
        fixed = await queries_fixed.async_lookups(session)
        assert original == fixed and original[0] is fixed[0], (original, fixed)
        print("async", [getattr(o, "id", o) for o in original])
    await async_engine.dispose()


asyncio.run(main())
"""


def test_fixed_lookups_return_the_same_objects_from_sqlite(tmp_path: Path) -> None:
    paths = _write(tmp_path, {"models.py": RUNTIME_MODELS, "queries.py": RUNTIME_QUERIES})
    index = build_index(paths, [tmp_path])
    settings = RuleSettings(sqlalchemy_version=(2, 1))
    fixed = fix(
        RUNTIME_QUERIES, SELECT, unsafe=True, index=index, module_name="queries", settings=settings
    )
    # 14 + 1 synchronous lookups (`.one()` becomes `get_one`) and 5 + 1 asynchronous ones.
    assert fixed.count(".get(") == 19 and fixed.count(".get_one(") == 2
    assert 'legacy.get(Doc, {"number": 5, "tenant": 9})' in fixed
    assert "(await session.get(User, 1)).email" in fixed
    (tmp_path / "queries_fixed.py").write_text(fixed)
    (tmp_path / "driver.py").write_text(RUNTIME_DRIVER)
    run = subprocess.run(
        [sys.executable, "driver.py"], cwd=tmp_path, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "sync [1, 2, None, 2, 1, 2, 1, 1, 2, None, 2, 2, 1, 5, 6]",
        "async [1, 2, 2, 'a@x', 1, 2]",
    ]
