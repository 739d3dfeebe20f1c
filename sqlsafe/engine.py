"""Checking and fixing one file's text: parse once, run every enabled rule in one traversal.

The engine knows rules only through the registry and the `Rule` base class; it knows
nothing of the CLI, of output formats or of any particular rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from sqlsafe import segments, suppression
from sqlsafe.checks.base import BLOCK_INDENT, FileContext, Index, Note
from sqlsafe.checks.names import ImportTable
from sqlsafe.checks.plan import Plan
from sqlsafe.diagnostics import (
    Diagnostic,
    Location,
    Related,
    internal_error,
    python_syntax_error,
    syntax_error,
)
from sqlsafe.fixes import FixWriter, apply_edits, select_fixes
from sqlsafe.locator import Locator
from sqlsafe.positions import NodeRanges, Positions
from sqlsafe.selection import RuleSelection
from sqlsafe.traversal import FastVisitors, visit_batched

MAX_FIX_ITERATIONS = 100


@dataclass
class CheckResult:
    diagnostics: list[Diagnostic]
    warnings: list[str] = field(default_factory=list)
    facts: dict[str, object] = field(default_factory=dict)
    """The rules' `run_facts` for this text."""


class _FunctionEntry(FastVisitors):
    """Keeps `FileContext.functions` current for the rules: it visits a function before
    them, and `_FunctionExit` leaves it after them, so that a rule's `leave_FunctionDef`
    still sees the function it leaves as the innermost one."""

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.context.functions.append(node)


class _FunctionExit(FastVisitors):
    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.context.functions.pop()


def parse(text: str, path: Path) -> cst.Module | Diagnostic:
    if BLOCK_INDENT in text:
        # A NUL character: CPython refuses the file with this message. libcst would parse
        # it, and a fix's text could not tell it from the mark of the block's indentation.
        at = Locator(text).location(text.index(BLOCK_INDENT))
        return syntax_error(path, "source code cannot contain null bytes", at)
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        # libcst places some errors at the start of the file (a trailing backslash at the
        # end of line 4 is at 1:1): CPython's parser says where, in the words users know.
        found = python_syntax_error(text, path)
        if found is not None:
            return found
        message = error.message.rstrip(".")
        return syntax_error(path, message, Location(error.raw_line, error.raw_column + 1))
    except RecursionError:
        return syntax_error(path, "Too deeply nested to parse", Location(1, 1))


def parses(text: str) -> bool:
    """Whether libcst parses `text` (a large text segment by segment)."""
    parts = segments.split(text)
    texts = [text] if parts is None else [part.text for part in parts]
    return not any(isinstance(parse(piece, Path("-")), Diagnostic) for piece in texts)


def check_source(
    text: str,
    path: Path,
    module_name: str,
    selection: RuleSelection,
    index: Index,
    display_path: str | None = None,
    plan: Plan | None = None,
    starts: list[segments.Start] | None = None,
) -> CheckResult:
    """Every diagnostic for one file's text, with `# noqa` applied. `plan`: the run's DETACH
    plan (None: the file is planned on its own). `starts`: where the text's top-level
    statements start, when known (`segments.split`)."""
    parts = segments.split(text, starts)
    if parts is None:
        diagnostics, facts = _check_tree(text, path, module_name, selection, index, plan)
    else:
        # Run facts describe the whole file's functions: a segment's would mislead.
        found = _check_segments(parts, path, module_name, selection, index, plan)
        diagnostics, facts = found, {}
    if not any(d.is_rule for d in diagnostics):
        return CheckResult(diagnostics, facts=facts)
    suppressions = suppression.parse(text, display_path or str(path), Locator(text))
    for diagnostic in diagnostics:
        if diagnostic.is_rule:
            diagnostic.noqa_row = suppressions.noqa_row(diagnostic.start.row)
    kept = [d for d in diagnostics if not suppressions.suppresses(d)]
    kept.sort(key=Diagnostic.sort_key)
    return CheckResult(kept, suppressions.warnings, facts)


