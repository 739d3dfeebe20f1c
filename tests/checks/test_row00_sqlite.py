"""Every ROW fix, run against SQLite: the original program fails with the error its `RUNTIME`
entry names, and the fixed program gives the model (not a TypeError, not None).

Each rule's test module lists its programs in `RUNTIME` as
`name -> (source, error of the original, value of the fixed code, unsafe)`. A program is a
module defining `run(session)` (or `async def run(session)`); one subprocess runs all the
originals of a rule and one all the fixed versions, against a file database with one row
in each table.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from tests.checks import test_row001, test_row002, test_row003, test_row004
from tests.checks.harness import fix

MODELS = """
from sqlmodel import Field, Relationship, SQLModel


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    members: list["User"] = Relationship(back_populates="team")


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str
    team_id: int | None = Field(default=None, foreign_key="team.id")
    team: Team | None = Relationship(back_populates="members")


class Hero(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
"""

# A project module that re-exports sqlmodel's select: the rules cannot resolve it.
REEXPORTS = "from sqlmodel import select  # noqa: F401\n"

RUNNER = """
import asyncio
import importlib
import inspect
import json
import sys

from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Session, SQLModel, create_engine
from sqlmodel.ext.asyncio.session import AsyncSession

import models

path = sys.argv[1]
engine = create_engine(f"sqlite:///{path}")
SQLModel.metadata.create_all(engine)
with Session(engine) as session:
    team = models.Team(name="Preventers")
    session.add(models.User(email="a@x.io", team=team))
    session.add(models.Hero(name="Spider-Boy"))
    session.commit()


def describe(value):
    if isinstance(value, SQLModel):
        return type(value).__name__
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    return repr(value)


async def run_async(run):
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    async with AsyncSession(engine) as session:
        value = await run(session)
    await engine.dispose()
    return value


out = {}
for name in sys.argv[2:]:
    run = importlib.import_module(name).run
    try:
        if inspect.iscoroutinefunction(run):
            value = asyncio.run(run_async(run))
        else:
            with Session(engine) as session:
                value = run(session)
        out[name] = describe(value)
    except Exception as error:
        out[name] = f"{type(error).__name__}: {error}"
print(json.dumps(out))
"""

MODULES = {
    "ROW001": test_row001,
    "ROW002": test_row002,
    "ROW003": test_row003,
    "ROW004": test_row004,
}


def run_programs(folder, programs: dict[str, str]) -> dict[str, str]:
    folder.mkdir()
    (folder / "models.py").write_text(MODELS)
    (folder / "reexports.py").write_text(REEXPORTS)
    (folder / "runner.py").write_text(RUNNER)
    modules = []
    for index, source in enumerate(programs.values()):
        name = f"program_{index}"
        (folder / f"{name}.py").write_text(source)
        modules.append(name)
    process = subprocess.run(
        [sys.executable, "runner.py", str(folder / "db.sqlite"), *modules],
        capture_output=True,
        text=True,
        cwd=folder,
    )
    assert process.returncode == 0, process.stderr
    # Programs may print; the runner's JSON is the last line.
    results = json.loads(process.stdout.splitlines()[-1])
    return {name: results[module] for name, module in zip(programs, modules, strict=True)}


@pytest.mark.parametrize("code", MODULES)
def test_fixes_give_the_model(code, tmp_path):
    runtime = MODULES[code].RUNTIME
    originals = {name: textwrap.dedent(case[0]) for name, case in runtime.items()}
    fixed = {
        name: fix(source, [code], unsafe=runtime[name][3]) for name, source in originals.items()
    }
    for name in runtime:
        assert fixed[name] != originals[name], f"{name}: nothing was fixed"
    before = run_programs(tmp_path / "before", originals)
    after = run_programs(tmp_path / "after", fixed)
    for name, (_, error, value, _) in runtime.items():
        assert before[name].startswith(error), (name, before[name])
        assert after[name] == value, (name, after[name], fixed[name])
