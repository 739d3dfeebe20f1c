import textwrap

import pytest

from tests.checks.harness import check, codes, fix
from tests.checks.test_row001 import FULL_HEADER, snippet

SELECT = ["ROW002"]

RUNTIME = {
    "unpack-one": (
        snippet(
            """
            def run(session: Session):
                (user,) = session.exec(select(User).where(User.id == 1)).one()
                return user
            """
        ),
        "ValueError: too many values to unpack",
        "User",
        False,
    ),
    "unpack-first-bare-tuple": (
        snippet(
            """
            def run(session: Session):
                user, = session.exec(select(User)).first()
                return user
            """
        ),
        "ValueError",
        "User",
        False,
    ),
    "unpack-list-target": (
        snippet(
            """
            def run(session: Session):
                [user] = session.exec(select(User)).one_or_none()
                return user
            """
        ),
        "ValueError",
        "User",
        False,
    ),
    "for-unpack": (
        snippet(
            """
            def run(session: Session):
                found = []
                for (user,) in session.exec(select(User)):
                    found.append(user)
                return found
            """
        ),
        "ValueError",
        "[User]",
        False,
    ),
    "comprehension-unpack": (
        snippet(
            """
            def run(session: Session):
                return [user for (user,) in session.exec(select(User)).all()]
            """
        ),
        "ValueError",
        "[User]",
        False,
    ),
    "loop-variable-indexed": (
        snippet(
            """
            def run(session: Session):
                found = []
                for row in session.exec(select(User)).all():
                    found.append(row[0])
                return found
            """
        ),
        "TypeError: 'User' object is not subscriptable",
        "[User]",
        False,
    ),
    "comprehension-indexed": (
        snippet(
            """
            def run(session: Session):
                return [row[0] for row in session.exec(select(User).order_by(User.id))]
            """
        ),
        "TypeError",
        "[User]",
        False,
    ),
    "list-element-indexed": (
        snippet(
            """
            def run(session: Session):
                rows = session.exec(select(User)).all()
                return rows[0][0]
            """
        ),
        "TypeError",
        "User",
        False,
    ),
    "unpack-helper": (
        snippet(
            """
            def run(session: Session):
                (user,) = session.exec(select(User)).first()
                return user
            """,
            "from sqlmodel import Session\nfrom reexports import select\nfrom models import User\n",
        ),
        "ValueError",
        "User",
        True,
    ),
    "for-unpack-helper": (
        snippet(
            """
            def run(session: Session):
                return [user for (user,) in session.exec(select(User)).all()]
            """,
            "from sqlmodel import Session\nfrom reexports import select\nfrom models import User\n",
        ),
        "ValueError",
        "[User]",
        True,
    ),
}

FIXED = {
    "unpack-one": "    user = session.exec(select(User).where(User.id == 1)).one()\n",
    "unpack-first-bare-tuple": "    user = session.exec(select(User)).first()\n",
    "unpack-list-target": "    user = session.exec(select(User)).one_or_none()\n",
    "for-unpack": "    for user in session.exec(select(User)):\n",
    "comprehension-unpack": "return [user for user in session.exec(select(User)).all()]\n",
    "loop-variable-indexed": "found.append(row)\n",
    "comprehension-indexed": "return [row for row in session.exec(select(User).order_by(",
    "list-element-indexed": "return rows[0]\n",
    "unpack-helper": "    user = query_one(session, select(User), User)\n",
    "for-unpack-helper": "return [user for user in query_all(session, select(User), User)]\n",
}

NOT_FLAGGED = {
    "execute-unpack": """
        def f(session: Session):
            (user,) = session.execute(select(User)).one()
        """,
    "execute-loop-unpack": """
        def f(session: Session):
            for (user,) in session.execute(select(User)):
                print(user)
        """,
    "sqlalchemy-select-loop": """
        def f(session: Session):
            for (user,) in session.exec(sqlalchemy.select(User)):
                print(user)
            return [row[0] for row in session.exec(sqlalchemy.select(User))]
        """,
    "two-columns": """
        def f(session: Session):
            (uid, email) = session.exec(select(User.id, User.email)).one()
            for (uid,) in session.exec(select(User.id, User.email)):
                print(uid)
        """,
    "model-attribute-in-loop": """
        def f(session: Session):
            for row in session.exec(select(User)).all():
                print(row.email)
        """,
    "text": """
        def f(session: Session):
            for (uid,) in session.exec(text("select id from user")):
                print(uid)
        """,
    "async-for": """
        async def f(session):
            async for (user,) in await session.stream(select(User)):
                print(user)
        """,
    "list-index-only": """
        def f(session: Session):
            rows = session.exec(select(User)).all()
            return rows[0]
        """,
    "statement-passed-in": """
        def f(session: Session, stmt):
            (user,) = session.exec(stmt).one()
            return [row[0] for row in session.exec(stmt)]
        """,
}


@pytest.mark.parametrize("name", RUNTIME)
def test_flagged_and_fixed(name):
    source, _, _, unsafe = RUNTIME[name]
    (diagnostic,) = check(source, SELECT)
    assert diagnostic.fix is not None
    assert diagnostic.fix.applicability.value == ("unsafe" if unsafe else "safe")
    assert FIXED[name] in fix(source, SELECT, unsafe=unsafe)


def test_helper_import_added():
    fixed = fix(RUNTIME["for-unpack-helper"][0], SELECT, unsafe=True)
    assert "from sqlsafe.helpers import query_all\n" in fixed


@pytest.mark.parametrize("code", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_correct_look_alikes_not_flagged(code):
    assert codes(FULL_HEADER + textwrap.dedent(code), ["ROW001", "ROW002"]) == []


def test_first_and_iteration_are_different_rules():
    code = snippet(
        """
        def run(session: Session):
            a = session.exec(select(User)).first()[0]
            b = [r[0] for r in session.exec(select(User))]
        """
    )
    assert codes(code, ["ROW001", "ROW002"]) == ["ROW001", "ROW002"]
