"""SCOPE001: reads after the session closed, and reads that need IO inside async blocks."""

import textwrap

import pytest

from tests.checks.detach_models import index
from tests.checks.harness import check, codes, fix

SELECT = ["SCOPE001"]
HEADER = """
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Plain, Team, User
"""


def found(body: str) -> list[str]:
    return codes(HEADER + textwrap.dedent(body), SELECT, index=index())


def fixed(body: str) -> str:
    return fix(HEADER + textwrap.dedent(body), SELECT, index=index())[len(HEADER) :]


REPORTED = {
    "after-commit": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
            print(user.email)
        """,
    "module-level-script": """
        with Session(engine) as s:
            hero = s.exec(select(Plain).where(Plain.id == 1)).one()
            s.commit()
        print(hero.email)
        """,
    "lazy-relationship": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
            return user.team
        """,
    "getattr": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.rollback()
            return getattr(user, "email")
        """,
    "begin-block": """
        def f(engine):
            with Session(engine) as s, s.begin():
                user = Plain(email="a")
                s.add(user)
            return user.id
        """,
    "loop-element": """
        def f(engine):
            with Session(engine) as s:
                users = s.exec(select(User)).all()
            for user in users:
                print(user.team)
        """,
    "async-read-after-commit-inside": """
        async def f(engine):
            async with AsyncSession(engine) as s:
                user = await s.get(Plain, 1)
                await s.commit()
                return user.email
        """,
    "async-lazy-relationship-inside": """
        async def f(engine):
            async with AsyncSession(engine) as s:
                user = (await s.exec(select(User))).first()
                return user.team
        """,
    "async-after-close": """
        async def f(engine):
            async with AsyncSession(engine) as s:
                result = await s.exec(select(Plain))
                user = result.one()
                await s.commit()
            return user.email
        """,
}

NOT_REPORTED = {
    "loaded-column-read-only": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
            return user.email
        """,
    "read-inside-block": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
                s.commit()
                return user.email, user.team
        """,
    "expire-on-commit-false": """
        def f(engine):
            with Session(engine, expire_on_commit=False) as s:
                user = s.get(Plain, 1)
                s.commit()
            return user.email
        """,
    "refreshed": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
                s.refresh(user)
            return user.email
        """,
    "relationship-touched-inside": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
                print(user.team)
            return user.team
        """,
    "selectinload": """
        def f(engine):
            with Session(engine) as s:
                user = s.exec(select(User).options(selectinload(User.team))).one()
            return user.team
        """,
    "reattached": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
            with Session(engine) as s2:
                s2.add(user)
                return user.email
        """,
    "merged": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
            with Session(engine) as s2:
                s2.merge(user)
                return user.email
        """,
    "passed-on-first": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
            merge_somewhere(user)
            return user.email
        """,
    "transient": """
        def f(engine):
            with Session(engine) as s:
                user = Plain(email="a")
                s.add(user)
            return user.email
        """,
    "parameter-session": """
        def f(session: Session):
            user = session.get(Plain, 1)
            session.commit()
            return user.email
        """,
    "async-refreshed": """
        async def f(engine):
            async with AsyncSession(engine) as s:
                user = await s.get(Plain, 1)
                await s.commit()
                await s.refresh(user)
                return user.email
        """,
    "async-expire-on-commit-false": """
        async def f(engine):
            async with AsyncSession(engine, expire_on_commit=False) as s:
                user = await s.get(Plain, 1)
                await s.commit()
            return user.email
        """,
    "method-call": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
            return user.model_dump()
        """,
}


@pytest.mark.parametrize("body", REPORTED.values(), ids=REPORTED.keys())
def test_reported(body):
    assert found(body) == ["SCOPE001"]


@pytest.mark.parametrize("body", NOT_REPORTED.values(), ids=NOT_REPORTED.keys())
def test_not_reported(body):
    assert found(body) == []


def test_fix_moves_the_following_statements_into_the_block():
    body = """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
            name = "x"
            # the read
            if name:
                print(user.email)
            else:
                pass
            return name
        """
    assert fixed(body) == textwrap.dedent(
        """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
                name = "x"
            # the read
                if name:
                    print(user.email)
                else:
                    pass
            return name
        """
    )


def test_fix_keeps_multiline_strings_and_brackets():
    body = '''
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
            print("""a
        b""", user.team,
              1)
        '''
    assert fixed(body) == textwrap.dedent(
        '''
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
                print("""a
        b""", user.team,
              1)
        '''
    )


@pytest.mark.parametrize(
    "name", ["begin-block", "async-after-close", "async-read-after-commit-inside"]
)
def test_no_move_where_it_is_not_a_pure_move(name):
    (diagnostic,) = check(HEADER + textwrap.dedent(REPORTED[name]), SELECT, index=index())
    assert diagnostic.fix is None


def test_messages():
    (after,) = check(HEADER + textwrap.dedent(REPORTED["after-commit"]), SELECT, index=index())
    assert after.message == (
        "`email` is read after `s` closed, and `s.commit()` had expired the instance: "
        "this raises `DetachedInstanceError`"
    )
    assert after.fix is not None and after.fix.applicability.value == "safe"
    (inside,) = check(
        HEADER + textwrap.dedent(REPORTED["async-read-after-commit-inside"]), SELECT, index=index()
    )
    assert "MissingGreenlet" in inside.message
