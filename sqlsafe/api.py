"""sqlsafe as a library: check or fix text and files as `sqlsafe check` does, with the same
configuration files, the same project-wide index and the same cache.

Each function runs the command the CLI runs (`CheckCommand`); text is checked as the CLI
checks `--stdin-filename PATH -`, so an unsaved buffer is judged against the rest of its
project as saved on disk.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlsafe.command import CheckCommand, CommandOutcome
from sqlsafe.config import Resolver
from sqlsafe.diagnostics import Diagnostic


def check_text(
    path: str | Path, text: str, *, cwd: Path | None = None, saved_index: bool = False
) -> list[Diagnostic]:
    """The findings for `text` standing in for the file at `path`. With `saved_index`, the
    project index and DETACH plan take that file as saved on disk (cached between calls:
    what an editor wants on each keystroke)."""
    return _run([Path("-")], cwd, {}, text, path, saved_index).report.diagnostics


def check_paths(paths: Iterable[str | Path], *, cwd: Path | None = None) -> list[Diagnostic]:
    """The findings for files and folders, as `sqlsafe check PATHS` reports them."""
    return _run([Path(p) for p in paths], cwd, {}).report.diagnostics


def fix_text(path: str | Path, text: str, unsafe: bool = False, *, cwd: Path | None = None) -> str:
    """`text` with every applicable fix applied (safe ones, and unsafe ones if `unsafe`)."""
    cli: dict[str, object] = {"fix": True, "unsafe-fixes": unsafe}
    outcome = _run([Path("-")], cwd, cli, text, path)
    if outcome.stdout_code is None:
        return text
    # Standard input's bytes come back as read: `text` went in as UTF-8.
    return outcome.stdout_code.decode("utf-8")


def _run(
    paths: list[Path],
    cwd: Path | None,
    cli: dict[str, object],
    text: str | None = None,
    path: str | Path | None = None,
    saved_index: bool = False,
) -> CommandOutcome:
    resolver = Resolver(cwd=(cwd or Path.cwd()).absolute(), cli=cli)
    command = CheckCommand(
        resolver=resolver,
        base=resolver.for_path(resolver.cwd),
        paths=paths,
        stdin_filename=str(path) if path is not None else None,
        progress=False,
        stdin_text=text,
        saved_index=saved_index,
    )
    return command.run()
