"""The `sqlsafe` command line (the only module that knows typer).

Flags, exit codes, streams and summary lines follow `ruff check` 0.17: 0 when nothing is
left to report, 1 when diagnostics remain (or `--diff` would change something), 2 when the
command line or the configuration is wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from sqlsafe import __version__
from sqlsafe.config import (
    OUTPUT_FORMATS,
    ConfigError,
    Resolver,
    check_selectors,
    parse_override,
    validate,
)

app = typer.Typer(
    name="sqlsafe",
    help="Find and fix unsafe SQLModel / SQLAlchemy session patterns.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
helpers_app = typer.Typer(help="Work with the runtime helpers the fixes import.")
app.add_typer(helpers_app, name="helpers")


def _fail(*causes: str) -> NoReturn:
    lines = ["sqlsafe failed", *(f"  Cause: {cause}" for cause in causes)]
    typer.echo("\n".join(lines), err=True)
    raise typer.Exit(2)


def _split(values: list[str] | None) -> list[str] | None:
    """`--select ROW,SQL --select GET` -> [ROW, SQL, GET] (Ruff takes both spellings)."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"sqlsafe {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", "-V", callback=_version_callback, is_eager=True, help="Print version."
        ),
    ] = False,
) -> None:
    pass


def _resolver(configs: list[str] | None, isolated: bool, cli_values: dict[str, object]) -> Resolver:
    cwd = Path.cwd()
    config_file: Path | None = None
    overrides: dict[str, object] = {}
    for value in configs or []:
        candidate = cwd / value
        if candidate.is_file():
            config_file = candidate.resolve()
        else:
            overrides.update(validate(parse_override(value), "--config"))
    for key in ("select", "extend-select", "ignore", "fixable", "unfixable", "extend-fixable"):
        if key in cli_values:
            check_selectors(cli_values[key], f"`{key}` from the CLI")  # type: ignore[arg-type]
    return Resolver(
        cwd=cwd, config_file=config_file, isolated=isolated, overrides=overrides, cli=cli_values
    )


PathsArg = Annotated[
    list[Path] | None,
    # Not `readable`: click would stop the run on an unreadable file, which is one E902.
    typer.Argument(help="Files or directories to check [default: .]", readable=False),
]


