"""Resolving names in one file to qualified names, from its own import table.

libcst's QualifiedNameProvider costs several parses' worth of time per file; the handful of
names sqlsafe cares about are found faster by reading the file's import statements once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import libcst as cst

from sqlsafe.checks.project import Index
from sqlsafe.index.types import (
    SQLALCHEMY_ASYNC_SESSION,
    SQLALCHEMY_SESSION,
    SQLMODEL_ASYNC_SESSION,
    SQLMODEL_SESSION,
)

# The public spellings and the defining modules of the names the rules reason about.
SQLMODEL_SELECT = frozenset(
    {
        "sqlmodel.select",
        "sqlmodel.sql.expression.select",
        "sqlmodel.sql._expression_select_gen.select",
    }
)
SQLALCHEMY_SELECT = frozenset(
    {
        "sqlalchemy.select",
        "sqlalchemy.future.select",
        "sqlalchemy.sql.select",
        "sqlalchemy.sql.expression.select",
        "sqlalchemy.sql._selectable_constructors.select",
    }
)
TEXT = frozenset(
    {"sqlmodel.text", "sqlalchemy.text", "sqlalchemy.sql.text", "sqlalchemy.sql.expression.text"}
)
# SQLModel's typing helper: `col(Model.field)` is `Model.field`.
COL = frozenset({"sqlmodel.col", "sqlmodel.sql.expression.col"})
_SESSION_SPELLINGS = {
    "sqlmodel.Session": SQLMODEL_SESSION,
    "sqlmodel.orm.session.Session": SQLMODEL_SESSION,
    "sqlmodel.ext.asyncio.session.AsyncSession": SQLMODEL_ASYNC_SESSION,
    "sqlmodel.ext.asyncio.AsyncSession": SQLMODEL_ASYNC_SESSION,
    "sqlalchemy.orm.Session": SQLALCHEMY_SESSION,
    "sqlalchemy.orm.session.Session": SQLALCHEMY_SESSION,
    "sqlalchemy.ext.asyncio.AsyncSession": SQLALCHEMY_ASYNC_SESSION,
    "sqlalchemy.ext.asyncio.session.AsyncSession": SQLALCHEMY_ASYNC_SESSION,
}
ASYNC_SESSION_CLASSES = frozenset({SQLMODEL_ASYNC_SESSION, SQLALCHEMY_ASYNC_SESSION})
SQLMODEL_SESSION_CLASSES = frozenset({SQLMODEL_SESSION, SQLMODEL_ASYNC_SESSION})
SESSIONMAKERS = frozenset(
    {
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.session.sessionmaker",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    }
)
ASYNC_SESSIONMAKERS = frozenset(
    {
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    }
)


def canonical_session_class(qualname: str | None) -> str | None:
    """The defining name of a session class, or None if `qualname` is not one we know."""
    if qualname is None:
        return None
    return _SESSION_SPELLINGS.get(qualname)


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _module_dotted(node: cst.BaseExpression) -> str:
    return dotted(node) or ""


class ImportTable:
    """Local name -> qualified name, for one module.

    Names the module itself defines at top level resolve to `<module>.<name>`, so a model
    declared in the file being checked is found in the project index under its real name.
    Function-local rebinding is not tracked: a rule that needs certainty about a local
    name looks at its assignments itself.
    """

    def __init__(
        self,
        module: cst.Module,
        module_name: str,
        is_package: bool = False,
        locate: Callable[[str], str] | None = None,
    ) -> None:
        """`is_package` for an `__init__` file: its relative imports start from itself.
        `locate` says where an absolute import leads (the project index knows the modules
        a script's own folder holds)."""
        self.module_name = module_name
        self.names: dict[str, str] = {}
        self._package = module_name if is_package else module_name.rpartition(".")[0]
        self._locate = locate if locate is not None and not is_package else _same
        self._collect(module.body, top_level=True)

    @classmethod
    def of_file(cls, module: cst.Module, module_name: str, path: Path, index: Index) -> ImportTable:
        """The table of the file at `path`, with its script imports located by `index`."""
        return cls(
            module,
            module_name,
            is_package=path.stem == "__init__",
            locate=partial(index.import_target, module_name),
        )

    def _collect(self, body: object, top_level: bool) -> None:
        statements = body if isinstance(body, (list, tuple)) else getattr(body, "body", ())
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._add_import(small)
                    elif top_level and isinstance(small, (cst.Assign, cst.AnnAssign)):
                        targets = (
                            [t.target for t in small.targets]
                            if isinstance(small, cst.Assign)
                            else [small.target]
                        )
                        for target in targets:
                            if isinstance(target, cst.Name):
                                self.names.setdefault(
                                    target.value, f"{self.module_name}.{target.value}"
                                )
            elif isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
                if top_level:
                    self.names[statement.name.value] = f"{self.module_name}.{statement.name.value}"
                self._collect(statement.body, top_level=False)
            elif isinstance(statement, (cst.If, cst.Try, cst.With, cst.For, cst.While)):
                # Conditional imports (`if TYPE_CHECKING:`, `try: ... except ImportError:`)
                # bind at top level too.
                for block in _blocks(statement):
                    self._collect(block, top_level)

    def _add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _module_dotted(alias.name)
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.names[alias.asname.name.value] = self._locate(full)
                else:
                    head = full.split(".")[0]
                    self.names[head] = self._locate(head)
            return
        if isinstance(node.names, cst.ImportStar):
            return
        module = _module_dotted(node.module) if node.module is not None else ""
        if node.relative:
            base = self._package
            for _ in range(len(node.relative) - 1):
                base = base.rpartition(".")[0]
            module = f"{base}.{module}" if module else base
        elif module:
            module = self._locate(module)
        for alias in node.names:
            name = _module_dotted(alias.name)
            local = (
                alias.asname.name.value
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
                else name
            )
            self.names[local] = f"{module}.{name}" if module else name

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of a Name/Attribute chain whose head is imported or defined."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        resolved = self.names.get(head)
        if resolved is None:
            return None
        return f"{resolved}.{rest}" if rest else resolved


def _same(target: str) -> str:
    return target


def _blocks(statement: cst.BaseCompoundStatement) -> list[cst.BaseSuite]:
    blocks: list[cst.BaseSuite] = [statement.body]
    if isinstance(statement, cst.If) and statement.orelse is not None:
        orelse = statement.orelse
        blocks.extend(_blocks(orelse) if isinstance(orelse, cst.If) else [orelse.body])
    if isinstance(statement, cst.Try):
        blocks.extend(handler.body for handler in statement.handlers)
        if statement.orelse is not None:
            blocks.append(statement.orelse.body)
        if statement.finalbody is not None:
            blocks.append(statement.finalbody.body)
    return blocks
