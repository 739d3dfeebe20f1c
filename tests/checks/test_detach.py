"""DETACH001-003: which returns are reported, and the fixes."""

import textwrap

import pytest

from tests.checks.detach_models import index
from tests.checks.harness import check, codes, fix

SELECT = ["DETACH001", "DETACH002", "DETACH003"]
HEADER = """
from typing import Annotated, Optional

from fastapi import Depends
from sqlalchemy.orm import selectinload, sessionmaker
from sqlmodel import Session, select

from app.models import Plain, Team, User, UserRead
"""


def found(body: str) -> list[str]:
    return codes(HEADER + textwrap.dedent(body), SELECT, index=index())


# Each scenario: a program and the code reported on it; the leading numbers only order them.
REPORTED = {
    "2-get-commit": (
        """
        def f(engine, user_id):
            with Session(engine) as s:
                user = s.get(User, user_id)
                s.commit()
                return user
        """,
        "DETACH002",
    ),
    "3-modify-commit-plain-model": (
        """
        def f(engine):
            with Session(engine) as s:
                user = s.exec(select(Plain).where(Plain.email == "a")).one()
                user.email = "b"
                s.commit()
                return user
        """,
        "DETACH002",
    ),
    "5-add-commit": (
        """
        def f(engine):
            with Session(engine) as s:
                user = User(email="a")
                s.add(user)
                s.commit()
            return user
        """,
        "DETACH002",
    ),
    "6-refresh-then-commit": (
        """
        def f(engine, user):
            with Session(engine) as s:
                u = s.get(Plain, 1)
                s.refresh(u)
                s.commit()
                return u
        """,
        "DETACH002",
    ),
    "14-begin-item": (
        """
        def f(engine):
            with Session(engine) as s, s.begin():
                return s.get(Plain, 1)
        """,
        "DETACH002",
    ),
    "15-sessionmaker-begin": (
        """
        SessionLocal = sessionmaker(bind=engine, class_=Session)
        def f():
            with SessionLocal.begin() as s:
                return s.get(Plain, 1)
        """,
        "DETACH002",
    ),
    "inner-begin": (
        """
        def f(engine):
            with Session(engine) as s:
                with s.begin():
                    user = s.get(Plain, 1)
                return user
        """,
        "DETACH002",
    ),
    "16-rollback": (
        """
        def f(engine):
            with Session(engine, expire_on_commit=False) as s:
                user = s.get(Plain, 1)
                s.rollback()
                return user
        """,
        "DETACH002",
    ),
    "expire": (
        """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.expire(user)
                return user
        """,
        "DETACH002",
    ),
    "19-manual-commit-close": (
        """
        def f(engine):
            s = Session(engine)
            user = s.get(Plain, 1)
            s.commit()
            s.close()
            return user
        """,
        "DETACH002",
    ),
    "try-finally-close": (
        """
        def f(engine):
            s = Session(engine)
            try:
                user = s.get(Plain, 1)
                s.commit()
                return user
            finally:
                s.close()
        """,
        "DETACH002",
    ),
    "1-get-lazy-relationship": (
        """
        def f(engine):
            with Session(engine) as s:
                return s.get(User, 1)
        """,
        "DETACH001",
    ),
    "7-expire-on-commit-false-relationship": (
        """
        def f(engine):
            with Session(engine, expire_on_commit=False) as s:
                user = User(email="a")
                s.add(user)
                s.commit()
                return user
        """,
        "DETACH001",
    ),
    "11-all-index": (
        """
        def f(engine):
            with Session(engine) as s:
                return s.exec(select(User)).all()[0]
        """,
        "DETACH001",
    ),
    "list": (
        """
        def f(engine) -> list[User]:
            with Session(engine) as s:
                return s.exec(select(User)).all()
        """,
        "DETACH001",
    ),
    "commit-on-one-path": (
        """
        def f(engine, save):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                if save:
                    s.commit()
                return user
        """,
        "DETACH001",
    ),
    "unknown-model": (
        """
        from app.other import Thing
        def f(engine):
            with Session(engine) as s:
                return s.get(Thing, 1)
        """,
        "DETACH001",
    ),
    "defined-under-elif": (
        """
        if TYPE_CHECKING:
            pass
        elif True:
            def f(engine):
                with Session(engine) as s:
                    user = s.get(Plain, 1)
                    s.commit()
                    return user
        """,
        "DETACH002",
    ),
    "4-refresh-relationship": (
        """
        def f(engine):
            with Session(engine) as s:
                user = User(email="a")
                s.add(user)
                s.commit()
                s.refresh(user)
                return user
        """,
        "DETACH003",
    ),
}

