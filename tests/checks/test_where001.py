import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sqlsafe.index import ProjectIndex, build_index
from tests.checks.harness import check, codes, fix

SELECT = ["WHERE001"]

MODELS = """
from sqlalchemy import Column, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlmodel import Field, SQLModel


class Squad(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    gone: str | None = None
    active: bool = True


class Base(DeclarativeBase):
    pass


class Club(Base):
    __tablename__ = "club"
    id: Mapped[int] = mapped_column(primary_key=True)


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(default="")
    closed = Column(String, nullable=True)
    club_id: Mapped[int | None] = mapped_column(ForeignKey("club.id"))
    club: Mapped[Club | None] = relationship()
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> ProjectIndex:
    root = tmp_path_factory.mktemp("project")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "models.py").write_text(MODELS)
    return build_index([root / "app" / "__init__.py", root / "app" / "models.py"], [root])


HEADER = """
import sqlalchemy as sa
from sqlmodel import Session, col, or_, select
from app.models import Account, Squad
"""

# (body, the fixed line, the fix's applicability)
FLAGGED = {
    "is-none": (
        "stmt = select(Squad).where(Squad.gone is None)",
        "stmt = select(Squad).where(Squad.gone.is_(None))",
        "unsafe",
    ),
    "none-is-column": (
        "stmt = select(Squad).where(None is Squad.gone)",
        "stmt = select(Squad).where(Squad.gone.is_(None))",
        "unsafe",
    ),
    "is-not-none-through-col": (
        "stmt = select(Squad).filter(col(Squad.gone) is not None)",
        "stmt = select(Squad).filter(col(Squad.gone).is_not(None))",
        "unsafe",
    ),
    "is-true": (
        "stmt = select(Squad).where(Squad.active is True)",
        "stmt = select(Squad).where(Squad.active.is_(True))",
        "unsafe",
    ),
    "declarative-column": (
        "stmt = sa.select(Account).where(Account.closed is None)",
        "stmt = sa.select(Account).where(Account.closed.is_(None))",
        "unsafe",
    ),
    "core-table": (
        'logs = sa.table("logs", sa.column("run"))\nstmt = sa.delete(logs).where(logs.c.run is None)',
        "stmt = sa.delete(logs).where(logs.c.run.is_(None))",
        "unsafe",
    ),
    "model-table": (
        "stmt = sa.select(Squad).where(Squad.__table__.c.gone is not None)",
        "stmt = sa.select(Squad).where(Squad.__table__.c.gone.is_not(None))",
        "unsafe",
    ),
    "column-clause": (
        'stmt = sa.select(Squad).where(not sa.column("gone"))',
        'stmt = sa.select(Squad).where(sa.not_(sa.column("gone")))',
        "safe",
    ),
    "in": (
        "stmt = select(Squad).where(Squad.id in ids)",
        "stmt = select(Squad).where(Squad.id.in_(ids))",
        "unsafe",
    ),
    "in-tuple": (
        "stmt = select(Squad).where(Squad.id in (1, 2))",
        "stmt = select(Squad).where(Squad.id.in_((1, 2)))",
        "unsafe",
    ),
    "not-in-expression": (
        'stmt = select(Squad).having(sa.func.lower(Squad.name) not in ("a", "b"))',
        'stmt = select(Squad).having(sa.func.lower(Squad.name).not_in(("a", "b")))',
        "unsafe",
    ),
    "not-attribute": (
        "stmt = select(Squad).where(not Squad.active)",
        "stmt = select(Squad).where(sa.not_(Squad.active))",
        "unsafe",
    ),
    "not-that-raises": (
        "stmt = select(Squad).where(not (Squad.id > 3))",
        "stmt = select(Squad).where(sa.not_(Squad.id > 3))",
        "safe",
    ),
    "and-of-equalities": (
        'stmt = select(Squad).where(Squad.name == "a" and Squad.active == True)',
        'stmt = select(Squad).where(sa.and_(Squad.name == "a", Squad.active == True))',
        "unsafe",
    ),
    "or-that-raises": (
        'stmt = select(Squad).where(Squad.id > 1 or Squad.name.like("r%"))',
        'stmt = select(Squad).where(or_(Squad.id > 1, Squad.name.like("r%")))',
        "safe",
    ),
    "join-onclause": (
        "stmt = select(Squad).join(Account, Account.owner == Squad.name and Squad.active)",
        "stmt = select(Squad).join(Account, sa.and_(Account.owner == Squad.name, Squad.active))",
        "unsafe",
    ),
    "inside-or_": (
        "stmt = select(Squad).where(or_(Squad.gone is None, Squad.id == 1))",
        "stmt = select(Squad).where(or_(Squad.gone.is_(None), Squad.id == 1))",
        "unsafe",
    ),
    "beside-unpacked-conditions": (
        "stmt = select(Squad).where(*names, Squad.gone is None)",
        "stmt = select(Squad).where(*names, Squad.gone.is_(None))",
        "unsafe",
    ),
    "case-condition": (
        "stmt = select(sa.case((Squad.gone is None, 1), else_=0))",
        "stmt = select(sa.case((Squad.gone.is_(None), 1), else_=0))",
        "unsafe",
    ),
    "mixed-chain": (
        "stmt = select(Squad).where((Squad.id == 1 or Squad.id == 2) and Squad.active == True)",
        "stmt = select(Squad).where(sa.and_(or_(Squad.id == 1, Squad.id == 2), "
        "Squad.active == True))",
        "unsafe",
    ),
    "arithmetic-is-parenthesised": (
        "stmt = select(Squad).where(Squad.id + 1 in ids)",
        "stmt = select(Squad).where((Squad.id + 1).in_(ids))",
        "unsafe",
    ),
}

NOT_FLAGGED = {
    "instance-attribute": "if squad.gone is None:\n    pass",
    "outside-a-clause": "missing = Squad.gone is None",
    "instance-in-a-clause": "stmt = select(Squad).where(Squad.id == 1, squad.gone is None)",
    "sql-operators": (
        "stmt = select(Squad).where(Squad.gone.is_(None), Squad.id.in_(ids), "
        "sa.and_(Squad.active, sa.not_(Squad.gone == 'x')))"
    ),
    "equals-none": "stmt = select(Squad).where(Squad.gone == None)",
    "plain-values": "stmt = select(Squad).where(Squad.id == (ids and ids[0]), x is None)",
    "unknown-class": "stmt = select(Thing).where(Thing.gone is None)",
    "not-a-mapped-attribute": "stmt = select(Squad).where(Squad.model_config is None)",
    "str-join": "text = ', '.join(name for name in names if name is not None)",
    "join-target-only": "stmt = select(Squad).join(Account)",
    "case-value": "stmt = select(sa.case((Squad.id == 1, Squad.gone is None)))",
    "table-from-a-parameter": "stmt = sa.select(x).where(x.c.gone is None)",
    "table-not-only-from-table": (
        'logs = sa.table("logs") if x else squad\nstmt = sa.select(logs).where(logs.c.run is None)'
    ),
}


def _code(body: str) -> str:
    return HEADER + "def f(session, ids, squad, names, x):\n" + textwrap.indent(body, "    ")


@pytest.mark.parametrize(("body", "fixed", "safety"), FLAGGED.values(), ids=FLAGGED.keys())
def test_flagged_and_fixed(index, body, fixed, safety):
    (diagnostic,) = check(_code(body), SELECT, index=index)
    assert diagnostic.fix is not None and diagnostic.fix.applicability.value == safety
    after = fix(_code(body), SELECT, unsafe=True, index=index)
    assert fixed in [line.strip() for line in after.splitlines()]


@pytest.mark.parametrize("body", NOT_FLAGGED.values(), ids=NOT_FLAGGED.keys())
def test_not_flagged(index, body):
    assert codes(_code(body), SELECT, index=index) == []


def test_column_on_the_right_of_in_is_reported_without_fix(index):
    (diagnostic,) = check(
        _code('stmt = select(Squad).where("r" in Squad.name)'), SELECT, index=index
    )
    assert diagnostic.fix is None
    assert "NotImplementedError" in diagnostic.message


@pytest.mark.parametrize(
    "condition", ["Account.club is None", "Account.club in clubs", "not Account.club"]
)
def test_relationships_are_reported_without_fix(index, condition):
    """`.is_()` and `.in_()` raise `NotImplementedError` on a relationship; `not_()` of one
    compares its key columns (`club.id != account.club_id`), which is no NULL test."""
    (diagnostic,) = check(
        _code(f"stmt = sa.select(Account).where({condition})"), SELECT, index=index
    )
    assert diagnostic.fix is None


def test_a_shadowed_model_name_is_not_the_model(index):
    code = HEADER + "def f(Squad):\n    return select(Squad).where(Squad.gone is None)\n"
    assert codes(code, SELECT, index=index) == []


def test_the_import_is_added_when_missing(index):
    code = "from sqlmodel import select\nfrom app.models import Squad\n" + (
        "stmt = select(Squad).where(Squad.id > 1 and Squad.active)\n"
    )
    assert fix(code, SELECT, index=index) == (
        "from sqlmodel import select\nfrom app.models import Squad\n"
        "from sqlalchemy import and_\n"
        "stmt = select(Squad).where(and_(Squad.id > 1, Squad.active))\n"
    )


def test_no_fix_where_a_comment_would_be_lost(index):
    code = HEADER + (
        "stmt = select(Squad).where(\n    Squad.id > 1  # the new ones\n    and Squad.active\n)\n"
    )
    (diagnostic,) = check(code, SELECT, index=index)
    assert diagnostic.fix is None


@pytest.mark.parametrize(
    "imports",
    [
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy import and_\n",
        "def other():\n    from sqlalchemy import and_\n",
    ],
    ids=["type-checking-only", "in-another-function"],
)
def test_an_import_that_has_not_run_here_is_not_reused(index, imports):
    code = "from sqlmodel import select\nfrom app.models import Squad\n" + imports
    code += "def f():\n    return select(Squad).where(Squad.id > 1 and Squad.active)\n"
    (diagnostic,) = check(code, SELECT, index=index)
    assert diagnostic.fix is None


def test_an_import_in_the_function_is_reused(index):
    code = "from sqlmodel import select\nfrom app.models import Squad\n"
    code += "def f():\n    from sqlalchemy import and_\n"
    code += "    return select(Squad).where(Squad.id > 1 and Squad.active)\n"
    assert "select(Squad).where(and_(Squad.id > 1, Squad.active))" in fix(code, SELECT, index=index)


def test_no_fix_when_the_function_name_is_taken(index):
    code = "from sqlmodel import select\nfrom app.models import Squad\n" + (
        "def f(not_):\n    return select(Squad).where(not (Squad.id > 1))\n"
    )
    (diagnostic,) = check(code, SELECT, index=index)
    assert diagnostic.fix is None


# Each query holds one of the mistakes; the program prints what each returned (or raised),
# before and after `sqlsafe fix --unsafe-fixes`, on SQLite.
PROGRAM = (
    MODELS
    + """

