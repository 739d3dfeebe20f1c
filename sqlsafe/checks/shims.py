"""Version shims: code that tests whether a query result is a model or a Row and handles both.

Code bitten by the model-versus-Row confusion often guards both shapes:

    key = session.exec(select(APIKey).where(APIKey.key_hash == h)).first()
    if key is None: ...
    elif hasattr(key, "key_hash"): ...   # a model
    else: key = key[0]                   # a Row

Where `statements` proves what the query returns, exactly one side of such a guard runs and
the other is dead code. This module finds the guards (an `if`/`elif`/`else` chain, a
conditional expression, a `try` around indexing), says which parts never run, so that the
ROW rules do not report code that cannot run, and how to collapse the shim to what runs.

What the guards evaluate to (checked against SQLite in tests/checks/test_row005.py):

- a model instance has no `__getitem__`, `__len__`, `_mapping`, `_fields`, `_asdict`,
  `_tuple` or `_t`; it has its columns and relationships; indexing it raises `TypeError`;
- a Row has all of those, and its entity's class name as a key, and no other public name
  besides `count`, `index`, `t` and `tuple`; `row[0]` of a one-entity Row cannot fail;
- a Row is not a `tuple` (`isinstance(row, tuple)` is false), nor a model;
- `None` (`.first()` of no rows) has none of these names, and indexing it raises `TypeError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import libcst as cst

from sqlsafe.checks import queries, scopes, statements
from sqlsafe.checks.base import FileContext, MemoKey, Replace
from sqlsafe.checks.layout import has_multiline_string, indent_of, statements_code
from sqlsafe.traversal import children

Shape = Literal["model", "row", "none"]
Truth = bool | None

ROW_CLASSES = frozenset(
    {
        "sqlalchemy.Row",
        "sqlalchemy.engine.Row",
        "sqlalchemy.engine.row.Row",
        "sqlalchemy.engine.result.Row",
    }
)
MODEL_LACKS = frozenset(
    {"__getitem__", "__len__", "_mapping", "_fields", "_asdict", "_tuple", "_t"}
)
ROW_HAS = MODEL_LACKS | statements.ROW_PUBLIC_API
# Results that are None when no row matches.
NULLABLE_VIAS = frozenset({"first", "one_or_none", "scalar", "scalar_one_or_none"})
# What `x[0]` on a model or on None raises, and the classes that catch it.
CATCHES_TYPE_ERROR = frozenset({"TypeError", "Exception", "BaseException"})
PROBES = frozenset({"hasattr", "getattr", "isinstance"})
# Every shim is a test calling a probe or a `try` statement: a text without any of these
# words has none.
_SHIM_WORDS = (*PROBES, "try")
_MAY_HOLD_SHIMS: MemoKey[bool] = MemoKey("a text that may hold shims")


def _may_hold_shims(text: str | None) -> bool:
    return text is None or any(word in text for word in _SHIM_WORDS)


@dataclass(frozen=True)
class Subject:
    """The variable a guard tests, and what the query it holds returns."""

    name: str
    entity: queries.Entity
    shape: Literal["model", "row"]
    nullable: bool

    @property
    def shapes(self) -> tuple[Shape, ...]:
        return (self.shape, "none") if self.nullable else (self.shape,)

    @property
    def returns(self) -> str:
        label = self.entity.label
        if self.shape == "model":
            return f"`{label}`, not a Row"
        return f"a Row holding one `{label}`, not the model"


@dataclass(frozen=True)
class Shim:
    guard: cst.CSTNode
    """Where it is reported: the test that decides, or the indexing a `try` guards."""
    subject: Subject
    message: str
    dead: tuple[cst.CSTNode, ...]
    """Parts that never run."""
    fix: tuple[Replace, ...] | None
    """The shim collapsed to what runs; None when that cannot be isolated."""


_SHIMS: MemoKey[tuple[Shim, ...]] = MemoKey("shims")
_UNREACHABLE: MemoKey[frozenset[cst.CSTNode]] = MemoKey("code a shim makes unreachable")


def shims(context: FileContext, scope: cst.CSTNode | None = None) -> tuple[Shim, ...]:
    """The shims of `scope` (a function or the module), by default the one being visited
    (the innermost function, or the module)."""
    target: cst.CSTNode = context.functions[-1] if context.functions else context.module
    if scope is not None:
        target = scope
    return context.memo(_SHIMS, target, lambda: tuple(_find(context, target)))


def unreachable(context: FileContext, node: cst.CSTNode) -> bool:
    """Is `node` in a part of a shim that never runs?"""
    scope: cst.CSTNode = context.functions[-1] if context.functions else context.module

    def compute() -> frozenset[cst.CSTNode]:
        found: set[cst.CSTNode] = set()
        for shim in shims(context):
            for part in shim.dead:
                found.update(_descendants(part))
        return frozenset(found)

    return node in context.memo(_UNREACHABLE, scope, compute)


def _descendants(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def _find(context: FileContext, scope: cst.CSTNode) -> Iterator[Shim]:
    if not context.memo(_MAY_HOLD_SHIMS, context.module, lambda: _may_hold_shims(context.text)):
        return
    elifs: set[cst.If] = set()
    # Statements alone in their block: deleting one would leave the block empty.
    alone: set[cst.CSTNode] = set()
    stack = [scope]
    # This walk visits every node of the scope. libcst's node classes have no subclasses, so
    # a node's type says what `isinstance` would; `isinstance` against a class that is not
    # the node's own goes through `ABCMeta.__instancecheck__`, which costs more than the walk.
    while stack:
        node = stack.pop()
        if type(node) is cst.FunctionDef and node is not scope:
            continue
        if (type(node) is cst.IndentedBlock or type(node) is cst.Module) and len(node.body) == 1:
            alone.add(node.body[0])
        shim: Shim | None = None
        if type(node) is cst.If:
            if type(node.orelse) is cst.If:
                elifs.add(node.orelse)
            if node not in elifs:
                shim = _if_chain(context, node, deletable=node not in alone)
        elif type(node) is cst.IfExp:
            shim = _conditional(context, node)
        elif type(node) is cst.Try:
            shim = _try(context, node)
        if shim is not None:
            yield shim
        stack.extend(children(node))


# --- evaluating a test ----------------------------------------------------------------------


class _Test:
    """A test evaluated for each shape its subject may have."""

    def __init__(self, context: FileContext, subject: Subject) -> None:
        self.context = context
        self.subject = subject
        self.pure = True
        """Every part of the tests was understood (so none has an effect to keep)."""
        self.probed = False

    def truth(self, node: cst.BaseExpression, shape: Shape) -> Truth:
        if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Not):
            return _not(self.truth(node.expression, shape))
        if isinstance(node, cst.BooleanOperation):
            left, right = self.truth(node.left, shape), self.truth(node.right, shape)
            if isinstance(node.operator, cst.And):
                return _and(left, right)
            return _not(_and(_not(left), _not(right)))
        if self._is_subject(node):
            return shape != "none"
        if isinstance(node, cst.Comparison) and _compares_to_none(node):
            value = self._value_is_none(node.left, shape)
            return value if isinstance(node.comparisons[0].operator, cst.Is) else _not(value)
        if isinstance(node, cst.Call):
            return self._call(node, shape)
        self.pure = False
        return None

    def _is_subject(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Name) and node.value == self.subject.name

    def _value_is_none(self, node: cst.BaseExpression, shape: Shape) -> Truth:
        if self._is_subject(node):
            return shape == "none"
        if isinstance(node, cst.Call) and _probe(self.context, node, "getattr", 3):
            return _not(self._attribute(node, shape))
        self.pure = False
        return None

    def _call(self, node: cst.Call, shape: Shape) -> Truth:
        if _probe(self.context, node, "isinstance", 2) and self._is_subject(node.args[0].value):
            self.probed = True
            return self._isinstance(node.args[1].value, shape)
        if _probe(self.context, node, "hasattr", 2) or _probe(self.context, node, "getattr", 3):
            # `getattr(x, name, None)` is truthy exactly when the attribute exists: what a
            # Row has is a method or a non-empty value, and a model's fields are excluded.
            present = self._attribute(node, shape)
            if present is None or node.func.value == "hasattr":  # type: ignore[attr-defined]
                return present
            return present if not (present and shape == "model") else None
        self.pure = False
        return None

    def _attribute(self, node: cst.Call, shape: Shape) -> Truth:
        """Has the subject the attribute `node` (`hasattr`/`getattr`) names?"""
        target, name = node.args[0].value, node.args[1].value
        if not self._is_subject(target) or not isinstance(name, cst.SimpleString):
            self.pure = False
            return None
        if len(node.args) == 3 and not _is_none(node.args[2].value):
            self.pure = False
            return None
        self.probed = True
        attribute = name.evaluated_value
        if not isinstance(attribute, str):
            return None
        label = self.subject.entity.label
        public = attribute.isidentifier() and not attribute.startswith("_")
        if shape == "none":
            return False if public or attribute in ROW_HAS else None
        if shape == "row":
            if attribute in ROW_HAS or attribute == label:
                return True
            return False if public else None
        if attribute in MODEL_LACKS:
            return False
        facts = self.context.index.model(self.subject.entity.qualname or "")
        if facts is not None and attribute in facts.columns | facts.relationships:
            return True
        return None

    def _isinstance(self, classes: cst.BaseExpression, shape: Shape) -> Truth:
        if isinstance(classes, cst.Tuple):
            values = [self._isinstance(element.value, shape) for element in classes.elements]
            return True if True in values else (False if all(v is False for v in values) else None)
        if isinstance(classes, cst.Name) and classes.value == "tuple":
            if not _builtin(self.context, "tuple"):
                return None
            return False
        qualname = self.context.names.qualify(classes)
        if qualname in ROW_CLASSES:
            return shape == "row"
        if qualname is not None and qualname == self.subject.entity.qualname:
            return shape == "model"
        self.pure = False
        return None


def _probe(context: FileContext, node: cst.Call, function: str, arity: int) -> bool:
    return (
        isinstance(node.func, cst.Name)
        and node.func.value == function
        and len(node.args) == arity
        and all(arg.keyword is None and not arg.star for arg in node.args)
        and _builtin(context, function)
    )


def _builtin(context: FileContext, name: str) -> bool:
    if name in context.names.names:
        return False
    for function in context.functions:
        scope = scopes.scope_of(context, function)
        if name in scope.params or name in scope.definitions:
            return False
    return True


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _compares_to_none(node: cst.Comparison) -> bool:
    return (
        len(node.comparisons) == 1
        and isinstance(node.comparisons[0].operator, (cst.Is, cst.IsNot))
        and _is_none(node.comparisons[0].comparator)
    )


def _subject(context: FileContext, tests: list[cst.BaseExpression]) -> Subject | None:
    """The variable the first probe (`hasattr`, `getattr`, `isinstance`) in `tests` looks
    at, when the query it holds is proven to give models or to give Rows."""
    for test in tests:
        for node in _descendants(test):
            if not (
                isinstance(node, cst.Call)
                and isinstance(node.func, cst.Name)
                and node.func.value in PROBES
                and node.args
                and isinstance(node.args[0].value, cst.Name)
            ):
                continue
            return _subject_of(context, node.args[0].value)
    return None


def _subject_of(context: FileContext, name: cst.Name) -> Subject | None:
    found = statements.facts(context, name)
    model = statements.model_verdict(found)
    if model is not None and model.proven:
        return Subject(name.value, model.entity, "model", _nullable(model))
    row = statements.row_verdict(found)
    if row is not None and row.proven:
        return Subject(name.value, row.entity, "row", _nullable(row))
    return None


def _nullable(verdict: statements.Verdict) -> bool:
    return any(item.via in NULLABLE_VIAS for item in verdict.items)


def _mentions_probe(test: cst.BaseExpression) -> bool:
    return any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in PROBES
        for node in _descendants(test)
    )


def _message(subject: Subject, always: bool, never_runs: str) -> str:
    return (
        f"Version shim: the query always returns {subject.returns}; this test is always "
        f"{'true' if always else 'false'}, so {never_runs} never runs"
    )


# --- the three forms ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clause:
    node: cst.If
    reached: dict[Shape, Truth]
    """Is the test evaluated, for each shape (None: perhaps)."""
    truth: dict[Shape, Truth]
    pure: bool
    """The test only probes the subject: it can go without losing an effect."""

    @property
    def removable(self) -> bool:
        """The clause can go: it never runs, and its test is never evaluated or does
        nothing."""
        return self.dead and (self.pure or all(r is False for r in self.reached.values()))

    @property
    def dead(self) -> bool:
        return all(_and(self.reached[s], self.truth[s]) is False for s in self.reached)

    @property
    def decided(self) -> Truth:
        """The test's value wherever it is evaluated, when that is one value."""
        values = {self.truth[s] for s in self.reached if self.reached[s] is not False}
        return values.pop() if len(values) == 1 else None


