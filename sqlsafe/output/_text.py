"""How source text looks on a terminal: line splitting, replaced characters and column widths."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_WITH_END = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")

# Characters a terminal would act on instead of showing; Ruff shows the control pictures.
_CONTROL_PICTURES = {"\x07": "␇", "\x08": "␈", "\x1b": "␛", "\x7f": "␡"}
# Joiners and bidirectional overrides change how a terminal lays out the rest of the line
# (and can hide code), so the source frame drops them, as Ruff's does.
_DROPPED = "\u200d\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ZERO_WIDTH = frozenset("\u200b\u200c\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")

_VISIBLE = str.maketrans(_CONTROL_PICTURES)
_FRAME = str.maketrans({"\t": "    ", **_CONTROL_PICTURES, **dict.fromkeys(_DROPPED)})


# A file's text is split once for all its findings, not once per finding.
@lru_cache(maxsize=8)
def split_lines(source: str) -> tuple[str, ...]:
    """Lines without their breaks; a source ending in a break ends with an empty line."""
    return tuple(_LINE_BREAK.split(source))


def lines_with_ends(text: str) -> tuple[str, ...]:
    """Lines with their breaks, the way a line diff compares them."""
    return tuple(_LINE_WITH_END.findall(text))


@lru_cache(maxsize=8)
def source_lines_with_ends(source: str) -> tuple[str, ...]:
    return lines_with_ends(source)


def visible(text: str) -> str:
    """Text for the fix diff: only the characters a terminal would act on are replaced."""
    return text.translate(_VISIBLE)


def for_frame(text: str) -> str:
    """Text for the source frame: tabs become four spaces, as in Ruff's frames."""
    return text.translate(_FRAME)


def char_width(char: str) -> int:
    if char in _ZERO_WIDTH or unicodedata.combining(char):
        return 0
    if unicodedata.category(char) == "Me":
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def width(text: str) -> int:
    return sum(char_width(char) for char in text)
