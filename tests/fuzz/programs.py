"""Hypothesis strategies for SQLModel session code that triggers sqlsafe's rules, laid out the
ways real files are: tabs or spaces, CRLF, a BOM or a coding cookie, comments and line breaks
between tokens, backslash continuations, nested blocks and `match` statements.

A statement is written as a template: `BREAK` marks a place inside brackets where the line
may break (after an optional comment), `CONTINUE` a place outside brackets where it may go
on after a backslash. Continuation lines are indented deeper than their statement, with the
file's indentation unit, as a formatter would leave them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from hypothesis import strategies as st

BREAK = "\x01"
CONTINUE = "\x02"

MODELS = """\
from typing import Optional

from sqlmodel import Field, Relationship, SQLModel


class Team(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    heroes: list["Hero"] = Relationship(back_populates="team")


class Hero(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    team: Optional[Team] = Relationship(back_populates="heroes")
"""

IMPORTS = (
    "from sqlalchemy.orm import joinedload",
    f"from sqlmodel import ({BREAK}Session, {BREAK}select, {BREAK}text{BREAK})",
    "from sqlmodel.ext.asyncio.session import AsyncSession",
)
LOCAL_IMPORT = "from app.models import Hero, Team"

# Statements that belong together (a name bound, then read), one group per shape a rule
# reports; the comment names the rule each group is written for.
SESSION_GROUPS = (
    (f"row = session.exec({BREAK}select(Hero){BREAK}).first()", "return row[0]"),  # ROW001
    (f"return session.exec(select(Hero).where({BREAK}Hero.name == name{BREAK})).first()[0]",),
    (f"return [hero.name for (hero,) in session.exec({BREAK}select(Hero){BREAK})]",),  # ROW002
    (f"return session.exec({BREAK}select(Hero){BREAK}).scalars(){CONTINUE}.all()",),  # ROW003
    ("row = session.exec(select(Hero)).first()", "return row.Hero if row else None"),
    (  # ROW004
        f"hero = {CONTINUE}session.execute({BREAK}select(Hero).where(Hero.id == key){BREAK}).first()",
        "return hero.name if hero else None",
    ),
    (  # GET001
        f"return session.exec({BREAK}select(Hero).where({BREAK}Hero.id == key{BREAK}){BREAK}).first()",
    ),
    (
        f'session.exec({BREAK}text("select * from hero where id = :id"), {BREAK}{{"id": key}}{BREAK})',
    ),
    (f'return session.execute({BREAK}"select count(*) from hero"{BREAK}).scalar_one()',),  # SQL002
    (  # WHERE001
        f"statement = select(Hero).where({BREAK}Hero.team_id is not None, {BREAK}Hero.id in keys{BREAK})",
        "return session.exec(statement).all()",
    ),
    (f"return session.exec({BREAK}select(Team).options(joinedload(Team.heroes)){BREAK}).all()",),
    ("return session.query(Hero).get(key)",),  # GET001's safe fix
    (f"if key: return session.exec(select(Hero)).first(){CONTINUE}[0]",),
    ("x = key; row = session.exec(select(Hero)).first(); print(row[0])",),
    (  # ROW005: a leading tab is one level deeper
        "result = session.exec(select(Hero).where(Hero.id == key)).first()",
        "if result is None:",
        "\thero = None",
        f'elif hasattr({BREAK}result, "name"{BREAK}):',
        "\thero = result",
        "else:",
        "\thero = result[0]",
        "return hero",
    ),
)
ASYNC_GROUPS = (
    ("session.commit()",),  # AWAIT001
    (f"return (await session.exec({BREAK}select(Hero){BREAK})).first()[0]",),
    (
        "result = await session.exec(select(Hero))",
        "row = result.first()",
        "return row[0] if row else None",
    ),
    (f"return (await session.exec(select(Hero).where({BREAK}Hero.id == key{BREAK}))).first()",),
    (f'await session.exec(text("select 1"), {BREAK}{{"x": key}})',),
)
# Inside `with Session(engine) as session:` in a function that opens it (the DETACH rules).
OWNED_GROUPS = (
    (f"return session.get({BREAK}Hero, {BREAK}key{BREAK})",),  # DETACH001
    ("hero = session.get(Hero, key)", "session.commit()", "return hero"),  # DETACH002
    (  # DETACH003
        f"hero = Hero({BREAK}name=name{BREAK})",
        "session.add(hero)",
        "session.commit()",
        "session.refresh(hero)",
        "return hero",
    ),
    (f"return session.exec({CONTINUE}select(Hero).where(Hero.name == name){CONTINUE}).one()",),
)
# After the `with` block: the SCOPE001 read of an instance from the closed session.
READ_AFTER_CLOSE = f"print({BREAK}hero.name{BREAK})"
SCOPE_GROUP = ("hero = session.get(Hero, key)", "hero.name = name", "session.commit()")
FILLERS = (
    "pass",
    "x = key",
    f"print({BREAK}name, {BREAK}key{BREAK})",
    f"session.add({BREAK}Hero(name=name){BREAK})",
    f"total = key {CONTINUE}+ 1",
)

# Blocks code is nested in: header lines, then lines after the body. A leading tab is one
# level deeper than the block's own line; the body goes one level below the last header.
WRAPPERS = (
    (("if key:",), ()),
    ((f"if ({BREAK}key {BREAK}and name{BREAK}):",), ()),
    ((f"for _ in range({BREAK}2{BREAK}):",), ()),
    (("while key:",), ()),
    (("try:",), ("except Exception:", "\traise")),
    (("try:",), ("except* ValueError:", "\tpass", "finally:", "\tpass")),
    (("if key:",), ("else:", "\tpass")),
    (("with open(name) as handle:",), ()),
    (("match key:", "\tcase 1 | 2:"), ("\tcase _:", "\t\tpass")),
    ((f"match ({BREAK}key, {BREAK}name{BREAK}):", "\tcase (1, str(text_)) if text_:"), ()),
)

CLAUSES = ("elif", "else", "except", "finally", "case")
COMMENTS = ("# note", "# café “quoted”", "#: a: b", "#")
UNITS = ("    ", "  ", "\t")


@dataclass(frozen=True)
class Layout:
    """How a program's text becomes a file's bytes."""

    newline: str
    encoding: str
    """`utf-8`, `utf-8-sig` (with a BOM) or `latin-1` (declared by a coding cookie)."""

    def encode(self, text: str) -> bytes:
        if self.encoding == "latin-1":
            text = "# -*- coding: latin-1 -*-\n" + text.replace("“", '"').replace("”", '"')
        return text.replace("\n", self.newline).encode(self.encoding)


layouts = st.builds(
    Layout,
    newline=st.sampled_from(["\n", "\r\n"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1"]),
)


@st.composite
def session_modules(draw: st.DrawFn) -> str:
    """A module of 1 to 4 functions (some nested in blocks), one group of statements per
    shape a rule reports, with `\\n` line endings."""
    writer = _Writer(draw, draw(st.sampled_from(UNITS)))
    for line in IMPORTS:
        writer.statement(line, 0)
    writer.lines.append("")
    writer.statement(LOCAL_IMPORT, 0)
    for number in range(draw(st.integers(1, 4))):
        writer.lines.extend(["", ""])
        writer.nested(0, draw(st.integers(0, 2)), partial(writer.function, number))
    return "\n".join(writer.lines) + "\n"


class _Writer:
    """Renders templates at a depth, drawing where lines break and where comments go."""

    def __init__(self, draw: st.DrawFn, unit: str) -> None:
        self.draw = draw
        self.unit = unit
        self.lines: list[str] = []

    def statement(self, template: str, depth: int) -> None:
        levels = _levels(template)
        indent = self.unit * (depth + levels)
        continued = indent + self.unit * self.draw(st.integers(1, 2))
        line = indent
        for piece in _pieces(template[levels:]):
            if piece == BREAK:
                comment = self.draw(st.sampled_from(("", *COMMENTS)))
                if comment or self.draw(st.booleans()):
                    self.lines.append(line.rstrip(" ") + (f"  {comment}" if comment else ""))
                    line = continued
            elif piece == CONTINUE:
                if self.draw(st.booleans()):
                    self.lines.append(line.rstrip(" ") + " \\")
                    line = continued
            else:
                line += piece
        if self.draw(st.integers(0, 5)) == 0:
            line += "  " + self.draw(st.sampled_from(COMMENTS))
        self.lines.append(line)

    def nested(self, depth: int, count: int, body: Callable[[int], None]) -> None:
        """`body` written inside `count` drawn blocks opened at `depth`."""
        if count == 0:
            body(depth)
            return
        headers, footer = self.draw(st.sampled_from(WRAPPERS))
        for header in headers:
            self.statement(header, depth)
        inner = depth + _levels(headers[-1]) + 1
        self.nested(inner, count - 1, body)
        for line in footer:
            self.statement(line, depth)

    def function(self, number: int, depth: int) -> None:
        kind = self.draw(st.sampled_from(("session", "async", "owned")))
        if kind == "owned":
            self._owned(number, depth)
            return
        if kind == "session":
            header = f"def f{number}({BREAK}session: Session, {BREAK}key: int, name: str, keys: list[int]{BREAK}):"
            groups = SESSION_GROUPS
        else:
            header = f"async def f{number}(session: AsyncSession, {BREAK}key: int, name: str):"
            groups = ASYNC_GROUPS
        self.statement(header, depth)
        self._body(groups, depth + 1)

    def _owned(self, number: int, depth: int) -> None:
        """A function that opens its own session (the DETACH and SCOPE rules), and maybe a
        caller that reads its result (which a DETACH fix migrates)."""
        self.statement(f"def f{number}(engine, key: int, name: str):", depth)
        scope = self.draw(st.booleans())
        self.statement(f"with Session({BREAK}engine{BREAK}) as session:", depth + 1)
        if scope:
            self._group(SCOPE_GROUP, depth + 2)
            self.statement(READ_AFTER_CLOSE, depth + 1)
        else:
            self._body(OWNED_GROUPS, depth + 2)
        if self.draw(st.booleans()):
            self.lines.extend(["", ""])
            self.statement(f"def use{number}(engine):", depth)
            self.statement(f"hero = f{number}({BREAK}engine, 1{BREAK})", depth + 1)
            self.statement("return hero.name", depth + 1)

    def _body(self, groups: tuple[tuple[str, ...], ...], depth: int) -> None:
        if self.draw(st.integers(0, 3)) == 0:
            self._docstring(depth)
        for _ in range(self.draw(st.integers(1, 3))):
            group = self.draw(st.sampled_from(groups))
            self.nested(depth, self.draw(st.integers(0, 3)), partial(self._group, group))

    def _group(self, group: tuple[str, ...], depth: int) -> None:
        for template in group:
            level = depth + _levels(template)
            # A statement before `else:` or `elif` would end the `if` it continues.
            if not template.lstrip("\t").startswith(CLAUSES) and self.draw(st.integers(0, 3)) == 0:
                self.statement(self.draw(st.sampled_from(FILLERS)), level)
            if self.draw(st.integers(0, 4)) == 0:
                self._comment_line(level)
            self.statement(template, depth)

    def _comment_line(self, depth: int) -> None:
        """A comment on a line of its own, at the block's depth or at any column."""
        indent = self.draw(st.sampled_from((self.unit * depth, "", " ")))
        self.lines.append(f"{indent}{self.draw(st.sampled_from(COMMENTS))}")

    def _docstring(self, depth: int) -> None:
        indent = self.unit * depth
        self.lines.extend(
            [f'{indent}"""Loads heroes.', "", f"{indent}  Indented line.", f'{indent}"""']
        )


def _pieces(text: str) -> list[str]:
    """`text` split into plain runs and the BREAK / CONTINUE markers between them."""
    return re.split(f"([{BREAK}{CONTINUE}])", text)


def _levels(template: str) -> int:
    """How many levels deeper than its block a template goes (its leading tabs)."""
    return len(template) - len(template.lstrip("\t"))
