"""Parsing with the stdlib `ast` whatever Python runs sqlsafe.

The index reads every file with the running interpreter's `ast`, which rejects syntax newer
than itself: on Python 3.11, `type X = int` and `class Box[T]:` (3.12), `except A, B:`
(3.14). libcst parses all of them. A file `ast` rejects is parsed with libcst, rewritten
into the older spelling of what the index reads (an alias becomes an assignment, type
parameters go, the exception tuple gets its parentheses, f-strings become plain strings
of the same height) and parsed again, so that its models and factories are not lost and it
is not reported as a syntax error. Only a file libcst rejects too is invalid.
"""

from __future__ import annotations

import ast

PARSE_ERRORS = (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError)


def parse(source: bytes | str, filename: str) -> ast.Module:
    """The `ast` tree of a file; raises the interpreter's error when libcst rejects it too."""
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as error:
        older = older_spelling(source)
        if older is None:
            raise error from None
        return ast.parse(older, filename=filename)


def libcst_accepts(source: bytes | str) -> bool:
    """Whether libcst, which knows every syntax up to Python 3.14, parses the file."""
    from sqlsafe.index.downgrade import libcst_module

    return libcst_module(source) is not None


def older_spelling(source: bytes | str) -> str | None:
    """The file rewritten in syntax the running `ast` accepts (same lines), or None when
    libcst rejects it."""
    from sqlsafe.index.downgrade import downgraded

    return downgraded(source)
