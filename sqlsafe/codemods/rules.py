"""One libcst `Codemod` per rule code, generated from the registry so none can be missing."""

from __future__ import annotations

import argparse
from functools import cache
from pathlib import Path
from typing import ClassVar

import libcst as cst
from libcst.codemod import Codemod, CodemodContext, SkipFile

from sqlsafe.checks.project import Index
from sqlsafe.checks.registry import CODES, load
from sqlsafe.diagnostics import Applicability, Diagnostic
from sqlsafe.engine import check_source, fix_source
from sqlsafe.selection import RuleSelection


@cache
def _project_index(root: Path) -> Index:
    """The index of the project the codemod runs in (libcst's runner works file by file)."""
    from sqlsafe.index import build_index

    files = sorted(p for p in root.rglob("*.py") if ".venv" not in p.parts)
    return build_index(files, [root, root / "src"])


class RuleCodemod(Codemod):
    CODES: ClassVar[tuple[str, ...]] = ()

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument(
            "--unsafe-fixes",
            action="store_true",
            default=False,
            help="Also apply fixes that may change behaviour.",
        )

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        from sqlsafe.index import module_name

        root = Path.cwd()
        path = Path(self.context.filename or root / "-").absolute()
        selection = RuleSelection(tuple(load(code) for code in self.CODES))
        index = _project_index(root)
        name = module_name(path, [root, root / "src"])

        def applicable(diagnostic: Diagnostic) -> bool:
            fix = diagnostic.fix
            return fix is not None and (
                fix.applicability is Applicability.SAFE
                or (self.unsafe_fixes and fix.applicability is Applicability.UNSAFE)
            )

        result = fix_source(
            tree.code, lambda text: check_source(text, path, name, selection, index), applicable
        )
        if result.error is not None:
            raise SkipFile(result.error)
        if result.text == tree.code:
            raise SkipFile("nothing to fix")
        return cst.parse_module(result.text)


for _code in CODES:
    globals()[_code] = type(
        _code,
        (RuleCodemod,),
        {"CODES": (_code,), "DESCRIPTION": f"Apply {_code}'s fixes ({load(_code).summary})."},
    )
