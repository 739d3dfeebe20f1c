"""What every DETACH/SCOPE finding of the rule tests must carry: a related location for each
step its message mentions, each pointing at code that is that step."""

from __future__ import annotations

import re

from sqlsafe.diagnostics import Diagnostic, Location

LIFECYCLE = ("DETACH001", "DETACH002", "DETACH003", "SCOPE001")
_CALL_SITE = re.compile(r"\((DETACH00\d) at (.+):(\d+)\)")
_CAUSE = re.compile(r"`(\w+\.\w+)\(\)`")


def _text(source: str, start: Location, end: Location) -> str:
    lines = source.splitlines(keepends=True)
    first = lines[start.row - 1][start.column - 1 :]
    return first if start.row != end.row else first[: end.column - start.column]


def assert_story(source: str, diagnostic: Diagnostic) -> None:
    if diagnostic.code not in LIFECYCLE:
        return
    message, notes = diagnostic.message, diagnostic.related
    call_site = _CALL_SITE.search(message)
    if call_site:
        (note,) = notes
        assert (str(note.path), note.start.row) == (call_site[2], int(call_site[3])), message
        return
    said = {note.message: _text(source, note.start, note.end) for note in notes}
    assert "instance obtained here" in said, message
    for cause in _CAUSE.findall(message):
        if cause.endswith(".commit") or cause.endswith(".rollback") or "expire" in cause:
            (text,) = [t for m, t in said.items() if f"`{cause}()`" in m]
            assert text.startswith(cause), (message, said)
    if "end of the `begin()` block" in message:
        assert any("`begin()` block" in m for m in said), (message, said)
    if "`refresh()`" in message:
        (text,) = [t for m, t in said.items() if "`refresh()`" in m]
        assert ".refresh(" in text, (message, said)
    if "closes" in message or "closed" in message:
        (closing,) = [t for m, t in said.items() if m.startswith("session `")]
        # A `with` block, a `close()`/`expunge()` call, or the assignment of a session that
        # a `finally:` closes.
        assert closing.lstrip().startswith(("with", "async with", "session")) or any(
            word in closing for word in (".close(", ".expunge", "=")
        ), (message, said)
