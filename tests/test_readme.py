from pathlib import Path

from sqlsafe.checks.registry import markdown_table

README = Path(__file__).parents[1] / "README.md"


def test_rule_table_matches_the_rules():
    text = README.read_text()
    start = text.index("<!-- rules:start -->")
    end = text.index("<!-- rules:end -->")
    assert markdown_table() in text[start:end], (
        "regenerate with sqlsafe.checks.registry.markdown_table()"
    )
