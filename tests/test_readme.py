import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sqlsafe.checks.registry import CODES, markdown_table

README = Path(__file__).parents[1] / "README.md"


def test_rule_table_matches_the_rules():
    text = README.read_text()
    start = text.index("<!-- rules:start -->")
    end = text.index("<!-- rules:end -->")
    assert markdown_table() in text[start:end], (
        "regenerate with sqlsafe.checks.registry.markdown_table()"
    )


def _prefixes() -> set[str]:
    return {re.match(r"[A-Z]+", code).group() for code in CODES}  # type: ignore[union-attr]


def test_ruff_external_lists_every_prefix():
    """Ruff's RUF100 rewrite drops codes no `external` prefix covers: the documented list
    must name every rule's prefix."""
    documented = re.compile(r"^external = (\[.*\])$", re.M)
    for text in (README.read_text(), (README.parent / "pyproject.toml").read_text()):
        (listed,) = documented.findall(text)
        assert set(json.loads(listed)) == _prefixes()


def test_no_prefix_covers_a_ruff_rule():
    """`external = ["AWAIT"]` tells Ruff that every code starting with AWAIT is someone
    else's; a prefix that also starts a Ruff code would hide that rule's unused noqa."""
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (it is a test dependency)")
    listing = subprocess.run(
        [ruff, "rule", "--all", "--output-format", "json"], capture_output=True, check=True
    )
    ruff_codes = {rule["code"] for rule in json.loads(listing.stdout) if rule["code"]}
    assert len(ruff_codes) > 900
    assert not {code for code in ruff_codes if code.startswith(tuple(_prefixes()))}