NOT_REPORTED = {
    "parameter-session": """
        def f(session: Session, user_id):
            user = session.get(User, user_id)
            session.commit()
            return user
        """,
    "unannotated-parameter": """
        def f(session, user_id):
            user = session.get(User, user_id)
            session.commit()
            return user
        """,
    "depends": """
        def f(user_id: int, session: Session = Depends(get_session)):
            user = session.get(User, user_id)
            session.commit()
            return user
        """,
    "annotated-depends": """
        def f(user_id: int, session: Annotated[Session, Depends(get_session)]):
            user = session.get(User, user_id)
            session.commit()
            return user
        """,
    "read-model": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
                s.commit()
                return UserRead.model_validate(user)
        """,
    "model-to-dict": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
                s.commit()
                return model_to_dict(user)
        """,
    "column": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
                s.commit()
                return user.email
        """,
    "expire-on-commit-false": """
        def f(engine):
            with Session(engine, expire_on_commit=False) as s:
                user = s.get(Plain, 1)
                s.commit()
                return user
        """,
    "sessionmaker-expire-on-commit-false": """
        SessionLocal = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
        def f():
            with SessionLocal() as s:
                user = s.get(Plain, 1)
                s.commit()
                return user
        """,
    "refresh-after-commit-no-relationships": """
        def f(engine):
            with Session(engine) as s:
                user = Plain(email="a")
                s.add(user)
                s.commit()
                s.refresh(user)
                return user
        """,
    "get-no-relationships": """
        def f(engine):
            with Session(engine) as s:
                return s.get(Plain, 1)
        """,
    "relationship-touched": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(User, 1)
                user.team
                return user
        """,
    "selectinload": """
        def f(engine):
            with Session(engine) as s:
                return s.exec(select(User).options(selectinload(User.team))).first()
        """,
    "17-never-closed": """
        def f(engine):
            s = Session(engine)
            user = s.get(User, 1)
            s.commit()
            return user
        """,
    "pending-never-flushed": """
        def f(engine):
            with Session(engine) as s:
                user = User(email="a")
                s.add(user)
                return user
        """,
    "expunge-before-commit": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.expunge(user)
                s.commit()
                return user
        """,
    "expunge-after-commit-plain-refresh": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
                s.refresh(user)
                return user
        """,
    "transient": """
        def f():
            return User(email="a")
        """,
    "rebound-after-commit": """
        def f(engine):
            with Session(engine) as s:
                user = s.get(Plain, 1)
                s.commit()
                user = Plain(email="x")
                return user
        """,
    "execute-row": """
        import sqlalchemy
        def f(engine):
            with Session(engine) as s:
                row = s.execute(sqlalchemy.select(Plain)).first()
                s.commit()
                return row
        """,
    "generator-inside-block": """
        def f(engine):
            with Session(engine) as s:
                for user in s.exec(select(User)):
                    yield user.email
        """,
}


@pytest.mark.parametrize(("body", "code"), REPORTED.values(), ids=REPORTED.keys())
def test_reported(body, code):
    assert found(body) == [code]


@pytest.mark.parametrize("body", NOT_REPORTED.values(), ids=NOT_REPORTED.keys())
def test_not_reported(body):
    assert found(body) == []


def converted(body: str) -> str:
    return fix(HEADER + textwrap.dedent(body), SELECT, unsafe=True, index=index())[len(HEADER) :]


