"""The engine's promises, tested with small rules defined here (not shipped)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from sqlsafe.checks.base import EmptyIndex, FixPlan, Replace, Rule
from sqlsafe.diagnostics import Applicability
from sqlsafe.engine import check_source, fix_source
from sqlsafe.selection import RuleSelection

PATH = Path("/p/m.py")


class Explodes(Rule):
    code = "TST001"
    name = "explodes"
    summary = "x"

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "boom":
            raise RuntimeError("kaboom")
        self.report(node, "name seen")


class BreaksSyntax(Rule):
    code = "TST002"
    name = "breaks-syntax"
    summary = "x"

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "x":
            plan = FixPlan((Replace(node, "x ="),), Applicability.SAFE, "break it")
            self.report(node, "will break", plan)


class Renames(Rule):
    code = "TST003"
    name = "renames"
    summary = "x"

    def visit_Name(self, node: cst.Name) -> None:
        if node.value.startswith("old"):
            new = node.value.replace("old", "new", 1)
            plan = FixPlan(
                (Replace(node, new),), Applicability.SAFE, "rename", (("pkg.helpers", "util"),)
            )
            self.report(node, "old name", plan)


def run(text: str, *rules: type[Rule]):
    return check_source(text, PATH, "m", RuleSelection(rules), EmptyIndex())


def fix(text: str, *rules: type[Rule]):
    return fix_source(text, lambda t: run(t, *rules), lambda d: True)


def test_exception_in_one_rule_becomes_a_diagnostic_and_others_run():
    result = run("a = boom\n", Explodes, Renames)
    (diagnostic,) = result.diagnostics
    assert diagnostic.code == "internal-error"
    assert "TST001" in diagnostic.message and "RuntimeError: kaboom" in diagnostic.message
    assert {d.code for d in run("old = boom\n", Explodes, Renames).diagnostics} == {
        "internal-error",
        "TST003",
    }


def test_syntax_error_is_a_diagnostic():
    (diagnostic,) = run("def f(:\n", Renames).diagnostics
    assert diagnostic.code == "invalid-syntax"
    assert diagnostic.start.row == 1


def test_fix_that_breaks_syntax_is_reported_not_applied():
    result = fix("x\n", BreaksSyntax)
    assert result.text == "x\n"
    assert result.error is not None and "TST002" in result.error


def test_fixes_add_imports_once_after_existing_imports():
    text = '"""Doc."""\nimport os\n\nold_a = 1\nold_b = old_a\n'
    result = fix(text, Renames)
    assert (
        result.text
        == '"""Doc."""\nimport os\nfrom pkg.helpers import util\n\nnew_a = 1\nnew_b = new_a\n'
    )
    assert result.fixed["TST003"] == 3
    assert fix(result.text, Renames).text == result.text


def test_import_is_not_duplicated_and_crlf_is_kept():
    text = "from pkg.helpers import util\r\nold = 1\r\n"
    assert fix(text, Renames).text == "from pkg.helpers import util\r\nnew = 1\r\n"


def test_import_into_a_file_without_trailing_newline():
    assert fix("import os", Renames).text == "import os"
    assert (
        fix("import os\nold = 1", Renames).text
        == "import os\nfrom pkg.helpers import util\nnew = 1"
    )


def test_noqa_suppresses_before_fixing():
    text = "old = 1  # noqa: TST003\nold2 = 2\n"
    assert (
        fix(text, Renames).text
        == "from pkg.helpers import util\nold = 1  # noqa: TST003\nnew2 = 2\n"
    )


def test_relative_imports_in_a_package_init_resolve_from_the_package():
    from sqlsafe.checks.names import ImportTable

    module = cst.parse_module("from .user import User\nfrom ..db import engine\n")
    package = ImportTable(module, "app.models", is_package=True)
    assert package.names == {"User": "app.models.user.User", "engine": "app.db.engine"}
    plain = ImportTable(module, "app.models.base")
    assert plain.names == {"User": "app.models.user.User", "engine": "app.db.engine"}
