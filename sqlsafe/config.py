"""Configuration: `[tool.sqlsafe]` / `sqlsafe.toml` / `.sqlsafe.toml`, with Ruff's key names.

Every file is checked with the settings of its nearest config file (no merging across
files, as in Ruff); `--config KEY=VALUE` overrides apply on top of each, and command-line
flags on top of those.
"""

from __future__ import annotations

import keyword
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from sqlsafe import __version__
from sqlsafe.checks.registry import CODES

CONFIG_NAMES = (".sqlsafe.toml", "sqlsafe.toml", "pyproject.toml")
# Without a config file, the project is the nearest folder holding one of these.
PROJECT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")

DEFAULT_EXCLUDE = (
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".sqlsafe_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)

OUTPUT_FORMATS = (
    "concise",
    "full",
    "json",
    "json-lines",
    "junit",
    "grouped",
    "github",
    "gitlab",
    "pylint",
    "rdjson",
    "azure",
    "sarif",
)


class ConfigError(Exception):
    """Bad configuration; the CLI prints it as `sqlsafe failed` and exits 2.

    Each element of `causes` becomes one `Cause:` line.
    """

    def __init__(self, *causes: str) -> None:
        super().__init__(causes[-1])
        self.causes = causes


@dataclass(frozen=True)
class Settings:
    """Resolved settings for the files under one config file."""

    root: Path
    """The project root: relative settings (`src`, `exclude`, `cache-dir`, ...) start here,
    and the project index covers every included file below it."""
    config_path: Path | None = None
    # [lint]
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    extend_per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fixable: tuple[str, ...] = ("ALL",)
    unfixable: tuple[str, ...] = ()
    extend_fixable: tuple[str, ...] = ()
    extend_safe_fixes: tuple[str, ...] = ()
    extend_unsafe_fixes: tuple[str, ...] = ()
    external: tuple[str, ...] = ()
    # top level
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    force_exclude: bool = False
    respect_gitignore: bool = True
    include: tuple[str, ...] = ("*.py", "*.pyi")
    extend_include: tuple[str, ...] = ()
    output_format: str = "full"
    cache_dir: Path | None = None
    fix: bool = False
    fix_only: bool = False
    unsafe_fixes: bool | None = None
    show_fixes: bool = False
    required_version: str | None = None
    helpers_module: str = "sqlsafe.helpers"
    session_factories: tuple[str, ...] = ()
    src: tuple[str, ...] = (".", "src")
    sqlalchemy_version: str = "2.0"
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    """Where each non-default value came from, for `--show-settings` and error messages."""
    root_reason: str = field(default="", compare=False)
    """How `root` was chosen, for `--show-settings`."""

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or self.root / ".sqlsafe_cache"

    def src_roots(self) -> list[Path]:
        return [self.root / entry for entry in self.src]

    def enabled_codes(self) -> frozenset[str]:
        return select_codes(self.select + self.extend_select, self.ignore)

    def fixable_codes(self) -> frozenset[str]:
        return select_codes(self.fixable + self.extend_fixable, self.unfixable)


# ---------------------------------------------------------------- value checking


def _list_of_str(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise TypeError("expected a list of strings")
    return tuple(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected a boolean")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _module_name(value: object) -> str:
    text = _str(value)
    if not all(part.isidentifier() and not keyword.iskeyword(part) for part in text.split(".")):
        raise TypeError(f"expected a dotted module name such as `app.db_helpers`, not `{text}`")
    return text


def _output_format(value: object) -> str:
    text = _str(value)
    if text not in OUTPUT_FORMATS:
        raise TypeError(f"expected one of {', '.join(f'`{f}`' for f in OUTPUT_FORMATS)}")
    return text


def _per_file(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise TypeError("expected a table of glob = [selectors]")
    return tuple((str(glob), _list_of_str(codes)) for glob, codes in value.items())


def _version(value: object) -> str:
    text = _str(value)
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise TypeError('expected a version such as "2.0" or "2.0.22"')
    return text


_LINT_KEYS: dict[str, Callable[[object], Any]] = {
    "select": _list_of_str,
    "extend-select": _list_of_str,
    "ignore": _list_of_str,
    "per-file-ignores": _per_file,
    "extend-per-file-ignores": _per_file,
    "fixable": _list_of_str,
    "unfixable": _list_of_str,
    "extend-fixable": _list_of_str,
    "extend-safe-fixes": _list_of_str,
    "extend-unsafe-fixes": _list_of_str,
    "external": _list_of_str,
}
_TOP_KEYS: dict[str, Callable[[object], Any]] = {
    "exclude": _list_of_str,
    "extend-exclude": _list_of_str,
    "force-exclude": _bool,
    "respect-gitignore": _bool,
    "include": _list_of_str,
    "extend-include": _list_of_str,
    "output-format": _output_format,
    "cache-dir": _str,
    "fix": _bool,
    "fix-only": _bool,
    "unsafe-fixes": _bool,
    "show-fixes": _bool,
    "required-version": _str,
    "helpers-module": _module_name,
    "session-factories": _list_of_str,
    "src": _list_of_str,
    "sqlalchemy-version": _version,
}
_SELECTOR_KEYS = (
    "select",
    "extend-select",
    "ignore",
    "fixable",
    "unfixable",
    "extend-fixable",
    "extend-safe-fixes",
    "extend-unsafe-fixes",
)


def _attribute(key: str) -> str:
    return key.replace("-", "_")


def validate(table: Mapping[str, object], origin: str) -> dict[str, object]:
    """Check a `[tool.sqlsafe]`-shaped table; keys come back flat (`lint.select` -> select).

    `origin` names where the table came from, for messages.
    """
    values: dict[str, object] = {}
    for key, value in table.items():
        if key == "lint":
            if not isinstance(value, dict):
                raise ConfigError(f"Failed to parse {origin}", "`lint` must be a table")
            for lint_key, lint_value in value.items():
                values[lint_key] = _check_key(_LINT_KEYS, f"lint.{lint_key}", lint_value, origin)
        elif key in _LINT_KEYS:
            print(
                "warning: The top-level linter settings are deprecated in favour of their "
                f"counterparts in the `lint` section. Please update `{key}` -> `lint.{key}` "
                f"in {origin}",
                file=sys.stderr,
            )
            values[key] = _check_key(_LINT_KEYS, key, value, origin)
        else:
            values[key] = _check_key(_TOP_KEYS, key, value, origin)
    for key in _SELECTOR_KEYS:
        if key in values:
            check_selectors(values[key], f"`lint.{key}` in {origin}")  # type: ignore[arg-type]
    for _, codes in values.get("per-file-ignores", ()) + values.get(  # type: ignore[operator]
        "extend-per-file-ignores", ()
    ):
        check_selectors(codes, f"`lint.per-file-ignores` in {origin}")
    return values


def _check_key(
    schema: Mapping[str, Callable[[object], Any]], key: str, value: object, origin: str
) -> object:
    short = key.removeprefix("lint.")
    checker = schema.get(short)
    if checker is None:
        expected = ", ".join(f"`{k}`" for k in schema)
        raise ConfigError(
            f"Failed to parse {origin}",
            f"unknown field `{key}`, expected one of {expected}",
        )
    try:
        return checker(value)
    except TypeError as error:
        raise ConfigError(
            f"Failed to parse {origin}", f"invalid value for `{key}`: {error}"
        ) from None


# ---------------------------------------------------------------- rule selectors


def check_selectors(selectors: Sequence[str], where: str) -> None:
    for selector in selectors:
        if selector != "ALL" and not any(code.startswith(selector) for code in CODES):
            raise ConfigError(f"Unknown rule selector `{selector}` in {where}")


def select_codes(selected: Sequence[str], ignored: Sequence[str]) -> frozenset[str]:
    """Ruff's rule: the most specific matching selector wins; on a tie, ignore wins."""

    def specificity(selectors: Sequence[str], code: str) -> int:
        best = -1
        for selector in selectors:
            if selector == "ALL":
                best = max(best, 0)
            elif code.startswith(selector):
                best = max(best, len(selector))
        return best

    return frozenset(
        code
        for code in CODES
        if (chosen := specificity(selected, code)) >= 0 and chosen > specificity(ignored, code)
    )


# ---------------------------------------------------------------- files


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"Failed to parse {path}", f"TOML parse error: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"Failed to parse {path}", f"TOML parse error: not valid UTF-8 ({error.reason})"
        ) from None
    except OSError as error:
        raise ConfigError(f"Failed to read {path}", error.strerror or str(error)) from None


def table_of(path: Path) -> dict[str, Any] | None:
    """The sqlsafe table of a config file, or None for a pyproject.toml without one."""
    data = _read_toml(path)
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool", {})
    table = tool.get("sqlsafe") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"Failed to parse {path}", "`tool.sqlsafe` must be a table")
    return table


@cache
def find_config(directory: Path) -> Path | None:
    """The nearest config file at or above `directory`."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if candidate.is_file() and (name != "pyproject.toml" or table_of(candidate) is not None):
            return candidate
    parent = directory.parent
    return None if parent == directory else find_config(parent)


@cache
def find_project_root(directory: Path) -> tuple[Path, str] | None:
    """The nearest folder at or above `directory` that holds a project marker, and which."""
    for name in PROJECT_MARKERS:
        if (directory / name).exists():
            return directory, f"nearest folder with {name}"
    parent = directory.parent
    return None if parent == directory else find_project_root(parent)


def parse_override(text: str) -> dict[str, object]:
    """A `--config KEY=VALUE` argument as a table (`lint.select = ["ROW"]`)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"invalid value '{text}' for '--config <CONFIG_OPTION>'",
            f"it is neither a path to an existing file nor valid TOML ({error}); "
            "example: --config \"lint.select = ['ROW']\"",
        ) from None


@dataclass
class Resolver:
    """Finds and caches the settings for each directory of a run."""

    cwd: Path
    config_file: Path | None = None
    """`--config FILE`: used for every file."""
    isolated: bool = False
    overrides: dict[str, object] = field(default_factory=dict)
    """Validated `--config KEY=VALUE` values."""
    cli: dict[str, object] = field(default_factory=dict)
    """Values from dedicated flags (`--select`, `--fix`, ...), already validated."""
    _by_config: dict[tuple[Path | None, Path], Settings] = field(default_factory=dict)
    _by_folder: dict[Path, Settings] = field(default_factory=dict)

    def for_path(self, path: Path, is_file: bool = False) -> Settings:
        """The settings of a file or folder (`is_file` spares a stat when it is known)."""
        folder = path if path.is_absolute() else Path(os.path.abspath(path))
        if is_file or not folder.is_dir():
            folder = folder.parent
        known = self._by_folder.get(folder)
        if known is not None:
            return known
        if self.isolated:
            config = None
        elif self.config_file is not None:
            config = self.config_file
        else:
            config = find_config(folder)
        root, reason = self._root(folder, config)
        key = (config, root)
        if key not in self._by_config:
            self._by_config[key] = self._build(config, root, reason)
        self._by_folder[folder] = self._by_config[key]
        return self._by_config[key]

    def _root(self, folder: Path, config: Path | None) -> tuple[Path, str]:
        """The project root, as Ruff finds it: the folder of the nearest config file; with
        none, the nearest folder with a project marker; else the working directory. A
        `--config FILE` makes relative settings start at the working directory, as in Ruff."""
        if self.config_file is not None:
            return self.cwd, "the working directory (--config FILE)"
        if config is not None:
            return config.parent, f"folder of {config}"
        found = find_project_root(folder)
        if found is not None:
            return found
        return self.cwd, "the working directory (no config file or project marker above)"

    def _build(self, config: Path | None, root: Path, reason: str) -> Settings:
        values: dict[str, object] = {}
        sources: dict[str, str] = {}
        if config is not None:
            table = table_of(config) or {}
            values.update(validate(table, str(config)))
            sources.update(dict.fromkeys(values, str(config)))
        values.update(self.overrides)
        sources.update(dict.fromkeys(self.overrides, "--config"))
        values.update(self.cli)
        sources.update(dict.fromkeys(self.cli, "command line"))
        kwargs: dict[str, Any] = {}
        names = {f.name for f in fields(Settings)}
        for key, value in values.items():
            attribute = _attribute(key)
            if attribute in names:
                kwargs[attribute] = value
        if isinstance(kwargs.get("cache_dir"), str):
            kwargs["cache_dir"] = root / os.path.expanduser(kwargs["cache_dir"])
        settings = Settings(
            root=root, config_path=config, sources=sources, root_reason=reason, **kwargs
        )
        if settings.required_version is not None:
            check_required_version(settings.required_version)
        return settings

    def with_cli(self, **values: object) -> Resolver:
        return replace(self, cli={**self.cli, **values}, _by_config={}, _by_folder={})


def check_required_version(specifier: str) -> None:
    if not version_matches(__version__, specifier):
        raise ConfigError(
            f"Required version `{specifier}` does not match the running version `{__version__}`"
        )


def _parse_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def version_matches(version: str, specifier: str) -> bool:
    """A PEP 440 subset: comma-separated clauses of ==, !=, >=, <=, >, <, ~= or a bare version."""
    current = _parse_version(version)
    for clause in specifier.split(","):
        match = re.fullmatch(r"\s*(==|!=|>=|<=|~=|>|<)?\s*([\d.]+)(\.\*)?\s*", clause)
        if match is None:
            raise ConfigError(f"Invalid `required-version` specifier `{specifier}`")
        operator, raw, wildcard = match.group(1) or "==", match.group(2), match.group(3)
        wanted = _parse_version(raw)
        width = max(len(current), len(wanted))
        padded = current + (0,) * (width - len(current))
        target = wanted + (0,) * (width - len(wanted))
        if wildcard or operator == "~=":
            prefix = wanted if wildcard else wanted[:-1]
            ok = current[: len(prefix)] == prefix and (operator != "~=" or padded >= target)
            ok = (not ok) if operator == "!=" else ok
        else:
            ok = {
                "==": padded == target,
                "!=": padded != target,
                ">=": padded >= target,
                "<=": padded <= target,
                ">": padded > target,
                "<": padded < target,
            }[operator]
        if not ok:
            return False
    return True
