"""Shapes of real code around owned sessions: each look-alike of a reported form that works
is not reported, and runs against SQLite without an error."""

import textwrap

import pytest

from tests.checks.detach_models import index
from tests.checks.harness import check
from tests.checks.test_detach_sqlite import SETUP, run

RULES = ["DETACH001", "DETACH002", "DETACH003", "SCOPE001"]

# name -> (program, what it prints)
WORKING = {
    "parameter-refreshed-before-the-return": (
        """
        def create(plain: Plain) -> Plain:
            with Session(engine) as s:
                s.add(plain)
                s.commit()
                s.refresh(plain)
                return plain

        print(create(Plain(email="new@x.io")).email)
        """,
        "new@x.io",
    ),
    "parameter-in-a-session-that-does-not-expire": (
        """
        def create(plain: Plain) -> Plain:
            with Session(engine, expire_on_commit=False) as s:
                s.add(plain)
                s.commit()
                return plain

        print(create(Plain(email="new@x.io")).email)
        """,
        "new@x.io",
    ),
    "parameter-read-inside-the-block": (
        """
        def create(plain: Plain):
            with Session(engine) as s:
                s.add(plain)
                s.commit()
                print(plain.email)

        create(Plain(email="new@x.io"))
        """,
        "new@x.io",
    ),
    "parameter-rebound-before-the-add": (
        """
        def create(plain: Plain):
            plain = Plain(email=plain.email)
            with Session(engine, expire_on_commit=False) as s:
                s.add(plain)
                s.commit()
            return plain

        print(create(Plain(email="new@x.io")).email)
        """,
        "new@x.io",
    ),
}


@pytest.mark.parametrize("name", WORKING)
def test_working_look_alikes_not_reported_and_run(tmp_path, name):
    source, printed = WORKING[name]
    program = SETUP + textwrap.dedent(source)
    assert check(program, RULES, index=index()) == []
    result = run(tmp_path, program)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == printed


def test_parameter_added_and_returned_is_detach002():
    program = SETUP + textwrap.dedent(
        """
        def create(user: User) -> User:
            with Session(engine) as s:
                s.add(user)
                s.commit()
                return user
        """
    )
    (diagnostic,) = check(program, RULES, index=index())
    assert diagnostic.code == "DETACH002"
    assert "`s.commit()` expired it" in diagnostic.message