def _and(left: Truth, right: Truth) -> Truth:
    if left is False or right is False:
        return False
    return True if left and right else None


def _not(value: Truth) -> Truth:
    return None if value is None else not value


def _if_chain(context: FileContext, node: cst.If, deletable: bool) -> Shim | None:
    ifs: list[cst.If] = []
    current: cst.If | cst.Else | None = node
    while isinstance(current, cst.If):
        ifs.append(current)
        current = current.orelse
    final = current
    if not any(_mentions_probe(branch.test) for branch in ifs):
        return None
    subject = _subject(context, [branch.test for branch in ifs])
    if subject is None:
        return None
    evaluation = _Test(context, subject)
    reached: dict[Shape, Truth] = {shape: True for shape in subject.shapes}
    clauses: list[_Clause] = []
    for branch in ifs:
        evaluation.pure = True
        truth = {shape: evaluation.truth(branch.test, shape) for shape in subject.shapes}
        clauses.append(_Clause(branch, reached, truth, evaluation.pure))
        reached = {shape: _and(reached[shape], _not(truth[shape])) for shape in reached}
    else_dead = final is not None and all(value is False for value in reached.values())
    deciding = next(
        (c for c in clauses if _mentions_probe(c.node.test) and c.decided is not None), None
    )
    dead: list[cst.CSTNode] = [clause.node.body for clause in clauses if clause.dead]
    if final is not None and else_dead:
        dead.append(final.body)
    if deciding is None or not dead:
        return None
    always = bool(deciding.decided)
    position = clauses.index(deciding)
    if not always:
        never = "its branch"
    elif position + 1 < len(clauses):
        never = "the rest of the chain"
    else:
        never = "the `else` branch"
    fix = None
    if not has_multiline_string(node):
        fix = _if_fix(context, node, clauses, final if not else_dead else None, deletable)
    return Shim(deciding.node.test, subject, _message(subject, always, never), tuple(dead), fix)


