"""The query vocabulary every analysis shares: which call builds a statement, what may be
chained on it, and what running it through a session gives.

What `.first()` returns depends on two things only: the session method (`exec` versus
`execute`/`scalars`/`scalar`) and whether the statement is SQLModel's `select` of exactly one
entity. SQLModel's `exec` of its own one-entity `select` yields model instances (a
ScalarResult); SQLAlchemy's `select`, `execute` and every multi-entity statement yield Rows;
`scalars` and `scalar` take each Row's first column. The tables below are checked against the
installed SQLModel and SQLAlchemy, on SQLite, by `tests/checks/test_queries.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import libcst as cst

from sqlsafe.checks.base import FileContext, MemoKey
from sqlsafe.checks.names import SQLALCHEMY_SELECT, SQLMODEL_SELECT, TEXT, dotted
from sqlsafe.checks.scopes import shadowed

Library = Literal["sqlmodel", "sqlalchemy", "text", "unresolved"]

# Generative methods of Select that keep SQLModel's SelectOfScalar a SelectOfScalar, so that
# running the statement gives what running the bare `select` gives. `add_columns`,
# `with_only_columns` and `reduce_columns` are left out on purpose: they keep the class but
# change the columns, a different bug from the one the rules describe.
STATEMENT_CHAIN = frozenset(
    {
        "where",
        "filter",
        "filter_by",
        "join",
        "outerjoin",
        "join_from",
        "outerjoin_from",
        "order_by",
        "group_by",
        "having",
        "limit",
        "offset",
        "fetch",
        "slice",
        "options",
        "execution_options",
        "distinct",
        "select_from",
        "with_for_update",
        "correlate",
        "correlate_except",
        "params",
        "prefix_with",
        "suffix_with",
        "with_hint",
        "with_statement_hint",
        "set_label_style",
    }
)
# The ones a legacy `session.query(M)` has too: its terminals still give `M` instances.
QUERY_CHAIN = STATEMENT_CHAIN - {"join_from", "outerjoin_from", "fetch", "correlate_except"}
TEXT_CHAIN = frozenset({"bindparams", "columns", "execution_options"})
# Result methods that give the same result back.
SAME_RESULT_METHODS = frozenset({"unique", "yield_per"})
# What a ScalarResult lacks that a Result has.
RESULT_ONLY_METHODS = frozenset(
    {"scalars", "fetchone", "scalar", "scalar_one", "scalar_one_or_none", "mappings"}
)
# Session methods that run a statement.
SESSION_METHODS = frozenset({"exec", "execute", "scalars", "scalar"})


@dataclass(frozen=True)
class Entity:
    """A mapped class given as a `select` argument."""

    text: str
    """As written in the `select(...)` call, e.g. `User` or `models.User`."""
    qualname: str | None
    label: str
    """The key a Row gives it: the class name."""


_STARS: MemoKey[frozenset[str]] = MemoKey("modules imported with a star")


class Shape(Enum):
    ONE = "one"
    OPTIONAL = "optional"
    LIST = "list"


# Result method -> how many values it gives, and whether it takes each Row's first column
# (which only a Result of Rows has: a ScalarResult's values are that column already).
TERMINALS: dict[str, tuple[Shape, bool]] = {
    "first": (Shape.OPTIONAL, False),
    "one_or_none": (Shape.OPTIONAL, False),
    "one": (Shape.ONE, False),
    "all": (Shape.LIST, False),
    "fetchall": (Shape.LIST, False),
    "fetchmany": (Shape.LIST, False),
    "scalar": (Shape.OPTIONAL, True),
    "scalar_one_or_none": (Shape.OPTIONAL, True),
    "scalar_one": (Shape.ONE, True),
}


def terminals(shapes: set[Shape], column: bool) -> frozenset[str]:
    """The terminal methods of TERMINALS with one of `shapes`, taking a column or not."""
    return frozenset(
        name for name, (shape, takes) in TERMINALS.items() if shape in shapes and takes == column
    )


def yields_models(method: str, library: Library, count: int | None) -> bool | None:
    """Does `session.<method>(statement)` give the selected values themselves (True) rather
    than Rows (False)? None when that depends on a `select` whose library is not known.
    `scalar` gives one value, the others a result."""
    if method in ("scalars", "scalar"):
        return True
    if method != "exec" or count != 1:
        return False
    if library == "unresolved":
        return None
    return library == "sqlmodel"


def select_library(
    context: FileContext, func: cst.BaseExpression, functions: Sequence[cst.FunctionDef]
) -> Library | None:
    """The library of the `select` (or `text`) that `func` names, through imports, aliases,
    project re-exports and star imports; `unresolved` for a `select` imported from anywhere
    else; None when `func` builds no statement, or when one of `functions` (those around the
    call) binds its name to something else (a parameter, an assignment)."""
    text = dotted(func)
    if text is not None and shadowed(context, text, functions):
        return None
    qualname = context.names.qualify(func)
    if qualname is not None:
        qualname = context.index.alias(qualname) or qualname
    if qualname in SQLMODEL_SELECT:
        return "sqlmodel"
    if qualname in SQLALCHEMY_SELECT:
        return "sqlalchemy"
    if qualname in TEXT:
        return "text"
    if not isinstance(func, cst.Name) or func.value != "select":
        return None
    if qualname is None:
        stars = star_libraries(context)
        if stars == {"sqlmodel"}:
            return "sqlmodel"
        if stars == {"sqlalchemy"}:
            return "sqlalchemy"
        return "unresolved" if stars else None
    # Imported from a module that is neither library (a project re-export, a helper).
    return "unresolved"


def star_libraries(context: FileContext) -> frozenset[str]:
    """The top-level packages this module star-imports (`?` for a relative one)."""

    def compute() -> frozenset[str]:
        found = set()
        for statement in context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    module = dotted(small.module) if small.module is not None else None
                    found.add((module or "").split(".")[0] or "?")
        return frozenset(found)

    return context.memo(_STARS, context.module, compute)


def entity(
    context: FileContext, node: cst.BaseExpression, functions: Sequence[cst.FunctionDef]
) -> Entity | None:
    """The mapped class `node` names, if it names one.

    The project index decides when it knows the class. Without it, a capitalised name
    (`User`, `models.User`, not `User.id`, not a constant like `USER`) that is imported or
    is a class defined at the top of this module counts as a mapped class: it is what a
    one-argument `select` of a class looks like, and the rules only use it together with
    the statement's other facts.
    """
    text = dotted(node)
    if text is None:
        return None
    if shadowed(context, text, functions):
        return None
    qualname = context.names.qualify(node)
    if qualname is None:
        return None
    label = text.rpartition(".")[2]
    if context.index.model(qualname) is not None:
        return Entity(text, qualname, label)
    if qualname.startswith(("sqlmodel.", "sqlalchemy.")):
        return None
    if not label[:1].isupper() or label.isupper():
        return None
    # A name defined in this module must be a class, not `UserTable = Table(...)`.
    local = "." not in text and qualname == f"{context.module_name}.{text}"
    if local and not _defines_class(context.module, text):
        return None
    return Entity(text, qualname, label)


def _defines_class(module: cst.Module, name: str) -> bool:
    return any(
        isinstance(statement, cst.ClassDef) and statement.name.value == name
        for statement in module.body
    )
