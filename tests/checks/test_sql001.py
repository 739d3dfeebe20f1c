import subprocess
import sys
import textwrap

import pytest

from tests.checks.harness import check, codes, fix

SELECT = ["SQL001"]

FLAGGED = {
    "with-session": """
        from sqlmodel import Session, text
        def f(engine):
            with Session(engine) as session:
                return session.exec(text("select :x"), {"x": 1}).all()
        """,
    "annotated-param": """
        from sqlmodel import Session, text
        def f(session: Session, x: int):
            return session.exec(text("select :x"), {"x": x}).all()
        """,
    "annotated-dependency": """
        from typing import Annotated
        from fastapi import Depends
        from sqlmodel import Session, text
        def f(session: Annotated[Session, Depends(get_session)]):
            return session.exec(text("select 1"), {}).all()
        """,
    "optional-param": """
        import sqlmodel
        def f(session: sqlmodel.Session | None, stmt):
            return session.exec(stmt, {"id": 1})
        """,
    "async": """
        from sqlmodel.ext.asyncio.session import AsyncSession
        from sqlmodel import text
        async def f(engine):
            async with AsyncSession(engine) as session:
                return (await session.exec(text("select :x"), {"x": 1})).all()
        """,
    "sessionmaker-class": """
        from sqlalchemy.orm import sessionmaker
        from sqlmodel import Session, text
        SessionLocal = sessionmaker(bind=engine, class_=Session)
        def f():
            with SessionLocal() as session:
                session.exec(text("select :x"), {"x": 1})
        """,
    "assigned": """
        from sqlmodel import Session, text
        def f(engine):
            session = Session(engine)
            session.exec(text("select :x"), {"x": 1})
            session.close()
        """,
}

NOT_FLAGGED = {
    "params-keyword": """
        from sqlmodel import Session, text
        def f(session: Session):
            session.exec(text("select :x"), params={"x": 1})
        """,
    "execute": """
        from sqlmodel import Session, text
        def f(session: Session):
            session.execute(text("select :x"), {"x": 1})
        """,
    "not-a-session": """
        class Shell:
            def exec(self, cmd, env): ...
        def f(shell: Shell):
            shell.exec("ls", {"PATH": "/bin"})
        """,
    "unknown-receiver": """
        def f(session, stmt):
            session.exec(stmt, {"x": 1})
        """,
    "sqlalchemy-session-has-no-exec": """
        from sqlalchemy.orm import Session
        def f(session: Session, stmt):
            session.exec(stmt, {"x": 1})
        """,
    "shadowed-parameter": """
        from sqlmodel import Session, text
        def f(engine):
            with Session(engine) as session:
                def g(session):
                    session.exec("x", {})
        """,
}


@pytest.mark.parametrize("code", FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged(code):
    assert codes(code, SELECT) == ["SQL001"]


@pytest.mark.parametrize("code", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_not_flagged(code):
    assert codes(code, SELECT) == []


def test_position_and_fix():
    (diagnostic,) = check(FLAGGED["with-session"], SELECT)
    assert (diagnostic.start.row, diagnostic.start.column) == (5, 48)
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == "safe"
    assert 'session.exec(text("select :x"), params={"x": 1})' in fix(
        FLAGGED["with-session"], SELECT
    )


def test_three_positional_arguments_are_reported_without_fix():
    code = """
        from sqlmodel import Session
        def f(session: Session, stmt):
            session.exec(stmt, {"x": 1}, {"y": 2})
        """
    (diagnostic,) = check(code, SELECT)
    assert diagnostic.fix is None


def test_fixed_code_runs_against_sqlite(tmp_path):
    """The original raises TypeError; the fixed code returns the row."""
    program = textwrap.dedent(
        """
        from sqlmodel import Session, create_engine, text
        engine = create_engine("sqlite://")
        with Session(engine) as session:
            print(session.exec(text("select :x"), {"x": 41}).all())
        """
    )
    source = tmp_path / "prog.py"
    source.write_text(program)
    before = subprocess.run([sys.executable, source], capture_output=True, text=True)
    assert "TypeError" in before.stderr
    source.write_text(fix(program, SELECT))
    after = subprocess.run([sys.executable, source], capture_output=True, text=True)
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "[(41,)]"