def _if_fix(
    context: FileContext,
    node: cst.If,
    clauses: list[_Clause],
    final: cst.Else | None,
    deletable: bool,
) -> tuple[Replace, ...] | None:
    """The chain without its dead clauses, the first test that is always true as its
    `else`; `final` is the original `else`, if it may run. With nothing left, the statement
    goes, if its block keeps another."""
    kept: list[cst.If] = []
    last: cst.BaseSuite | None = final.body if final is not None else None
    for clause in clauses:
        if clause.dead:
            if not clause.removable:
                return None
            continue
        if clause.decided is True:
            if not clause.pure:
                return None
            last = clause.node.body
            break
        kept.append(clause.node)
    if not kept:
        if last is None:
            return (Replace(node, "", whole_lines=True),) if deletable else None
        return _replace_statement(context, node, _hoisted(last))
    orelse: cst.If | cst.Else | None = cst.Else(body=last) if last is not None else None
    for branch in reversed(kept[1:]):
        orelse = branch.with_changes(orelse=orelse)
    top = kept[0].with_changes(orelse=orelse)
    if kept[0] is node:
        # Its comment lines are outside the range replaced, and stay.
        top = top.with_changes(leading_lines=())
    return _replace_statement(context, node, [top])


def _replace_statement(
    context: FileContext, node: cst.BaseStatement, new: list[cst.CSTNode]
) -> tuple[Replace, ...] | None:
    """`node` replaced by the statements `new`.

    A statement's range ends before the line ending (and comment) of its last line, and the
    comment lines that close its last block are outside it too: those stay. So the new code
    leaves out its own closing comment lines, and its end replaces the old last line ending.
    """
    last_line = _last_line(node)
    if last_line is None:
        return None
    *others, tail = new
    code = statements_code(context, [*others, _without_footer(tail)], indent_of(context, node))
    return (Replace(node, code), Replace(last_line, context.module.default_newline))


