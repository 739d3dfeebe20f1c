"""The preview of a fix under `help:` in the `full` format, laid out like Ruff 0.17.5's.

```
  |
5 |
  - def load(session, ids=[]):
6 + def load(session, ids=None):
7 |     unused = 42
  |
```
Ruff applies the fix to the whole file and diffs the lines with Myers' algorithm (the
`similar` crate), showing one line of context and numbering kept and added lines in the
fixed file. The same algorithm is used here so that ties between equally short diffs (a
blank line moved or kept) come out the same.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate

from sqlsafe.diagnostics import Fix, Location
from sqlsafe.output._shared import sorted_edits
from sqlsafe.output._text import lines_with_ends, source_lines_with_ends, visible

CONTEXT = 1
HUNK_SEPARATOR = "-" * 80

# (tag, old start, old end, new start, new end); tags: "equal", "change"
Op = tuple[str, int, int, int, int]


def fix_diff(source: str, fix: Fix) -> list[str]:
    """The framed diff lines, or nothing when the fix changes no line."""
    old = source_lines_with_ends(source)
    new, same_prefix, same_suffix = _fixed_lines(source, fix)
    groups = _groups(_ops(old, new, same_prefix, same_suffix), CONTEXT)
    if not groups:
        return []
    number_width = len(str(max(groups[-1][-1][4], 1)))
    gutter = " " * (number_width + 1) + "|"
    out = [gutter]
    for index, group in enumerate(groups):
        if index:
            out.append(HUNK_SEPARATOR)
        for tag, old_start, old_end, new_start, new_end in group:
            if tag == "equal":
                kept = range(new_start, new_end)
                out.extend(_line(j + 1, "|", new[j], number_width) for j in kept)
                continue
            out.extend(_line(None, "-", old[i], number_width) for i in range(old_start, old_end))
            out.extend(_line(j + 1, "+", new[j], number_width) for j in range(new_start, new_end))
    out.append(gutter)
    return out


def _line(number: int | None, sign: str, text: str, number_width: int) -> str:
    label = f"{number:<{number_width}}" if number is not None else " " * number_width
    content = visible(text.rstrip("\r\n"))
    return f"{label} {sign} {content}" if content else f"{label} {sign}"


@lru_cache(maxsize=8)
def _line_starts(source: str) -> tuple[int, ...]:
    """Offset of each line's start, and the source's length last."""
    return (0, *accumulate(len(line) for line in source_lines_with_ends(source)))


def _edit_offsets(source: str, fix: Fix) -> list[tuple[int, int, str]]:
    starts = _line_starts(source)

    def offset(location: Location) -> int:
        if location.row >= len(starts):
            return len(source)
        row_start = starts[max(location.row, 1) - 1]
        return min(row_start + max(location.column - 1, 0), starts[max(location.row, 1)])

    offsets: list[tuple[int, int, str]] = []
    for edit in sorted_edits(fix):
        begin, end = offset(edit.start), offset(edit.end)
        if offsets and begin < offsets[-1][1]:  # overlapping edits cannot both apply
            continue
        offsets.append((begin, max(begin, end), edit.content))
    return offsets


def apply_fix(source: str, fix: Fix) -> str:
    """The source with the fix's edits made."""
    return _splice(source, 0, len(source), _edit_offsets(source, fix))


def _splice(source: str, start: int, stop: int, edits: list[tuple[int, int, str]]) -> str:
    pieces = []
    position = start
    for begin, end, content in edits:
        pieces += [source[position:begin], content]
        position = end
    pieces.append(source[position:stop])
    return "".join(pieces)


def _fixed_lines(source: str, fix: Fix) -> tuple[list[str], int, int]:
    """The fixed file's lines, and how many lines at its start and end are the old ones.

    Only the lines the edits touch are re-split, and the diff is told which lines it need not
    compare, so that a file with many findings is not split and compared once per finding.
    """
    old = source_lines_with_ends(source)
    edits = _edit_offsets(source, fix)
    if not edits:
        return list(old), len(old), 0
    starts = _line_starts(source)
    first = bisect_right(starts, edits[0][0]) - 1
    # The region must start where a line starts in the fixed text too.
    while first > 0 and (first >= len(old) or not old[first - 1].endswith(("\n", "\r"))):
        first -= 1
    last = min(bisect_right(starts, edits[-1][1]), len(old))
    region = _splice(source, starts[first], starts[last], edits)
    return [*old[:first], *lines_with_ends(region), *old[last:]], first, len(old) - last


