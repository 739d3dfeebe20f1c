from pathlib import Path

import pytest

from sqlsafe.checks.registry import CODES
from sqlsafe.config import (
    ConfigError,
    Resolver,
    parse_override,
    select_codes,
    validate,
    version_matches,
)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_nearest_config_wins_without_merging(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[tool.sqlsafe]\nhelpers-module = "app.db"\n[tool.sqlsafe.lint]\nignore = ["SQL001"]\n',
    )
    write(tmp_path / "sub" / "sqlsafe.toml", 'helpers-module = "sub.db"\n')
    write(tmp_path / "other" / "pyproject.toml", "[project]\nname = 'x'\n")  # no table: skipped
    resolver = Resolver(cwd=tmp_path)
    root = resolver.for_path(tmp_path / "a.py")
    sub = resolver.for_path(tmp_path / "sub" / "b.py")
    other = resolver.for_path(tmp_path / "other" / "c.py")
    assert root.helpers_module == "app.db" and "SQL001" not in root.enabled_codes()
    assert sub.helpers_module == "sub.db" and "SQL001" in sub.enabled_codes()
    assert other.config_path == tmp_path / "pyproject.toml"


def test_dot_file_beats_plain_and_pyproject(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.sqlsafe]\nhelpers-module = "a"\n')
    write(tmp_path / "sqlsafe.toml", 'helpers-module = "b"\n')
    write(tmp_path / ".sqlsafe.toml", 'helpers-module = "c"\n')
    assert Resolver(cwd=tmp_path).for_path(tmp_path / "x.py").helpers_module == "c"


def test_overrides_then_cli(tmp_path):
    write(tmp_path / "sqlsafe.toml", '[lint]\nselect = ["SQL001"]\n')
    overrides = validate(parse_override("lint.ignore = ['SQL001']"), "--config")
    resolver = Resolver(cwd=tmp_path, overrides=overrides)
    assert resolver.for_path(tmp_path / "x.py").enabled_codes() == frozenset()
    cli = resolver.with_cli(ignore=())
    assert cli.for_path(tmp_path / "x.py").enabled_codes() == {"SQL001"}


def test_isolated_ignores_files(tmp_path):
    write(tmp_path / "sqlsafe.toml", 'helpers-module = "b"\n')
    assert (
        Resolver(cwd=tmp_path, isolated=True).for_path(tmp_path / "x.py").helpers_module
        == "sqlsafe.helpers"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[lint]\nbogus-key = 5\n", "unknown field `lint.bogus-key`"),
        ("[lint]\nselect = 5\n", "invalid value for `lint.select`: expected a list of strings"),
        ("[lint]\nselect = ['NOPE1']\n", "Unknown rule selector `NOPE1` in `lint.select`"),
        ("fix = 'yes'\n", "invalid value for `fix`: expected a boolean"),
        ("output-format = 'xml'\n", "invalid value for `output-format`"),
        ("select = [\n", "TOML parse error"),
    ],
)
def test_bad_config_names_key_and_file(tmp_path, text, message):
    path = write(tmp_path / "sqlsafe.toml", text)
    with pytest.raises(ConfigError) as caught:
        Resolver(cwd=tmp_path).for_path(tmp_path / "x.py")
    causes = "\n".join(caught.value.causes)
    assert message in causes
    assert str(path) in causes


def test_selectors_most_specific_wins():
    assert select_codes(["ALL"], []) == frozenset(CODES)
    assert select_codes(["ALL"], ["SQL"]) == frozenset(CODES) - {"SQL001", "SQL002"}
    assert select_codes(["SQL001"], ["SQL"]) == {"SQL001"}
    assert select_codes(["SQL"], ["SQL"]) == frozenset()


@pytest.mark.parametrize(
    ("spec", "ok"),
    [
        (">=0.1", True),
        (">=99", False),
        ("==0.1.0", True),
        ("0.1", True),
        ("<0.1", False),
        (">=0.0,<1", True),
        ("==0.*", True),
        ("!=0.1.0", False),
    ],
)
def test_required_version(spec, ok):
    assert version_matches("0.1.0", spec) is ok


def test_required_version_fails_run(tmp_path):
    write(tmp_path / "sqlsafe.toml", 'required-version = ">=99"\n')
    with pytest.raises(ConfigError, match="Required version `>=99` does not match"):
        Resolver(cwd=tmp_path).for_path(tmp_path / "x.py")
