"""Where code sits on the page: the indentation of statements, for fixes that write code.

A fix is a text edit over a node's range, which starts after the statement's indentation:
text rendered for it (`Module.code_for_node`) has every line after the first at column 0
of its own blocks, and needs the statement's indentation added to them.
"""

from __future__ import annotations

import re

import libcst as cst

from sqlsafe.checks.base import FileContext, MemoKey
from sqlsafe.checks.blocks import indented
from sqlsafe.traversal import children

_INDENTS: MemoKey[dict[cst.CSTNode, str]] = MemoKey("statement indentation")
# Where Python ends a line (not at \f or the other breaks `str.splitlines` knows).
_LINE_ENDING = re.compile(r"(\r\n|\r|\n)")


def indent_of(context: FileContext, statement: cst.CSTNode) -> str:
    """The indentation of a statement, from the blocks around it."""
    indents = context.memo(
        _INDENTS,
        context.module,
        lambda: dict(indented(context.module)),
    )
    return indents.get(statement, "")


def statements_code(context: FileContext, statements: list[cst.CSTNode], indent: str) -> str:
    """`statements` as the text that replaces a statement indented by `indent`: the first
    line takes the replaced statement's place, the others are indented to match, and the
    last line ending is left to the text after the replaced range."""
    code = "".join(context.module.code_for_node(statement) for statement in statements)
    # Every line keeps the ending it was read with, which in a file of mixed line endings
    # is not always the module's default one.
    lines = _LINE_ENDING.split(code)  # line, ending, line, ..., line
    if len(lines) > 1 and not lines[-1]:
        del lines[-2:]
    text = lines[0]
    for ending, line in zip(lines[1::2], lines[2::2], strict=True):
        text += ending + (indent + line if line else line)
    return text


def has_multiline_string(node: cst.CSTNode) -> bool:
    """Does `node` hold a string spanning lines? Re-indenting would change its value."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.SimpleString, cst.FormattedString)):
            if "\n" in cst.Module([]).code_for_node(current):
                return True
            continue
        stack.extend(children(current))
    return False