from sqlalchemy import case, column, create_engine, table
from sqlmodel import Session, select

squads = table("squad", column("name"), column("gone"))

engine = create_engine("sqlite://")
SQLModel.metadata.create_all(engine)
Base.metadata.create_all(engine)

QUERIES = {
    "is None": lambda: select(Squad.name).where(Squad.gone is None),
    "is not None": lambda: select(Squad.name).where(Squad.gone is not None),
    "is True": lambda: select(Squad.name).where(Squad.active is True),
    "in": lambda: select(Squad.name).where(Squad.name in ["blue"]),
    "not in": lambda: select(Squad.name).where(Squad.name not in ["blue", "green"]),
    "not attribute": lambda: select(Squad.name).where(not Squad.active),
    "not comparison": lambda: select(Squad.name).where(not (Squad.id > 1)),
    "not equality": lambda: select(Squad.name).where(not (Squad.name == "red")),
    "in a column": lambda: select(Squad.name).where("r" in Squad.name),
    "and": lambda: select(Squad.name).where(Squad.active == True and Squad.gone == "y"),
    "or": lambda: select(Squad.name).where(Squad.id > 2 or Squad.name == "red"),
    "declarative": lambda: select(Account.owner).where(Account.closed is None),
    "core table": lambda: select(squads.c.name).where(squads.c.gone is None),
    "column clause": lambda: select(Squad.name).where(not column("active")),
    "relationship": lambda: select(Account.owner).where(Account.club is None),
    "case": lambda: select(Squad.name).where(case((Squad.gone is None, True), else_=False)),
}

