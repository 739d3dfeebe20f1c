"""Fixes keep the layout of the code they rewrite: a multi-line expression rewritten inside
a block keeps its continuation lines where they were, at any depth, with spaces or tabs."""

from __future__ import annotations

import pytest

from tests.checks.detach_models import index
from tests.checks.harness import fix

HEADER = """\
from sqlmodel import Session, select

from app.models import User


def caller(engine):
    # Passed on: the DETACH002 conversion is blocked and its safe fix is offered.
    return keep(get(engine, 1))


"""

# (rules, unsafe, the function before and after its fix, written by hand at depth 0)
CASES = {
    "ROW003 drops .scalars()": (
        ["ROW003"],
        False,
        """\
def f(session: Session, x):
    return session.exec(
        select(User).where(
            User.email == "a"
        )
    ).scalars().all()
""",
        """\
def f(session: Session, x):
    return session.exec(
        select(User).where(
            User.email == "a"
        )
    ).all()
""",
    ),
    "DETACH001 wraps black-formatted code in model_to_dict": (
        ["DETACH001"],
        True,
        """\
def f(engine, x):
    with Session(engine) as s:
        return s.exec(
            select(User).where(User.email == "a")
        ).one()
""",
        """\
def f(engine, x):
    with Session(engine) as s:
        return model_to_dict(s.exec(
            select(User).where(User.email == "a")
        ).one())
""",
    ),
    "DETACH002 refreshes before the return": (
        ["DETACH002"],
        False,
        """\
def get(engine, x):
    with Session(engine) as s:
        user = s.get(User, x)
        s.commit()
        return user
""",
        """\
def get(engine, x):
    with Session(engine) as s:
        user = s.get(User, x)
        s.commit()
        if user is not None:
            s.refresh(user)
        return user
""",
    ),
}


# The lines that open one level of nesting: a `match` nests its cases, and a case its body.
BLOCKS = {"if": ("if x:",), "match": ("match x:", "case 1:")}


def _at_depth(function: str, depth: int, unit: str, block: tuple[str, ...] = ("if x:",)) -> str:
    """`function` with its body moved under `depth` copies of `block` and every indentation
    step of four spaces written as `unit`."""
    lines = function.splitlines(keepends=True)
    out = [lines[0]]
    headers = block * depth
    out.extend(unit * (level + 1) + header + "\n" for level, header in enumerate(headers))
    for line in lines[1:]:
        stripped = line.lstrip(" ")
        steps = (len(line) - len(stripped)) // 4
        out.append(unit * (steps + len(headers)) + stripped)
    return "".join(out)


@pytest.mark.parametrize("block", sorted(BLOCKS))
@pytest.mark.parametrize("unit", ["    ", "  ", "\t"], ids=["4 spaces", "2 spaces", "tab"])
@pytest.mark.parametrize("depth", [0, 1, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_rewritten_lines_keep_their_block_indentation(
    case: str, depth: int, unit: str, block: str
) -> None:
    rules, unsafe, before, after = CASES[case]
    header = _at_depth(HEADER, 0, unit)
    nested = BLOCKS[block]
    fixed = fix(
        header + _at_depth(before, depth, unit, nested), rules, unsafe=unsafe, index=index()
    )
    assert fixed.endswith(_at_depth(after, depth, unit, nested)), fixed


def test_a_nul_character_is_a_syntax_error_as_for_python() -> None:
    """Fix texts mark the block's indentation with NUL: a file holding one is not fixed."""
    from tests.checks.harness import check

    source = 'x = "a\x00b"\n'
    with pytest.raises(SyntaxError, match="null bytes"):
        compile(source, "m.py", "exec")
    (diagnostic,) = check(source, ["ROW003"])
    assert diagnostic.code == "invalid-syntax"
    assert "null bytes" in diagnostic.message
    assert (diagnostic.start.row, diagnostic.start.column) == (1, 7)


SHIM = """\
def run(session: Session):
    result = session.exec(select(User)).first()
    if result is None:
        return None
    elif hasattr(result, "email"):
        return result.email
    else:
        return result[0].email
"""
SHIM_FIXED = """\
def run(session: Session):
    result = session.exec(select(User)).first()
    if result is None:
        return None
    else:
        return result.email
"""


@pytest.mark.parametrize("first", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_rewritten_statements_keep_their_indentation_in_mixed_line_endings(first: str) -> None:
    """The first line ending is the module's default: the rewritten `if` is indented line by
    line although its own lines end otherwise (only its last line gets the default)."""
    header = "# a header saved with other line endings" + first + HEADER
    fixed = fix(header + SHIM, ["ROW005"], index=index())
    assert fixed == header + SHIM_FIXED.removesuffix("\n") + first, fixed