def test_fix_returns_dict_and_changes_annotation():
    before = """
        def f(engine, user_id) -> Optional[Plain]:
            with Session(engine) as s:
                user = s.get(Plain, user_id)
                s.commit()
                return user
        """
    fixed = fix(HEADER + textwrap.dedent(before), SELECT, unsafe=True, index=index())
    assert "from sqlsafe.helpers import model_to_dict\n" in fixed
    assert "from typing import Any\n" in fixed
    assert fixed.endswith(
        textwrap.dedent(
            """
            def f(engine, user_id) -> Optional[dict[str, Any]]:
                with Session(engine) as s:
                    user = s.get(Plain, user_id)
                    s.commit()
                    return model_to_dict(user)
            """
        )
    )


def test_fix_lists_with_a_comprehension():
    before = """
        def f(engine) -> list["User"]:
            with Session(engine) as s:
                users = s.exec(select(User)).all()
                s.commit()
                return users
        """
    assert converted(before).endswith(
        textwrap.dedent(
            """
            def f(engine) -> list["dict[str, Any]"]:
                with Session(engine) as s:
                    users = s.exec(select(User)).all()
                    s.commit()
                    return [model_to_dict(item) for item in users]
            """
        )
    )


def test_fix_flushes_before_converting_inside_begin():
    before = """
        def f(engine):
            with Session(engine) as s, s.begin():
                user = Plain(email="a")
                s.add(user)
                return user
        """
    assert converted(before).endswith(
        textwrap.dedent(
            """
            def f(engine):
                with Session(engine) as s, s.begin():
                    user = Plain(email="a")
                    s.add(user)
                    s.flush()
                    return model_to_dict(user)
            """
        )
    )


def test_helpers_module_setting():
    from sqlsafe.selection import RuleSettings

    code = HEADER + textwrap.dedent(REPORTED["2-get-commit"][0])
    fixed = fix(
        code,
        SELECT,
        unsafe=True,
        index=index(),
        settings=RuleSettings(helpers_module="app.db_helpers"),
    )
    assert "from app.db_helpers import model_to_dict\n" in fixed


def test_no_fix_for_a_return_after_the_block():
    (diagnostic,) = check(
        HEADER + textwrap.dedent(REPORTED["5-add-commit"][0]), SELECT, index=index()
    )
    assert diagnostic.fix is None
    assert "too late to convert it" in diagnostic.message


def test_messages_say_why():
    (expired,) = check(
        HEADER + textwrap.dedent(REPORTED["14-begin-item"][0]), SELECT, index=index()
    )
    assert "the commit at the end of the `begin()` block expired it" in expired.message
    assert expired.severity.value == "error"
    (lazy,) = check(
        HEADER + textwrap.dedent(REPORTED["1-get-lazy-relationship"][0]), SELECT, index=index()
    )
    assert "`team` is not loaded" in lazy.message


def test_reported_at_the_returned_value():
    (diagnostic,) = check(
        HEADER + textwrap.dedent(REPORTED["2-get-commit"][0]), SELECT, index=index()
    )
    assert (diagnostic.start.row, diagnostic.start.column) == (14, 16)


def test_escaping_caller_blocks_conversion_and_offers_refresh():
    body = """
        def get_user(engine, user_id):
            with Session(engine) as s:
                user = s.get(Plain, user_id)
                s.commit()
                return user

        def caller(engine):
            user = get_user(engine, 1)
            send_mail(user)
        """
    (diagnostic,) = check(HEADER + textwrap.dedent(body), SELECT, index=index())
    assert "not converted to a dict" in diagnostic.message
    assert "`user` is passed to `send_mail()`" in diagnostic.message
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "safe"
    assert converted(body).startswith(
        textwrap.dedent(
            """
            def get_user(engine, user_id):
                with Session(engine) as s:
                    user = s.get(Plain, user_id)
                    s.commit()
                    if user is not None:
                        s.refresh(user)
                    return user
            """
        )
    )


