"""What every rule is built from: the rule base class, the per-file context and fix plans.

A rule is a libcst `BatchableCSTVisitor`; the engine runs all enabled rules in one traversal
of the file. Rules find nodes and say how to rewrite them (a `FixPlan` made of node
replacements and insertions plus the imports the rewrite needs); the engine turns plans
into text edits, so rules never deal with offsets, suppression or output.

Rules use typed `visit_*` methods and `isinstance` checks rather than `libcst.matchers`:
the matcher decorators do nothing on batched visitors, and importing the matchers module
costs about 0.2 s, which a pre-commit run on one file would pay every time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import libcst as cst
from libcst._nodes.internal import CodegenState

from sqlsafe.checks.names import ImportTable
from sqlsafe.checks.plan import Plan
from sqlsafe.checks.project import EmptyIndex, FactoryFacts, Index, ModelFacts
from sqlsafe.diagnostics import Applicability, FixAvailability, RuleMeta, Severity
from sqlsafe.selection import RuleSettings
from sqlsafe.traversal import FastVisitors, Method

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

T = TypeVar("T")
R = TypeVar("R")

__all__ = [
    "BLOCK_INDENT",
    "EmptyIndex",
    "FactoryFacts",
    "FileContext",
    "FixPlan",
    "Index",
    "Insert",
    "MemoKey",
    "ModelFacts",
    "Note",
    "Replace",
    "Rule",
    "RuleSettings",
]

DOCS_URL = "https://github.com/sqlsafe/sqlsafe/blob/main/README.md#{code}"


BLOCK_INDENT = "\x00"
"""Stands for the indentation of the block around a change in the text of a `Replace` or an
`Insert`: rules write the text before any position is known, and the engine puts the block's
indentation in its place. Python source cannot contain the character (the engine reports a
file that does)."""


def code_in_block(module: cst.Module, node: cst.CSTNode) -> str:
    """The code of `node` with `BLOCK_INDENT` where the indentation of its block goes.

    libcst keeps the continuation lines of a multi-line expression relative to the block
    around them, and `Module.code_for_node` renders them as if at module level: inside an
    `if`, `f(\n    x\n)` would lose the `if`'s indentation on its last two lines."""
    state = CodegenState(
        default_indent=module.default_indent, default_newline=module.default_newline
    )
    state.indent_tokens.append(BLOCK_INDENT)
    node._codegen(state)
    return "".join(state.tokens)


@dataclass(frozen=True)
class Replace:
    node: cst.CSTNode
    new: cst.CSTNode | str
    whole_lines: bool = False
    """Replace the lines the node spans, indentation and line ending included: with `""`,
    a statement is deleted (a node's own range starts after its indentation)."""


@dataclass(frozen=True)
class Insert:
    node: cst.CSTNode
    text: str
    before: bool = True


@dataclass(frozen=True)
class FixPlan:
    changes: tuple[Replace | Insert, ...]
    applicability: Applicability
    message: str
    imports: tuple[tuple[str, str], ...] = ()
    """(module, name) pairs the rewritten code needs, added as `from module import name`."""


@dataclass(frozen=True)
class Note:
    """One step of a finding's story: a node of the checked file, or a row of another."""

    message: str
    node: cst.CSTNode | None = None
    elsewhere: tuple[str, int] | None = None
    """(path, row) in another file of the project."""


@dataclass
class Finding:
    rule: type[Rule]
    node: cst.CSTNode
    message: str
    fix: FixPlan | None
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True, eq=False)
class MemoKey(Generic[T]):
    """One analysis that `FileContext.memo` keeps per node, declared once where the analysis
    lives: its type is the type of what the analysis computes."""

    name: str


