"""Every rule's docs (`sqlsafe rule`, hovers, SARIF) have Ruff's sections in Ruff's order,
and their code is Python."""

import ast
import re

import pytest

from sqlsafe.checks.registry import CODES, meta
from sqlsafe.diagnostics import FixAvailability

# Ruff's sections in Ruff's order, plus `When it reports` (the conditions a finding needs,
# which this project's rules spell out) after the example it qualifies. Every rule explains
# a behaviour of SQLAlchemy or SQLModel, so it links to their documentation of it.
ORDER = (
    "What it does",
    "Why is this bad?",
    "Example",
    "When it reports",
    "Fix safety",
    "References",
)
ALWAYS = ("What it does", "Why is this bad?", "Example", "References")

FENCE = "```"
CODE_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.M | re.S)
# Ruff shows the better form after the example as a paragraph, not a heading of its own.
USE_INSTEAD = re.compile(r"^Use instead\b[^\n]*:\n```python\n", re.M)


def sections(doc: str) -> list[tuple[str, str]]:
    """The doc's `## ` sections as (title, body), in order. Lines in code blocks are code,
    not headings; text before the first heading is kept under the title ""."""
    found = [("", "")]
    in_code = False
    for line in doc.splitlines(keepends=True):
        if line.startswith(FENCE):
            in_code = not in_code
        if not in_code and line.startswith("#"):
            found.append((line.removeprefix("## ").strip(), ""))
        else:
            title, body = found[-1]
            found[-1] = (title, body + line)
    return found


@pytest.mark.parametrize("code", CODES)
def test_sections_follow_ruff(code: str) -> None:
    rule = meta(code)
    (_, preamble), *found = sections(rule.explanation)
    assert not preamble.strip(), "the docs start with a section"
    titles = [title for title, _ in found]
    assert set(titles) <= set(ORDER), f"unknown sections: {set(titles) - set(ORDER)}"
    assert titles == sorted(titles, key=ORDER.index), "sections out of order"
    assert len(titles) == len(set(titles)), "a section appears twice"
    fixable = rule.fix_availability is not FixAvailability.NONE
    required = (*ALWAYS, "Fix safety") if fixable else ALWAYS
    assert set(required) <= set(titles), f"missing: {set(required) - set(titles)}"
    for title, body in found:
        assert body.strip(), f"`## {title}` is empty"
    example = dict(found)["Example"]
    assert example.lstrip().startswith("```python\n"), "`## Example` opens with the code"
    if fixable:
        # A fix is a better form of the code, so the example shows it.
        assert USE_INSTEAD.search(example), "`## Example` has no `Use instead:` code"


@pytest.mark.parametrize("code", CODES)
def test_code_blocks_are_python(code: str) -> None:
    doc = meta(code).explanation
    blocks = CODE_BLOCK.findall(doc)
    assert blocks, "the docs show code"
    assert doc.count(FENCE) == 2 * len(blocks), "a code fence is left open"
    for language, block in blocks:
        assert language == "python"
        ast.parse(block)