def test_caller_reads_are_migrated():
    body = """
        def get_user(engine, user_id) -> Plain:
            with Session(engine) as s:
                user = s.exec(select(Plain).where(Plain.id == user_id)).one()
                s.commit()
                return user

        def greet(engine):
            user = get_user(engine, 1)
            if not user:
                return None
            name = getattr(user, "email", "?")
            return f"{user.email} {name} {get_user(engine, 2).id}"
        """
    assert converted(body).endswith(
        textwrap.dedent(
            """
            def greet(engine):
                user = get_user(engine, 1)
                if not user:
                    return None
                name = user.get("email", "?")
                return f"{user['email']} {name} {get_user(engine, 2)['id']}"
            """
        )
    )


def test_relationship_read_by_caller_blocks_conversion():
    body = """
        def get_user(engine, user_id):
            with Session(engine) as s:
                return s.get(User, user_id)

        def caller(engine):
            return get_user(engine, 1).team
        """
    (diagnostic,) = check(HEADER + textwrap.dedent(body), SELECT, index=index())
    assert diagnostic.code == "DETACH001"
    assert "reads a relationship" in diagnostic.message
    assert diagnostic.fix is None


def test_list_callers_iterate():
    body = """
        def all_users(engine):
            with Session(engine) as s:
                return s.exec(select(User)).all()

        def report(engine):
            users = all_users(engine)
            print(len(users), [u.email for u in users])
            for user in all_users(engine):
                print(user.id)
        """
    assert converted(body).endswith(
        textwrap.dedent(
            """
            def all_users(engine):
                with Session(engine) as s:
                    return [model_to_dict(item) for item in s.exec(select(User)).all()]

            def report(engine):
                users = all_users(engine)
                print(len(users), [u["email"] for u in users])
                for user in all_users(engine):
                    print(user["id"])
            """
        )
    )


ASYNC_HEADER = HEADER + "from sqlmodel.ext.asyncio.session import AsyncSession\n"


def test_async_expired_return_is_converted_with_run_sync():
    body = """
        async def get_user(engine, user_id) -> Plain:
            async with AsyncSession(engine) as s:
                user = (await s.exec(select(Plain).where(Plain.id == user_id))).one()
                await s.commit()
                return user

        async def caller(engine):
            user = await get_user(engine, 1)
            return user.email
        """
    code = ASYNC_HEADER + textwrap.dedent(body)
    assert codes(code, SELECT, index=index()) == ["DETACH002", "DETACH002"]
    assert fix(code, SELECT, unsafe=True, index=index()).endswith(
        textwrap.dedent(
            """
            async def get_user(engine, user_id) -> dict[str, Any]:
                async with AsyncSession(engine) as s:
                    user = (await s.exec(select(Plain).where(Plain.id == user_id))).one()
                    await s.commit()
                    return await s.run_sync(lambda _: model_to_dict(user))

            async def caller(engine):
                user = await get_user(engine, 1)
                return user["email"]
            """
        )
    )


def test_async_refresh_alternative_is_awaited():
    body = """
        async def get_user(engine):
            async with AsyncSession(engine) as s:
                user = (await s.exec(select(Plain))).one()
                await s.commit()
                return user

        async def caller(engine):
            keep(await get_user(engine))
        """
    fixed = fix(ASYNC_HEADER + textwrap.dedent(body), SELECT, index=index())
    assert "        await s.commit()\n        await s.refresh(user)\n        return user\n" in fixed


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            """
            async def f(engine):
                async with AsyncSession(engine) as s:
                    return await s.get(User, 1)
            """,
            "DETACH001",
        ),
        (
            """
            async def f(engine):
                async with AsyncSession(engine) as s, s.begin():
                    return await s.get(Plain, 1)
            """,
            "DETACH002",
        ),
        (
            """
            async def f(session: AsyncSession):
                user = await session.get(Plain, 1)
                await session.commit()
                return user
            """,
            None,
        ),
    ],
    ids=["lazy", "begin", "parameter"],
)
def test_async_reported(body, code):
    assert codes(ASYNC_HEADER + textwrap.dedent(body), SELECT, index=index()) == (
        [code] if code else []
    )