def _last_line(node: cst.CSTNode) -> cst.TrailingWhitespace | None:
    for child in reversed(children(node)):
        found = _last_line(child)
        if found is not None:
            return found
    return node if isinstance(node, cst.TrailingWhitespace) else None


def _without_footer(node: cst.CSTNode) -> cst.CSTNode:
    """`node` without the comment lines that close its last blocks."""
    blocks = []
    current = node
    while True:
        if isinstance(current, cst.IndentedBlock):
            blocks.append(current)
        rest = [child for child in children(current) if not isinstance(child, cst.EmptyLine)]
        if not rest:
            break
        current = rest[-1]
    for block in blocks:
        node = node.deep_replace(block, block.with_changes(footer=()))
    return node


def _hoisted(body: cst.BaseSuite) -> list[cst.CSTNode]:
    """The statements of a block, as statements of the block around it, with its comments."""
    if isinstance(body, cst.SimpleStatementSuite):
        return [
            cst.SimpleStatementLine(body=body.body, trailing_whitespace=body.trailing_whitespace)
        ]
    assert isinstance(body, cst.IndentedBlock)
    found: list[cst.CSTNode] = list(body.body)
    if body.header.comment is not None:
        first = found[0]
        # libcst's statements are simple lines and compound statements, both with leading lines.
        assert isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
        comment = cst.EmptyLine(comment=body.header.comment)
        found[0] = first.with_changes(leading_lines=(comment, *first.leading_lines))
    return found