@dataclass
class FileContext:
    """Everything a rule may know about the file it is visiting."""

    module: cst.Module
    module_name: str
    names: ImportTable
    index: Index
    settings: RuleSettings
    plan: Plan | None = None
    """The run's DETACH plan (None: the file is planned on its own)."""
    text: str | None = None
    """The text `module` was parsed from, when known: a name it does not spell is in no
    `Name` node of the tree, which an analysis may know without walking it."""
    findings: list[Finding] = field(default_factory=list)
    # Enclosing functions of the node being visited, innermost last (kept by the engine).
    functions: list[cst.FunctionDef] = field(default_factory=list)
    # Keyed by the node itself, not its id: the memo keeps it alive, so no other node takes
    # its place (and its id) while the file is checked.
    _memo: dict[tuple[MemoKey[Any], cst.CSTNode], object] = field(default_factory=dict)

    def code(self, node: cst.CSTNode) -> str:
        """The code of `node` for the text of a change (`code_in_block`)."""
        return code_in_block(self.module, node)

    def memo(self, key: MemoKey[T], node: cst.CSTNode, compute: Callable[[], T]) -> T:
        """Compute a per-node analysis once, whichever rule asks first."""
        slot = (key, node)
        if slot not in self._memo:
            self._memo[slot] = compute()
        return self._memo[slot]  # type: ignore[return-value]

    def release(self) -> None:
        """Drop the per-node analyses once the file is done. Some refer back to this context
        (a cycle), and checks run with the cyclic collector paused: kept, they would keep the
        tree alive until it runs again, and it would then have to walk all of it."""
        self._memo.clear()


class Rule(FastVisitors):
    """Base of every rule. Subclasses set the class attributes and write `visit_*` methods.

    The class docstring is the rule's documentation in Ruff's sections (What it does /
    Why is this bad? / Example / Use instead / Fix safety), printed by `sqlsafe rule`.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    severity: ClassVar[Severity] = Severity.WARNING
    fix_availability: ClassVar[FixAvailability] = FixAvailability.NONE
    triggers: ClassVar[tuple[str, ...] | None] = None
    """Words one of which every file this rule can report on contains (a method name it keys
    on, say): the runner parses a file for this rule only if one occurs in its text
    (`sqlsafe.prefilter`). None promises nothing."""

    @classmethod
    def triggers_for(cls, index: Index, plan: Plan | None = None) -> tuple[str, ...] | None:
        """`triggers` in a project: a rule that keys on names the index knows (the project's
        session factories, say) or the run's DETACH plan converts adds them here."""
        return cls.triggers

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        """Whether the file's stdlib syntax tree shows a site this rule starts from
        (`sqlsafe.screen`): False only when the rule can report nothing in the file, in no
        fix round, and has no run facts for it but "nothing". True promises nothing."""
        return True

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.error: Exception | None = None

    def get_visitors(self) -> Mapping[str, Method]:
        # A bug in one rule must not stop the others: the first exception switches the rule
        # off for this file and the engine reports it as an internal error.
        return {name: self.guarded(method) for name, method in super().get_visitors().items()}

    def guarded(self, method: Callable[..., R]) -> Callable[..., R | None]:
        # Positional arguments only (visitor methods and `run_facts` take no others): a
        # `**kwargs` would cost a dict on every visitor call.
        def guarded(*args: object) -> R | None:
            if self.error is not None:
                return None
            try:
                return method(*args)
            except Exception as error:
                self.error = error
                return None

        return guarded

    def report(
        self,
        node: cst.CSTNode,
        message: str,
        fix: FixPlan | None = None,
        notes: tuple[Note, ...] = (),
    ) -> None:
        self.context.findings.append(Finding(type(self), node, message, fix, notes))

    def run_facts(self) -> tuple[str, object] | None:
        """What this file tells a pass over the whole run, asked after the traversal: a key
        (rules that share one give the same value) and a picklable value. The run gets it
        with the file's outcome and keeps it in the cache beside the diagnostics, so that a
        run-wide decision need not parse the file again. None: nothing."""
        return None

    @classmethod
    def meta(cls) -> RuleMeta:
        return RuleMeta(
            code=cls.code,
            name=cls.name,
            summary=cls.summary,
            explanation=explanation(cls),
            severity=cls.severity,
            fix_availability=cls.fix_availability,
            url=cls.url(),
        )

    @classmethod
    def url(cls) -> str:
        """The rule's documentation, without `meta`'s cost (it renders the docstring)."""
        return DOCS_URL.format(code=cls.code.lower())


def explanation(rule: type[Rule]) -> str:
    import inspect

    return inspect.cleandoc(rule.__doc__ or "").strip() + "\n"
