"""Fixing keeps every byte it did not mean to change."""

import pytest

from sqlsafe import source
from sqlsafe.locator import Locator

SNIPPET = 'from sqlmodel import Session, text\n\ndef f(s: Session):\n    return s.exec(text("select :x"), {"x": "é"})\n'


@pytest.mark.parametrize(
    ("encoding", "bom", "newline", "cookie"),
    [
        ("utf-8", False, "\n", ""),
        ("utf-8", True, "\r\n", ""),
        ("latin-1", False, "\n", "# -*- coding: latin-1 -*-\n"),
        ("utf-8", False, "\r", ""),
    ],
)
def test_decode_encode_round_trip(encoding, bom, newline, cookie):
    text = (cookie + SNIPPET).replace("\n", newline)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)
    decoded = source.decode(data)
    assert decoded.bom is bom
    assert decoded.text == text
    assert decoded.encode(decoded.text) == data


def test_undecodable_bytes_give_a_clear_error():
    with pytest.raises(source.SourceError, match="not valid utf-8"):
        source.decode(b"x = '\xff'\n")


def test_bad_cookie():
    with pytest.raises(source.SourceError):
        source.decode(b"# -*- coding: klingon -*-\nx = 1\n")


def test_locator_columns_are_characters():
    locator = Locator('x = "😀é"; import os\r\ny =\t1\n')
    assert locator.location(18).row == 1 and locator.location(18).column == 19
    assert locator.location(locator.text.index("y")).row == 2
    assert locator.line(1) == 'x = "😀é"; import os'
    assert locator.offset(locator.location(25)) == 25
