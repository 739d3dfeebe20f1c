"""A large file is checked in segments (bounded memory) and reports exactly what a check of
the whole file reports: the same diagnostics at the same places, the same fixes."""

from __future__ import annotations

import ast
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sqlsafe import segments
from sqlsafe.checks.registry import CODES
from sqlsafe.index import ProjectIndex
from tests.checks import test_statement_kinds as kinds
from tests.checks.harness import fix, run

MODELS = kinds.MODELS
index = kinds.index  # the fixture: a project with the `Hero` model

PROGRAM = '''\
"""A module with every kind of top-level statement between its functions."""
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from app.models import Hero


def first(engine, hid):
    with Session(engine) as s:
        return s.exec(select(Hero).where(Hero.id == hid)).first()[0]


# A factory defined after a function that uses it.
@decorator(
    "arg",
)
def uses_local(hid):
    with Local() as s:
        s.exec(text("select :x"), {"x": hid})


if TYPE_CHECKING:
    pass
else:
    import os


class Repo:
    def rows(self, engine):
        with Session(engine) as s:
            return s.exec(select(Hero)).scalars().all()


Local = sessionmaker(class_=Session)
DOC = """
def not_a_function(engine):
    with Session(engine) as s:
        s.exec(text("x"), {})
"""


async def scoped(engine):
    with Session(engine) as s:
        hero = s.exec(select(Hero)).one()
    return hero.name  # noqa: SCOPE001


def last(engine, hid):
    with Session(engine) as s:
        s.exec(text("select :x"), {"x": hid})
        return s.execute(select(Hero)).first().name
'''


def _shown(result) -> list[tuple]:
    return [(d.code, d.message, d.start, d.end, d.fix, d.noqa_row) for d in result.diagnostics]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_segments_report_what_the_whole_file_reports(
    index: ProjectIndex, monkeypatch: pytest.MonkeyPatch, newline: str
) -> None:
    program = PROGRAM.replace("\n", newline)
    whole = run(program, list(CODES), index=index, module_name="app.big")
    assert len(whole.diagnostics) >= 6
    monkeypatch.setattr(segments, "LARGE", 100)
    monkeypatch.setattr(segments, "SEGMENT", 150)
    parts = segments.split(textwrap.dedent(program))
    assert parts is not None and len(parts) >= 3
    segmented = run(program, list(CODES), index=index, module_name="app.big")
    assert _shown(segmented) == _shown(whole)


def test_segments_fix_what_the_whole_file_fixes(
    index: ProjectIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = fix(PROGRAM, list(CODES), unsafe=True, index=index, module_name="app.big")
    assert whole != PROGRAM
    monkeypatch.setattr(segments, "LARGE", 100)
    monkeypatch.setattr(segments, "SEGMENT", 150)
    assert fix(PROGRAM, list(CODES), unsafe=True, index=index, module_name="app.big") == whole


def test_text_that_does_not_tokenize_is_checked_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(segments, "LARGE", 10)
    assert segments.split("def f():\n    pass\n" * 3) is not None
    assert segments.split('x = """\n' * 3) is None


TOP_LEVEL = """\
import os; import sys
@decorator(
    1,
)
# a comment between decorator and function
def f(): pass
async def g():
    pass
class C(Base): x = 1
if os.name:
    pass
elif sys:
    pass
else:
    y = 2
try:
    import z
except ImportError:
    z = None
(
    os.sep
).join([])
x = \\
    1
@dataclass
class D:
    pass
"""


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(TOP_LEVEL, id="every kind"),
        *(
            pytest.param(path.read_text(encoding="utf-8"), id=path.name)
            for path in sorted(Path(segments.__file__).parent.glob("*.py"))
        ),
    ],
)
def test_starts_read_from_the_tree_are_the_tokens_starts(text: str) -> None:
    """The screen's syntax tree gives where top-level statements start, which spares a large
    file a tokenizer pass: the pieces are the same as the tokens'."""
    rows = len(text.splitlines(keepends=True))
    from_tree = segments.starts_of(ast.parse(text), text)
    assert from_tree is not None
    assert segments._pieces(from_tree, rows) == segments._pieces(
        segments._statement_starts(text), rows
    )


def test_a_decorator_continued_on_the_next_row_is_left_to_the_tokens() -> None:
    text = "@ \\\ndecorator\ndef f(): pass\n"
    assert segments.starts_of(ast.parse(text), text) is None


FUNCTION = """
def g{n}(engine, hid):
    with Session(engine) as s:
        h = s.exec(select(Hero).where(Hero.id == hid)).first()
        s.exec(text("select :x"), {{"x": hid}})
        return h
"""


PEAK_KB = 1_400_000
"""Measured 1.09 GB (1.87 GB before each segment's tree was freed with it)."""
CPU_SECONDS = 90
"""Measured 55 s of user CPU on a quiet machine (76 s before the screen's tree gave the
segments and the segments got smaller, 101 s before positions were recorded as plain
spans). The bound leaves room for a loaded machine."""


@pytest.mark.slow
def test_a_5_mb_file_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    """Checked whole, this file peaked at 6.7 GB; in segments at 1.9 GB while each segment's
    tree outlived it, now at about 1.1 GB (nearly all of it the `ast` tree of the file's index
    summary, made in a worker process of its own)."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS)
    header = "from sqlmodel import Session, select, text\n\nfrom app.models import Hero\n\n"
    body = "".join(FUNCTION.format(n=n) for n in range(30_000))
    (app / "big.py").write_text(header + body)
    assert (app / "big.py").stat().st_size > 5_000_000
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "sqlsafe", "check", "--no-cache", "--statistics", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "SQLSAFE_NO_CACHE": "1"},
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kb = after.ru_maxrss
    cpu_seconds = after.ru_utime - before.ru_utime
    assert result.stdout.splitlines()[:2] == [
        "30000\tSQL001\t[*] exec-positional-params",
        "30000\tGET001\t[ ] select-by-primary-key",
    ], result.stdout + result.stderr
    # Bounds with room for a loaded machine; a segment's tree kept alive after it fails the
    # first.
    assert peak_kb < PEAK_KB, peak_kb
    assert cpu_seconds < CPU_SECONDS, cpu_seconds
