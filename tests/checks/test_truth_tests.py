"""One answer to "is this use of `found` a truth test": statements (is a Row used as a model?)
sees a use through the scope model's parent and grandparent, the DETACH caller migration
through a parent map of the whole function; both ask `truth.is_truth_test`."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from sqlsafe.checks.base import EmptyIndex, FileContext, RuleSettings
from sqlsafe.checks.names import ImportTable
from sqlsafe.checks.scopes import scope_of
from sqlsafe.checks.truth import is_truth_test
from sqlsafe.traversal import children

CASES = [
    ("if found: pass", True),
    ("while found: pass", True),
    ("x = 1 if found else 2", True),
    ("x = found if flag else 2", False),
    ("x = not found", True),
    ("x = found is None", True),
    ("x = found is not None", True),
    ("x = None is found", True),
    ("x = None is not found", True),
    ("x = found == None", False),
    ("x = found is None is None", False),
    ("if found and flag: pass", True),
    ("found and log(found.id)", True),
    ("x = found or default", False),
    ("x = -found", False),
    ("log(found)", False),
]


def _function(snippet: str) -> tuple[FileContext, cst.FunctionDef, cst.Name]:
    code = "def f():\n" + textwrap.indent(snippet, "    ") + "\n"
    module = cst.parse_module(code)
    context = FileContext(module, "m", ImportTable(module, "m"), EmptyIndex(), RuleSettings())
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef)
    names = [n for n in _walk(function) if isinstance(n, cst.Name) and n.value == "found"]
    return context, function, names[0]


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    found = [node]
    for child in children(node):
        found.extend(_walk(child))
    return found


def _parents(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    return {child: node for node in _walk(root) for child in children(node)}


@pytest.mark.parametrize(("snippet", "expected"), CASES)
def test_statements_and_migration_share_the_answer(snippet: str, expected: bool) -> None:
    context, function, name = _function(snippet)
    use = scope_of(context, function).uses[name]
    as_statements_see_it = is_truth_test(name, {name: use.parent, use.parent: use.grandparent}.get)
    as_migration_sees_it = is_truth_test(name, _parents(function).get)
    assert (as_statements_see_it, as_migration_sees_it) == (expected, expected)