@app.command()
def check(
    paths: PathsArg = None,
    fix: Annotated[
        bool | None, typer.Option("--fix/--no-fix", help="Apply fixes to resolve findings.")
    ] = None,
    unsafe_fixes: Annotated[
        bool | None,
        typer.Option(
            "--unsafe-fixes/--no-unsafe-fixes",
            help="Include fixes that may change behaviour. Use --no-unsafe-fixes to hide the hint.",
        ),
    ] = None,
    show_fixes: Annotated[
        bool | None,
        typer.Option("--show-fixes/--no-show-fixes", help="List the fixes applied per file."),
    ] = None,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print the fixes as a diff; write nothing.")
    ] = False,
    fix_only: Annotated[
        bool | None,
        typer.Option("--fix-only/--no-fix-only", help="Apply fixes; do not report leftovers."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(
            "--output-format",
            envvar="SQLSAFE_OUTPUT_FORMAT",
            help=f"Output format: {', '.join(OUTPUT_FORMATS)}.",
        ),
    ] = None,
    output_file: Annotated[
        Path | None, typer.Option("--output-file", "-o", help="Write the report to a file.")
    ] = None,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Count findings per rule.")
    ] = False,
    add_noqa: Annotated[
        str | None,
        typer.Option(
            "--add-noqa",
            help="Add `# noqa` comments for every finding (optional reason: --add-noqa=REASON).",
        ),
    ] = None,
    select: Annotated[
        list[str] | None, typer.Option("--select", help="Rule codes or prefixes to enable.")
    ] = None,
    extend_select: Annotated[
        list[str] | None, typer.Option("--extend-select", help="Add to --select.")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Rule codes or prefixes to disable.")
    ] = None,
    fixable: Annotated[list[str] | None, typer.Option("--fixable")] = None,
    unfixable: Annotated[list[str] | None, typer.Option("--unfixable")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude")] = None,
    extend_exclude: Annotated[list[str] | None, typer.Option("--extend-exclude")] = None,
    respect_gitignore: Annotated[
        bool | None, typer.Option("--respect-gitignore/--no-respect-gitignore")
    ] = None,
    force_exclude: Annotated[
        bool | None,
        typer.Option(
            "--force-exclude/--no-force-exclude",
            help="Apply excludes to paths named on the command line too.",
        ),
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", help="A config file, or a KEY=VALUE TOML override."),
    ] = None,
    isolated: Annotated[bool, typer.Option("--isolated", help="Ignore config files.")] = False,
    stdin_filename: Annotated[
        str | None, typer.Option("--stdin-filename", help="The name of the file on stdin.")
    ] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", "-e", help="Exit 0 even with findings.")
    ] = False,
    exit_non_zero_on_fix: Annotated[
        bool, typer.Option("--exit-non-zero-on-fix", help="Exit 1 when anything was fixed.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only.")] = False,
    silent: Annotated[bool, typer.Option("--silent", "-s", help="Print nothing.")] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", "-n", envvar="SQLSAFE_NO_CACHE", help="Do not cache.")
    ] = False,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Worker processes [default: cores].")
    ] = None,
    show_settings: Annotated[
        bool, typer.Option("--show-settings", help="Print the resolved settings.")
    ] = False,
    show_files: Annotated[
        bool, typer.Option("--show-files", help="Print the files that would be checked.")
    ] = False,
    no_screen: Annotated[
        bool,
        typer.Option(
            "--no-screen",
            envvar="SQLSAFE_NO_SCREEN",
            hidden=True,
            help="Parse every file the pre-filter lets through, screened or not (to compare).",
        ),
    ] = False,
) -> None:
    """Check files for unsafe session patterns (and fix them with --fix)."""
    if exit_zero and exit_non_zero_on_fix:
        _usage_error("the argument '--exit-zero' cannot be used with '--exit-non-zero-on-fix'")
    if add_noqa is not None and (fix or diff or fix_only):
        _usage_error("the argument '--add-noqa' cannot be used with '--fix'")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        _usage_error(
            f"invalid value '{output_format}' for '--output-format <OUTPUT_FORMAT>'\n"
            f"  [possible values: {', '.join(OUTPUT_FORMATS)}]"
        )
    cli_values: dict[str, object] = {}
    for key, value in (
        ("select", _split(select)),
        ("extend-select", _split(extend_select)),
        ("ignore", _split(ignore)),
        ("fixable", _split(fixable)),
        ("unfixable", _split(unfixable)),
        ("exclude", _split(exclude)),
        ("extend-exclude", _split(extend_exclude)),
        ("respect-gitignore", respect_gitignore),
        ("force-exclude", force_exclude),
        ("output-format", output_format),
        ("fix", fix),
        ("fix-only", fix_only),
        ("unsafe-fixes", unsafe_fixes),
        ("show-fixes", show_fixes),
    ):
        if value is not None:
            cli_values[key] = tuple(value) if isinstance(value, list) else value
    try:
        resolver = _resolver(config, isolated, cli_values)
        base = resolver.for_path(Path.cwd())
        from sqlsafe.command import CheckCommand

        command = CheckCommand(
            resolver=resolver,
            base=base,
            paths=paths or [Path(".")],
            stdin_filename=stdin_filename,
            diff=diff,
            add_noqa=add_noqa,
            jobs=jobs,
            use_cache=not no_cache,
            progress=not (quiet or silent),
            screen=not no_screen,
        )
        if show_settings:
            _emit(command.show_settings(), output_file)
            raise typer.Exit(0)
        if show_files:
            _emit(command.show_files(), output_file)
            raise typer.Exit(0)
        outcome = command.run()
    except ConfigError as error:
        _fail(*error.causes)
    for line in outcome.stderr:
        typer.echo(line, err=True)
    if outcome.interrupted:
        raise typer.Exit(130)  # what was written is said above; no report of a partial run
    if silent:
        text = ""
    elif statistics and outcome.report is not None:
        from sqlsafe.output import render_statistics

        try:
            text = render_statistics(outcome.report, outcome.output_format, summary=not quiet)
        except ValueError as error:
            _fail(str(error))
    else:
        text = outcome.render(summary=not quiet)
    if outcome.stdout_code is not None:
        sys.stdout.flush()
        sys.stdout.buffer.write(outcome.stdout_code)
        sys.stdout.buffer.flush()
        if text:
            sys.stderr.write(text)
    elif text:
        _emit(text, output_file)
    if outcome.summary_to_stderr and not (quiet or silent):
        typer.echo("\n".join(outcome.summary_to_stderr), err=True)
    code = outcome.exit_code(exit_zero=exit_zero, exit_non_zero_on_fix=exit_non_zero_on_fix)
    raise typer.Exit(code)


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}\n\nFor more information, try '--help'.", err=True)
    raise typer.Exit(2)


