"""Reading and writing Python source files byte-exactly.

A fix must change only the bytes it meant to change: the file's encoding (PEP 263 cookie),
its BOM and its line endings all survive a rewrite (`writer` keeps the rest).
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"


class SourceError(Exception):
    """The file cannot be read as Python text; the message says why."""


@dataclass(frozen=True)
class Source:
    text: str
    encoding: str
    bom: bool

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return UTF8_BOM + data if self.bom else data


def decode(data: bytes) -> Source:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if "unknown encoding" in str(error):
            raise SourceError(f"{error}; fix the `# -*- coding: ... -*-` comment") from None
        # Bytes in the first two lines that are not UTF-8 and no cookie: let the decode
        # below say where.
        encoding = "utf-8"
    bom = encoding == "utf-8-sig"
    if bom:
        encoding = "utf-8"
        data = data[len(UTF8_BOM) :]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise SourceError(
            f"File is not valid {encoding} (byte {data[error.start]:#04x} at line {line}); "
            "declare its encoding with a `# -*- coding: ... -*-` comment"
        ) from None
    except LookupError:
        raise SourceError(f"Unknown encoding `{encoding}` in the coding comment") from None
    return Source(text, encoding, bom)


def read(path: Path) -> Source:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(error.strerror or str(error)) from None
    return decode(data)
