"""Which files a run checks again when the plan its facts give differs from the one it
checked against (`plan.concerned`): every file whose outcome can change, and no other."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlsafe.checks.plan import FACTS, Found, Plan, Target, concerned
from sqlsafe.source import Source, SourceError


@dataclass
class _File:
    path: Path
    text: str | None
    display: str = ""
    settings: object = None

    def read(self) -> Source:
        """Asked for only when `text` is None: a file that cannot be decoded."""
        raise SourceError("invalid utf-8")


def _found(qualname: str) -> Found:
    return Found(qualname, "DETACH002", "model", "User", False, None, ((3, "DETACH002"),))


def _target(qualname: str) -> Target:
    return Target(qualname, "DETACH002", "model", "User", False, "app/service.py:3")


SERVICE = _File(Path("app/service.py"), "def create(): ...\ndef get(): ...\n")
CALLER = _File(Path("app/main.py"), "from app.service import create\ncreate()\n")
OTHER = _File(Path("app/other.py"), "cache.get(key)\nrepo.create(row)\n")
FACTS_OF = {SERVICE.path: {FACTS: (_found("app.service.create"), _found("app.service.get"))}}


def _concerned(before: Plan | None, after: Plan) -> list[str]:
    concerns = concerned(before, after, FACTS_OF)
    return [file.path.name for file in (SERVICE, CALLER, OTHER) if concerns(file)]


def test_a_blocked_function_concerns_only_its_own_file():
    # Blocking changes the finding's message, in the file defining the function: a file
    # that merely names `get` or `create` (most files do) reads the same against either plan.
    after = Plan(blocked={"app.service.get": "app/x.py:2 passes it on"})
    assert _concerned(None, after) == ["service.py"]


def test_a_conversion_concerns_its_file_and_every_file_naming_it():
    after = Plan(converted={"app.service.create": _target("app.service.create")})
    assert _concerned(None, after) == ["service.py", "main.py", "other.py"]
    # ... and taking it back again concerns the same files.
    assert _concerned(after, Plan()) == ["service.py", "main.py", "other.py"]


def test_an_unchanged_decision_concerns_nobody():
    converted = Plan(converted={"app.service.create": _target("app.service.create")})
    both = Plan(
        converted={"app.service.create": _target("app.service.create")},
        blocked={"app.service.get": "app/x.py:2 passes it on"},
    )
    # Only `get` changed, and it is blocked: its callers read the same.
    assert _concerned(converted, both) == ["service.py"]


def test_withholding_or_new_readers_concern_the_callers_too():
    converted = Plan(converted={"app.service.create": _target("app.service.create")})
    withheld = Plan(
        converted={"app.service.create": _target("app.service.create")},
        withheld={"app.service.create": "app/main.py is not part of this run"},
    )
    assert _concerned(converted, withheld) == ["service.py", "main.py", "other.py"]
    read = Plan(
        converted={"app.service.create": _target("app.service.create")},
        readers={"app.service.create": [("app/main.py", 2)]},
    )
    assert _concerned(converted, read) == ["service.py", "main.py", "other.py"]


def test_a_file_that_cannot_be_read_is_checked_again():
    unreadable = _File(Path("app/broken.py"), None)
    after = Plan(converted={"app.service.create": _target("app.service.create")})
    assert concerned(None, after, FACTS_OF)(unreadable)