def _emit(text: str, output_file: Path | None) -> None:
    if output_file is not None:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def fix(ctx: typer.Context) -> None:
    """Apply fixes: the same as `sqlsafe check --fix`, with every `check` option."""
    command = typer.main.get_command(app)
    command.main(["check", "--fix", *ctx.args], prog_name="sqlsafe", standalone_mode=True)


@app.command()
def rule(
    code: Annotated[str | None, typer.Argument(help="A rule code or name.")] = None,
    all_rules: Annotated[bool, typer.Option("--all", help="Every rule.")] = False,
    output_format: Annotated[str, typer.Option("--output-format", help="text or json.")] = "text",
) -> None:
    """Explain a rule (or every rule with --all)."""
    from sqlsafe.checks import registry

    if all_rules:
        codes = list(registry.CODES)
    elif code is None:
        _usage_error("the following required arguments were not provided: <RULE|--all>")
    else:
        found = registry.find(code)
        if found is None:
            _usage_error(f"invalid value '{code}' for '[RULE]': unknown rule code")
        codes = [found]
    metas = [registry.meta(c) for c in codes]
    if output_format == "json":
        objects = [
            {
                "name": meta.name,
                "code": meta.code,
                "linter": "sqlsafe",
                "summary": meta.summary,
                "message_formats": [meta.summary],
                "fix": meta.fix_availability.sentence,
                "fix_availability": meta.fix_availability.value,
                "explanation": meta.explanation,
                "preview": False,
                "severity": meta.severity.value,
            }
            for meta in metas
        ]
        payload = objects if all_rules else objects[0]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    texts = [
        f"# {meta.name} ({meta.code})\n\nDerived from the **sqlsafe** linter.\n\n"
        f"{meta.fix_availability.sentence}\n\n{meta.explanation}"
        for meta in metas
    ]
    sys.stdout.write("\n".join(texts))


@helpers_app.command("export")
def helpers_export(
    path: Annotated[
        Path,
        typer.Argument(help="The package folder to write, e.g. app/utils/db_helpers."),
    ],
) -> None:
    """Write a standalone copy of sqlsafe.helpers (no runtime dependency on sqlsafe)."""
    from sqlsafe.helpers_export import export_helpers

    try:
        written = export_helpers(path)
    except (ValueError, FileExistsError) as error:
        _fail(str(error))
    except OSError as error:
        _fail(f"Failed to write {path}", error.strerror or str(error))
    for target in written:
        typer.echo(f"Wrote {target}", err=True)


@app.command()
def server() -> None:
    """Run the language server over standard input and output (for editors)."""
    try:
        from sqlsafe.server import main as serve
    except ImportError as error:
        _fail(f"`sqlsafe server` needs pygls ({error}): pip install 'sqlsafe[server]'")
    serve()


@app.command()
def clean() -> None:
    """Remove the `.sqlsafe_cache` folders under the current directory."""
    for directory, dirnames, _ in os.walk(Path.cwd()):
        if ".sqlsafe_cache" in dirnames:
            target = Path(directory) / ".sqlsafe_cache"
            shutil.rmtree(target, ignore_errors=True)
            typer.echo(f"Removing cache at: {target}", err=True)
            dirnames.remove(".sqlsafe_cache")
        dirnames[:] = [d for d in dirnames if d not in (".git", "node_modules", ".venv")]


def main() -> None:
    # `--add-noqa` takes an optional value (`--add-noqa=REASON`), which typer cannot declare;
    # the bare flag is spelled as an empty value instead.
    args = ["--add-noqa=" if arg == "--add-noqa" else arg for arg in sys.argv[1:]]
    try:
        app(args, prog_name="sqlsafe")
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as error:  # Ruff's contract: an internal error is exit 2, not a traceback
        typer.echo(
            f"sqlsafe failed\n  Cause: {type(error).__name__}: {error}\n"
            "  This is a bug in sqlsafe; please report it with the command that failed.",
            err=True,
        )
        raise SystemExit(2) from None