def _conditional(context: FileContext, node: cst.IfExp) -> Shim | None:
    if not _mentions_probe(node.test):
        return None
    subject = _subject(context, [node.test])
    if subject is None:
        return None
    evaluation = _Test(context, subject)
    values = {evaluation.truth(node.test, shape) for shape in subject.shapes}
    if len(values) != 1 or None in values or not evaluation.probed:
        return None
    always = values.pop()
    live, dead = (node.body, node.orelse) if always else (node.orelse, node.body)
    fix = (Replace(node, live),) if evaluation.pure else None
    branch = "the `else` value" if always else "the first value"
    return Shim(node.test, subject, _message(subject, bool(always), branch), (dead,), fix)


def _try(context: FileContext, node: cst.Try) -> Shim | None:
    """`try: v = x[0]` with handlers, when indexing `x` always or never raises."""
    small = _only_statement(node.body)
    if small is None or not node.handlers:
        return None
    value: cst.BaseExpression | None = (
        small.value if isinstance(small, (cst.Assign, cst.Return, cst.Expr)) else None
    )
    plain = isinstance(small, cst.Return) or (
        isinstance(small, cst.Assign)
        and len(small.targets) == 1
        and isinstance(small.targets[0].target, cst.Name)
    )
    while isinstance(value, cst.Attribute):
        value, plain = value.value, False
    if not (isinstance(value, cst.Subscript) and isinstance(value.value, cst.Name)):
        return None
    subject = _subject_of(context, value.value)
    handler = _type_error_handler(context, node.handlers)
    if subject is None or handler is None:
        return None
    if subject.shape == "model":
        dead = [node.body, *(h.body for h in node.handlers if h is not handler)]
        if node.orelse is not None:
            dead.append(node.orelse.body)
        fix = None
        if handler.name is None and node.finalbody is None and not has_multiline_string(node):
            fix = _replace_statement(context, node, _hoisted(handler.body))
        message = (
            f"Version shim: the query always returns {subject.returns}; indexing it always "
            "raises `TypeError`, so the `try` branch never completes and the `except` "
            "branch always runs"
        )
        return Shim(value, subject, message, tuple(dead), fix)
    if subject.nullable or not plain or not statements.is_index_zero(value):
        return None
    fix = None
    if node.finalbody is None and not has_multiline_string(node):
        kept = _hoisted(node.body) + (_hoisted(node.orelse.body) if node.orelse else [])
        fix = _replace_statement(context, node, kept)
    message = (
        f"Version shim: the query always returns {subject.returns}; `[0]` cannot fail, so "
        "the `except` branch never runs"
    )
    return Shim(value, subject, message, tuple(h.body for h in node.handlers), fix)


def _only_statement(body: cst.BaseSuite) -> cst.BaseSmallStatement | None:
    lines = [body] if isinstance(body, cst.SimpleStatementSuite) else list(body.body)
    if len(lines) != 1:
        return None
    line = lines[0]
    if not isinstance(line, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
        return None
    return line.body[0] if len(line.body) == 1 else None


def _type_error_handler(
    context: FileContext, handlers: Sequence[cst.ExceptHandler]
) -> cst.ExceptHandler | None:
    """The handler that catches a `TypeError`, when the handlers before it certainly do not."""
    for handler in handlers:
        if handler.type is None:
            return handler
        types = (
            [element.value for element in handler.type.elements]
            if isinstance(handler.type, cst.Tuple)
            else [handler.type]
        )
        names = [t.value if isinstance(t, cst.Name) else None for t in types]
        if any(name is None or not _builtin(context, name) for name in names):
            return None
        if any(name in CATCHES_TYPE_ERROR for name in names):
            return handler
        if not all(name in BUILTIN_OTHER_ERRORS for name in names):
            return None
    return None


# Builtin exceptions that are not `TypeError` or a base of it.
BUILTIN_OTHER_ERRORS = frozenset(
    {"KeyError", "IndexError", "LookupError", "AttributeError", "ValueError", "NameError"}
)
