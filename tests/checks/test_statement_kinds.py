"""Every kind of compound statement is walked like an `if`: a bug inside a `match` case, an
`except*` handler, an `async with` or `async for`, or beside a `type` alias is found and fixed
as it is inside an `if`, and none of them is a rule's internal error."""

from __future__ import annotations

import textwrap

import pytest

from sqlsafe.checks.registry import CODES
from sqlsafe.index import ProjectIndex, build_index
from tests.checks.harness import codes, fix

RULES = list(CODES)

MODELS = """
from sqlmodel import Field, SQLModel


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
"""

HEADER = """\
from sqlalchemy import text
from sqlmodel import Session, select

from app.models import Hero


async def f(engine, x, hero_id):
"""

# The session is opened inside the statement, so that finding it needs the walk too.
BODY = """\
with Session(engine) as session:
    a = session.exec(select(Hero)).first()[0]
    for (h,) in session.exec(select(Hero)):
        print(h)
    b = session.exec(select(Hero)).scalars().all()
    c = session.execute(select(Hero)).first().name
    d = session.exec(select(Hero).where(Hero.id == hero_id)).first()
    e = session.exec(text("select 1"), {"a": 1})
    print(a, b, c, d, e)
"""

FOUND = ["GET001", "ROW001", "ROW002", "ROW003", "ROW004", "SQL001"]

# Headers that put the body one or two levels deeper than the function's body.
WRAPPERS = {
    "match-case": "match x:\n    case [1, *rest] if rest:",
    "match-second-case": "match x:\n    case None:\n        pass\n    case _:",
    "try-star": "try:\n    pass\nexcept* ValueError:",
    "try-finally": "try:\n    pass\nfinally:",
    "while-else": "while x:\n    break\nelse:",
    "for-else": "for y in x:\n    pass\nelse:",
    "async-with": "async with x as y:",
    "async-for": "async for y in x:",
    "type-alias": "type Alias = int\nif x:",
    "one-line-suite-before": "if x: pass\nelif hero_id: y = 1\nelse:",
}


def _reference_header(depth: int) -> str:
    return "\n".join("    " * level + "if x:" for level in range(depth))


def _depth(header: str) -> int:
    last = header.splitlines()[-1]
    return (len(last) - len(last.lstrip())) // 4 + 1


def _program(header: str) -> str:
    body = textwrap.indent(BODY, "    " * (_depth(header) + 1))
    return HEADER + textwrap.indent(header, "    ") + "\n" + body


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> ProjectIndex:
    root = tmp_path_factory.mktemp("project")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    models = root / "app" / "models.py"
    models.write_text(MODELS)
    return build_index([root / "app" / "__init__.py", models], [root])


def test_the_reference_finds_every_bug(index: ProjectIndex) -> None:
    assert (
        sorted(codes(_program(_reference_header(1)), RULES, index=index, module_name="app.use"))
        == FOUND
    )


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_found_and_fixed_as_inside_an_if(index: ProjectIndex, name: str) -> None:
    header = WRAPPERS[name]
    program = _program(header)
    assert sorted(codes(program, RULES, index=index, module_name="app.use")) == FOUND
    reference = _reference_header(_depth(header))
    expected = fix(_program(reference), RULES, index=index, module_name="app.use")
    in_function = textwrap.indent(reference, "    ")
    assert expected.count(in_function) == 1
    got = fix(program, RULES, index=index, module_name="app.use")
    assert got == expected.replace(in_function, textwrap.indent(header, "    "))
