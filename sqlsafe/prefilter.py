"""Which files are worth parsing: cheap substring tests on the text, before libcst sees it.

Parsing is most of what a run costs, and most files of a project never
touch the ORM. Two tests, both promises that parsing could not find anything otherwise:

* the file mentions SQLAlchemy, SQLModel or Alembic (whose `op.get_bind()` is a SQLAlchemy
  connection), or a name the project index knows (a model, a session factory, an alias, a
  function the run's DETACH plan converts): every rule reasons from names a file imports,
  and a file that imports none of these has nothing to reason on;
* one of the enabled rules could fire: each rule may declare `triggers`, words one of which
  any file it reports on contains (the session methods it keys on); a rule without them
  promises nothing and keeps every file that passed the first test.

The first test is free of libcst so that a run where no file passes never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlsafe.checks.base import Rule
    from sqlsafe.checks.plan import Plan
    from sqlsafe.checks.project import Index

LIBRARIES = ("sqlmodel", "sqlalchemy", "alembic")


def mentions_orm(text: str, names: Iterable[str]) -> bool:
    if any(library in text for library in LIBRARIES):
        return True
    return any(name in text for name in names)


def triggered(
    rules: Sequence[type[Rule]], text: str, index: Index, plan: Plan | None = None
) -> tuple[type[Rule], ...]:
    """The rules that could report something in `text`, in a run with this index and plan."""
    found = []
    for rule in rules:
        triggers = rule.triggers_for(index, plan)
        if triggers is None or any(trigger in text for trigger in triggers):
            found.append(rule)
    return tuple(found)