def _check_segments(
    parts: list[segments.Segment],
    path: Path,
    module_name: str,
    selection: RuleSelection,
    index: Index,
    plan: Plan | None,
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    # Syntax and internal errors, once each however many segments meet them.
    problems: dict[tuple[str, str], Diagnostic] = {}
    for part in parts:
        diagnostics, _ = _check_tree(part.text, path, module_name, selection, index, plan)
        for diagnostic in diagnostics:
            if not diagnostic.is_rule:
                problems.setdefault((diagnostic.code, diagnostic.message), part.moved(diagnostic))
            elif part.owns(diagnostic.start.row):
                found.append(part.moved(diagnostic))
    return [*problems.values(), *found]


def _check_tree(
    text: str,
    path: Path,
    module_name: str,
    selection: RuleSelection,
    index: Index,
    plan: Plan | None,
) -> tuple[list[Diagnostic], dict[str, object]]:
    """The diagnostics of one parse of `text` (before `# noqa`), and the rules' run facts."""
    parsed = parse(text, path)
    if isinstance(parsed, Diagnostic):
        return [parsed], {}
    module = parsed
    context = FileContext(
        module=module,
        module_name=module_name,
        names=ImportTable.of_file(module, module_name, path, index),
        index=index,
        settings=selection.rule_settings,
        plan=plan,
        text=text,
    )
    try:
        return _check_module(text, path, context, selection)
    finally:
        context.release()


def _check_module(
    text: str, path: Path, context: FileContext, selection: RuleSelection
) -> tuple[list[Diagnostic], dict[str, object]]:
    module = context.module
    rules = [rule_class(context) for rule_class in selection.rules]
    dependencies = set().union(*(rule.get_inherited_dependencies() for rule in rules))
    visitors: list[cst.BatchableCSTVisitor] = [
        _FunctionEntry(context),
        *rules,
        _FunctionExit(context),
    ]
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True) if dependencies else None
    with ExitStack() as resolved:
        if wrapper is not None:
            for rule in rules:
                resolved.enter_context(rule.resolve(wrapper))
        visit_batched(module, visitors)
    facts: dict[str, object] = {}
    for rule in rules:
        # Guarded as the visitors are: a failure is the rule's internal error on this file.
        found = rule.guarded(rule.run_facts)()
        if isinstance(found, tuple):
            facts[found[0]] = found[1]

    diagnostics = [
        internal_error(
            path,
            f"Rule {rule.code} failed on this file: {type(rule.error).__name__}: {rule.error}",
        )
        for rule in rules
        if rule.error is not None
    ]
    failed = {rule.code for rule in rules if rule.error is not None}
    findings = [f for f in context.findings if f.rule.code not in failed]
    if not findings:
        return diagnostics, facts

    locator = Locator(text)
    positions: NodeRanges
    if wrapper is not None and PositionProvider in dependencies:
        positions = wrapper.resolve(PositionProvider)
    else:
        positions = Positions(module)
    writer = FixWriter(module, positions, locator)
    for finding in findings:
        where = positions[finding.node]
        rule_class = finding.rule
        fix = None
        if finding.fix is not None:
            fix = selection.adjust(rule_class.code, writer.fix(finding.fix))
        diagnostics.append(
            Diagnostic(
                code=rule_class.code,
                name=rule_class.name,
                message=finding.message,
                path=path,
                start=Location(where.start.line, where.start.column + 1),
                end=Location(where.end.line, where.end.column + 1),
                severity=rule_class.severity,
                fix=fix,
                url=rule_class.url(),
                related=tuple(_related(note, path, positions) for note in finding.notes),
            )
        )
    return diagnostics, facts


def _related(note: Note, path: Path, positions: NodeRanges) -> Related:
    if note.node is not None:
        where = positions[note.node]
        start = Location(where.start.line, where.start.column + 1)
        return Related(path, start, Location(where.end.line, where.end.column + 1), note.message)
    assert note.elsewhere is not None
    other, row = note.elsewhere
    return Related(Path(other), Location(row, 1), Location(row, 1), note.message)


@dataclass
class FixResult:
    text: str
    fixed: Counter[str]
    remaining: CheckResult
    error: str | None = None
    """Set when a fix produced code that does not parse; `text` is then the last good text."""


def fix_source(
    text: str,
    check: Callable[[str], CheckResult],
    applicable: Callable[[Diagnostic], bool],
) -> FixResult:
    """Apply applicable fixes until none remain (bounded), re-checking after each round."""
    fixed: Counter[str] = Counter()
    result = check(text)
    for _ in range(MAX_FIX_ITERATIONS):
        candidates = [d for d in result.diagnostics if d.fix is not None and applicable(d)]
        chosen = select_fixes(candidates)
        if not chosen:
            break
        new_text = apply_edits(text, (edit for d in chosen for edit in d.fix.edits))  # type: ignore[union-attr]
        if new_text == text:
            break
        if not parses(new_text):
            codes = ", ".join(sorted({d.code for d in chosen}))
            return FixResult(
                text,
                fixed,
                result,
                error=f"Fix introduced a syntax error ({codes}); the file was left as it was "
                "before that fix. This is a bug in sqlsafe: please report it.",
            )
        fixed.update(d.code for d in chosen)
        text = new_text
        result = check(text)
    return FixResult(text, fixed, result)