def _ops(old: Sequence[str], new: Sequence[str], same_prefix: int, same_suffix: int) -> list[Op]:
    raw: list[Op] = []
    _conquer(old, 0, len(old), new, 0, len(new), raw, same_prefix, same_suffix)
    # Neighbouring deletions and insertions form one change, shown deletions first.
    merged: list[Op] = []
    for op in raw:
        if merged and (merged[-1][0] == "equal") == (op[0] == "equal"):
            tag, old_start, _, new_start, _ = merged[-1]
            merged[-1] = (tag, old_start, op[2], new_start, op[4])
        else:
            merged.append(op)
    return merged


def _conquer(
    old: Sequence[str],
    o0: int,
    o1: int,
    new: Sequence[str],
    n0: int,
    n1: int,
    out: list[Op],
    same_prefix: int = 0,
    same_suffix: int = 0,
) -> None:
    # Lines the caller knows to be equal are not compared again; stripping then goes on as
    # usual, so the result is the one comparing them would give.
    prefix = min(same_prefix, o1 - o0, n1 - n0)
    while o0 + prefix < o1 and n0 + prefix < n1 and old[o0 + prefix] == new[n0 + prefix]:
        prefix += 1
    if prefix:
        out.append(("equal", o0, o0 + prefix, n0, n0 + prefix))
    o0, n0 = o0 + prefix, n0 + prefix
    suffix = min(same_suffix, o1 - o0, n1 - n0)
    while o1 - suffix > o0 and n1 - suffix > n0 and old[o1 - suffix - 1] == new[n1 - suffix - 1]:
        suffix += 1
    o1, n1 = o1 - suffix, n1 - suffix
    if o0 < o1 or n0 < n1:
        if o0 == o1 or n0 == n1:
            out.append(("change", o0, o1, n0, n1))
        else:
            x, y = _middle_snake(old, o0, o1, new, n0, n1)
            _conquer(old, o0, x, new, n0, y, out)
            _conquer(old, x, o1, new, y, n1, out)
    if suffix:
        out.append(("equal", o1, o1 + suffix, n1, n1 + suffix))


def _middle_snake(
    old: Sequence[str], o0: int, o1: int, new: Sequence[str], n0: int, n1: int
) -> tuple[int, int]:
    """Where an optimal path crosses the middle, searching from both corners at once."""
    n, m = o1 - o0, n1 - n0
    delta = n - m
    odd = delta % 2 == 1
    limit = (n + m + 1) // 2 + 1
    size = 2 * limit + 2
    forward = [0] * size  # furthest x on each diagonal k (index k + limit)
    backward = [0] * size
    for d in range(limit):
        for k in range(d, -d - 1, -2):
            if k == -d or (k != d and forward[k - 1 + limit] < forward[k + 1 + limit]):
                x = forward[k + 1 + limit]
            else:
                x = forward[k - 1 + limit] + 1
            y = x - k
            snake_x, snake_y = x, y
            while x < n and y < m and old[o0 + x] == new[n0 + y]:
                x += 1
                y += 1
            forward[k + limit] = x
            if odd and abs(k - delta) <= d - 1 and x + backward[delta - k + limit] >= n:
                return o0 + snake_x, n0 + snake_y
        for k in range(d, -d - 1, -2):
            if k == -d or (k != d and backward[k - 1 + limit] < backward[k + 1 + limit]):
                x = backward[k + 1 + limit]
            else:
                x = backward[k - 1 + limit] + 1
            y = x - k
            while x < n and y < m and old[o1 - x - 1] == new[n1 - y - 1]:
                x += 1
                y += 1
            backward[k + limit] = x
            if not odd and abs(k - delta) <= d and x + forward[delta - k + limit] >= n:
                return o1 - x, n1 - y
    raise AssertionError("no middle snake")  # unreachable for a finite diff


def _groups(ops: list[Op], context: int) -> list[list[Op]]:
    """Hunks: changes with `context` kept lines around them, split where more lines are kept."""
    if not ops:
        return []
    ops = list(ops)
    tag, o0, o1, n0, n1 = ops[0]
    if tag == "equal":
        cut = max(o1 - o0 - context, 0)
        ops[0] = (tag, o0 + cut, o1, n0 + cut, n1)
    tag, o0, o1, n0, n1 = ops[-1]
    if tag == "equal":
        keep = min(o1 - o0, context)
        ops[-1] = (tag, o0, o0 + keep, n0, n0 + keep)
    groups: list[list[Op]] = []
    group: list[Op] = []
    for op in ops:
        tag, o0, o1, n0, n1 = op
        if tag == "equal" and o1 - o0 > 2 * context:
            group.append((tag, o0, o0 + context, n0, n0 + context))
            groups.append(group)
            group = [(tag, o1 - context, o1, n1 - context, n1)]
            continue
        group.append(op)
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return [g for g in groups if any(op[0] != "equal" for op in g)]
