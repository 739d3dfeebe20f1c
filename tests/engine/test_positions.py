"""sqlsafe's position pass gives every node the range libcst's `PositionProvider` gives it."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from sqlsafe.positions import Positions
from tests.engine.test_traversal import TRICKY, _sources

# Line endings other than the module's, tabs, a backslash continuation, strings spanning
# lines, a comment after a continuation, and a file without a final newline.
ODD = [
    "def f():\r\n\tif x:\r\n\t\treturn (a,\r\n\t\t\tb)\r\n",
    "x = 1\ny = '''a\r\nb\rc'''\nz = \\\n    2  # after\n",
    "x = '''a\rb'''\ny = (1,\r    2)\n",
    "async def g():\n    async with s() as t:\n        return await t.exec(\n            q\n        )",
    "match p:\n    case {'a': [1, *rest]} if rest:\n        pass\n    case _:\n        pass\n",
    "@d\nclass C(B, metaclass=M):\n    x: int = 1\n\n\n# end\n",
]


@pytest.mark.parametrize(
    "source",
    [TRICKY, *ODD, *_sources()],
    ids=lambda source: source.split("\n")[1][:40] if "\n" in source else source[:40],
)
def test_every_node_has_libcsts_range(source: str) -> None:
    module = cst.parse_module(source)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ours = Positions(module)
    assert theirs
    for node, where in theirs.items():
        assert ours[node] == where, type(node).__name__


def test_a_node_of_another_tree_has_no_range() -> None:
    ours = Positions(cst.parse_module("x = 1\n"))
    with pytest.raises(KeyError):
        ours[cst.parse_module("x = 1\n").body[0]]