with Session(engine) as session:
    session.add_all(
        [
            Squad(name="red"),
            Squad(name="blue", gone="x", active=False),
            Squad(name="green", gone="y"),
            Account(owner="ann"),
            Account(owner="bob", closed="2026"),
        ]
    )
    session.commit()
    for label, query in QUERIES.items():
        try:
            print(label, sorted(session.exec(query()).all()))
        except Exception as error:
            print(label, type(error).__name__)
"""
)


# label: (what the query gives as written, what it gives after the fix)
OUTCOMES = {
    "is None": ("[]", "['red']"),
    "is not None": ("['blue', 'green', 'red']", "['blue', 'green']"),
    "is True": ("[]", "['green', 'red']"),
    "in": ("[]", "['blue']"),
    "not in": ("['blue', 'green', 'red']", "['red']"),
    "not attribute": ("[]", "['blue']"),
    "not comparison": ("TypeError", "['red']"),
    "not equality": ("['blue', 'green', 'red']", "['blue', 'green']"),
    "in a column": ("NotImplementedError", "NotImplementedError"),  # reported without a fix
    "and": ("['green', 'red']", "['green']"),
    "or": ("TypeError", "['green', 'red']"),
    "declarative": ("[]", "['ann']"),
    "core table": ("[]", "['red']"),
    "column clause": ("TypeError", "['blue']"),
    "relationship": ("[]", "[]"),  # reported without a fix: `.is_()` raises on a relationship
    "case": ("[]", "['red']"),
}


def test_failing_forms_fail_and_fixed_code_returns_the_rows(tmp_path: Path):
    source = tmp_path / "prog.py"

    def run() -> list[str]:
        result = subprocess.run([sys.executable, source], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()

    source.write_text(PROGRAM)
    assert run() == [f"{label} {before}" for label, (before, _) in OUTCOMES.items()]
    index = build_index([source], [tmp_path])
    assert len(check(PROGRAM, SELECT, index=index, module_name="prog")) == len(OUTCOMES)
    source.write_text(fix(PROGRAM, SELECT, unsafe=True, index=index, module_name="prog"))
    assert run() == [f"{label} {after}" for label, (_, after) in OUTCOMES.items()]
