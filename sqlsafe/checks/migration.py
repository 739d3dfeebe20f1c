"""Turning a function that returns a detached instance into one that returns a dict, and
migrating its callers with it, so that the program that raised `DetachedInstanceError`
before the fix runs after it.

The DETACH fix `return model_to_dict(obj)` changes what callers get, so it is planned for the
whole run before any file is fixed: a function is *converted* only when every reference to
it in the checked files is a call whose result can be followed (attribute reads of columns,
`getattr` with a literal name, truth and `None` tests, iteration of a list); those reads are
rewritten to `result["column"]` by a diagnostic at the call site, under the same code, so
that `sqlsafe fix` changes both files in the same run. Anything else blocks the conversion
and the function's diagnostic names the first blocking site; the safe `refresh()` fix is
offered instead where it cures the failure.

The run's plan (`sqlsafe.checks.plan`) comes with the file's context; without one, a file
is planned on its own, as if it were the whole project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

from sqlsafe.checks.base import (
    BLOCK_INDENT,
    FileContext,
    FixPlan,
    Index,
    Insert,
    MemoKey,
    Note,
    Replace,
    Rule,
    RuleSettings,
)
from sqlsafe.checks.blocks import statements
from sqlsafe.checks.lifetimes import (
    SESSION_TRIGGERS,
    Analysis,
    Detachment,
    Expiry,
    ReturnSite,
    Shape,
    analyse,
    detachment,
    iter_functions,
    session_triggers,
)
from sqlsafe.checks.names import ImportTable, dotted
from sqlsafe.checks.plan import FACTS, Call, Found, Plan, PlanFile, Target, Trees, decide
from sqlsafe.checks.scopes import binds
from sqlsafe.checks.story import elsewhere, story
from sqlsafe.checks.truth import is_truth_test
from sqlsafe.diagnostics import Applicability
from sqlsafe.positions import NodeRanges, Positions
from sqlsafe.traversal import children

if TYPE_CHECKING:
    from sqlsafe.screen import Syntax

# The severest code a function's returns get is the code its callers are reported under.
_SEVERITY = ("DETACH002", "DETACH001", "DETACH003")


_CANDIDATES: MemoKey[dict[cst.FunctionDef, Candidate]] = MemoKey("detach candidates")
_POSITIONS: MemoKey[NodeRanges] = MemoKey("positions of code")
_OWN_PLAN: MemoKey[Plan] = MemoKey("the file's own DETACH plan")
_CALL_SITES: MemoKey[dict[tuple[Target, ...], list[CallSite]]] = MemoKey("calls of converted")


# -- the functions whose returns are converted ------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A function with at least one flagged instance return, as one file sees it."""

    qualname: str
    function: cst.FunctionDef
    code: str
    shape: Shape
    model: str | None
    is_async: bool
    flagged: tuple[tuple[ReturnSite, Detachment], ...]
    problem: str | None
    """Why the function cannot be converted, judged from its own file; None if it can."""


def candidates(context: FileContext) -> dict[cst.FunctionDef, Candidate]:
    """Every function of the file with a flagged return, keyed by its node."""
    return context.memo(_CANDIDATES, context.module, lambda: _candidates(context))


def _candidates(context: FileContext) -> dict[cst.FunctionDef, Candidate]:
    found: dict[cst.FunctionDef, Candidate] = {}
    top_level = {node: name for name, node in iter_functions(context.module)}
    for function, problem in _all_functions(context.module):
        analysis = analyse(context, function)
        flagged = tuple(
            (site, failure)
            for site in analysis.instance_returns()
            if (failure := detachment(context, site)) is not None
        )
        if not flagged:
            continue
        local = top_level.get(function)
        qualname = f"{context.module_name}.{local or function.name.value}"
        if problem is None and local is not None and "." in local:
            problem = f"`{local}` is a method, whose callers cannot be followed"
        instances = [site.instance for site in analysis.instance_returns() if site.instance]
        shapes = {instance.shape is Shape.LIST for instance in instances}
        models = {instance.model for instance in instances}
        code = min((v.code for _, v in flagged), key=_SEVERITY.index)
        found[function] = Candidate(
            qualname=qualname,
            function=function,
            code=code,
            shape=instances[0].shape if len(shapes) == 1 else Shape.ONE,
            model=models.pop() if len(models) == 1 else None,
            is_async=function.asynchronous is not None,
            flagged=flagged,
            problem=problem or _unconvertible(context, function, analysis, shapes),
        )
    return found


def _all_functions(
    module: cst.Module,
) -> Iterable[tuple[cst.FunctionDef, str | None]]:
    """Every function of the module with, for nested ones, why callers cannot be followed."""
    pending: list[tuple[cst.CSTNode, str | None]] = [(module, None)]
    while pending:
        node, problem = pending.pop()
        for statement in statements(node):
            if isinstance(statement, cst.FunctionDef):
                yield statement, problem
                pending.append(
                    (
                        statement,
                        f"`{statement.name.value}` is a nested function, "
                        "whose callers cannot be followed",
                    )
                )
            elif isinstance(statement, cst.ClassDef):
                pending.append((statement, problem))


def _unconvertible(
    context: FileContext, function: cst.FunctionDef, analysis: Analysis, shapes: set[bool]
) -> str | None:
    if analysis.yields:
        return "it is a generator"
    if len(shapes) > 1:
        return "it returns a list on some paths and one instance on others"
    for site in analysis.returns:
        value = site.node.value
        if site.instance is None:
            if value is not None and not (isinstance(value, cst.Name) and value.value == "None"):
                return "another `return` gives something other than an instance or `None`"
            continue
        if not site.inside:
            return "an instance is returned after its session closed, too late to convert it"
        if site.commits_at_exit and site.statement is None:
            return "the return shares its line with other statements"
        if site.instance.block.is_async and not isinstance(value, cst.Name):
            return "an async return is converted only when it returns a variable"
    return None


# -- the plan's view of a file ------------------------------------------------------------------


def found_in(context: FileContext) -> tuple[Found, ...]:
    return tuple(
        Found(
            candidate.qualname,
            candidate.code,
            candidate.shape.value,
            candidate.model,
            candidate.is_async,
            candidate.problem,
            tuple((_row(context, site.node), found.code) for site, found in candidate.flagged),
        )
        for candidate in candidates(context).values()
    )


class _Tree:
    """A file's syntax tree as the planner asks about it (`plan.Tree`)."""

    def __init__(self, context: FileContext) -> None:
        self.context = context

    def candidates(self) -> tuple[Found, ...]:
        return found_in(self.context)

    def calls(self, converted: Mapping[str, Target]) -> list[Call]:
        return [
            Call(
                site.target.qualname,
                _row(self.context, site.node),
                site.escape,
                bool(site.rewrites),
            )
            for site in call_sites(self.context, converted)
        ]


def trees(index: Index) -> Trees:
    """What parses the run's files for its planner (`plan.Planner.trees`)."""

    def tree(
        path: Path, module_name: str, text: str, settings: RuleSettings
    ) -> Callable[[], _Tree | None]:
        def load() -> _Tree | None:
            try:
                module = cst.parse_module(text)
            except (cst.ParserSyntaxError, RecursionError):
                return None  # the file's check reports it
            names = ImportTable.of_file(module, module_name, path, index)
            return _Tree(FileContext(module, module_name, names, index, settings))

        return load

    return tree


def _row(context: FileContext, node: cst.CSTNode) -> int:
    positions = context.memo(_POSITIONS, context.module, lambda: Positions(context.module))
    return positions[node].start.line


def plan_for(context: FileContext) -> Plan:
    """The run's plan, or this file's own when the run has none (a file checked alone)."""
    if context.plan is not None:
        return context.plan
    own = PlanFile(context.module_name.replace(".", "/") + ".py", lambda: _Tree(context))
    return context.memo(_OWN_PLAN, context.module, lambda: decide([own]))


# -- callers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallSite:
    target: Target
    node: cst.CSTNode
    """The call (or the bare reference)."""
    rewrites: tuple[tuple[cst.CSTNode, cst.BaseExpression], ...]
    escape: str | None


def call_sites(context: FileContext, targets: Mapping[str, Target]) -> list[CallSite]:
    """The references to `targets` in the file, each with how its result is used."""
    found = context.memo(_CALL_SITES, context.module, dict)
    key = tuple(targets.values())
    if key not in found:
        found[key] = _Callers(context, targets).run()
    return found[key]


class _Callers:
    def __init__(self, context: FileContext, targets: Mapping[str, Target]) -> None:
        self.context = context
        self.targets = targets
        self.parents: dict[int, cst.CSTNode] = {}
        self.sites: list[CallSite] = []

    def run(self) -> list[CallSite]:
        short = {q.rpartition(".")[2] for q in self.targets}
        for name in self._link(self.context.module, short):
            parent = self.parent(name)
            if isinstance(parent, (*_DEFINING, cst.AssignTarget)):
                continue
            reference: cst.BaseExpression = name
            if isinstance(parent, cst.Attribute):
                if parent.value is name:
                    continue
                reference = parent
            target = self._target(reference)
            if target is not None:
                self.sites.append(self._site(target, reference))
        self.sites.sort(key=lambda site: _row(self.context, site.node))
        return self.sites

    def _link(self, root: cst.CSTNode, short: set[str]) -> list[cst.Name]:
        """Record every node's parent; return the names that may refer to a target."""
        names = []
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Name) and node.value in short:
                names.append(node)
            for child in children(node):
                self.parents[id(child)] = node
                stack.append(child)
        return names

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(id(node))

    def _target(self, node: cst.BaseExpression) -> Target | None:
        qualname = self.context.names.qualify(node)
        if qualname is None:
            return None
        target = self.targets.get(qualname) or self.targets.get(
            self.context.index.resolve(qualname)
        )
        if target is None or self._shadowed(node):
            return None
        return target

    def _shadowed(self, node: cst.CSTNode) -> bool:
        """The reference is to a local of the same name (a parameter or an assignment)."""
        head = dotted(node)  # type: ignore[arg-type]
        if head is None:
            return False
        head = head.split(".")[0]
        scope = self.scope(node)
        if not isinstance(scope, cst.FunctionDef):
            return False
        return binds(self.context, scope, head)

    def scope(self, node: cst.CSTNode) -> cst.CSTNode:
        current = self.parent(node)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.Module)):
            if isinstance(current, cst.Lambda):
                return current
            current = self.parent(current)
        return current or self.context.module

    def _site(self, target: Target, node: cst.BaseExpression) -> CallSite:
        call = self.parent(node)
        if not isinstance(call, cst.Call) or call.func is not node:
            return CallSite(target, node, (), f"`{dotted(node)}` is used without being called")
        result: cst.CSTNode = call
        parent = self.parent(call)
        if isinstance(parent, cst.Await):
            result = parent
        follower = _Follower(self, target)
        follower.expression(result, assigned=True)
        return CallSite(target, call, tuple(follower.rewrites), follower.escape)


# Names that define rather than refer: `def get_user`, `import get_user`, parameters.
_DEFINING = (cst.ImportAlias, cst.FunctionDef, cst.ClassDef, cst.Param, cst.AsName)


class _Follower:
    """Follows a converted function's result through the calling function."""

    def __init__(self, callers: _Callers, target: Target) -> None:
        self.callers = callers
        self.target = target
        self.rewrites: list[tuple[cst.CSTNode, cst.BaseExpression]] = []
        self.escape: str | None = None
        self.code = callers.context.module.code_for_node

    def fail(self, reason: str) -> None:
        if self.escape is None:
            self.escape = reason

    def expression(
        self, node: cst.CSTNode, assigned: bool = False, listed: bool | None = None
    ) -> None:
        """One use of a value that holds the result (`listed`: a list of results)."""
        if listed is None:
            listed = self.target.shape == Shape.LIST.value
        parent = self.callers.parent(node)
        shown = f"`{self.code(node)}`"
        if isinstance(parent, cst.Expr):
            return
        if isinstance(parent, cst.Attribute) and parent.value is node:
            if listed:
                self.fail(f"{shown} is a list whose `.{parent.attr.value}` is used")
            else:
                self.attribute(node, parent, parent.attr.value)
            return
        if isinstance(parent, cst.Arg) and isinstance(
            call := self.callers.parent(parent), cst.Call
        ):
            self.argument(node, call, shown, listed)
            return
        if (
            assigned
            and isinstance(parent, cst.Assign)
            and parent.value is node
            and len(parent.targets) == 1
            and isinstance(parent.targets[0].target, cst.Name)
        ):
            self.name(parent.targets[0].target, listed)
            return
        if is_truth_test(node, self.callers.parent):
            return
        if (
            listed
            and isinstance(parent, (cst.For, cst.CompFor))
            and parent.iter is node
            and isinstance(parent.target, cst.Name)
        ):
            self.name(parent.target, listed=False)
            return
        self.fail(self.describe(node, parent, shown))

    def describe(self, node: cst.CSTNode, parent: cst.CSTNode | None, shown: str) -> str:
        if isinstance(parent, cst.Return):
            return f"{shown} is returned"
        if isinstance(parent, cst.FormattedStringExpression):
            return f"{shown} is formatted whole"
        if isinstance(parent, (cst.Element, cst.DictElement, cst.List, cst.Tuple, cst.Dict)):
            return f"{shown} is stored in a container"
        if isinstance(parent, (cst.AssignTarget, cst.Assign, cst.AnnAssign)):
            return f"{shown} is stored"
        return f"{shown} is used as `{self.code(parent)}`" if parent is not None else shown

    def attribute(self, node: cst.CSTNode, attribute: cst.Attribute, name: str) -> None:
        shown = f"`{self.code(attribute)}`"
        holder = self.callers.parent(attribute)
        if isinstance(holder, cst.Call) and holder.func is attribute:
            self.fail(f"a method is called: {shown}")
            return
        if isinstance(holder, (cst.AssignTarget, cst.AugAssign, cst.Del)) or (
            isinstance(holder, cst.AnnAssign) and holder.target is attribute
        ):
            self.fail(f"{shown} is assigned to")
            return
        problem = self.column_problem(name, shown)
        if problem is not None:
            self.fail(problem)
            return
        self.rewrites.append((attribute, _subscript(node, name, self.quote(attribute))))  # type: ignore[arg-type]

    def column_problem(self, name: str, shown: str) -> str | None:
        facts = (
            self.callers.context.index.model(self.target.model)
            if self.target.model is not None
            else None
        )
        if facts is None:
            return (
                f"{shown}: the project index does not know the model, "
                f"so `{name}` may not be a column"
            )
        if name in facts.relationships:
            return f"{shown} reads a relationship, which the dict does not hold"
        if name not in facts.columns:
            return f"{shown} is not a column"
        return None

    def argument(self, node: cst.CSTNode, call: cst.Call, shown: str, listed: bool) -> None:
        func = dotted(call.func)
        args = call.args
        if func == "getattr" and not listed and args[0].value is node and len(args) in (2, 3):
            name = args[1].value
            literal = name.evaluated_value if isinstance(name, cst.SimpleString) else None
            if isinstance(literal, str):
                problem = self.column_problem(literal, f"`{self.code(call)}`")
                if problem is not None:
                    self.fail(problem)
                elif len(args) == 2:
                    key = _subscript(node, literal, self.quote(call))
                    self.rewrites.append((call, key))
                else:
                    get = _dict_get(node, literal, args[2].value, self.quote(call))
                    self.rewrites.append((call, get))
                return
        if func == "bool" or (func == "len" and listed):
            return
        self.fail(f"{shown} is passed to `{self.code(call.func)}()`")

    def quote(self, node: cst.CSTNode) -> str:
        """A quote that may appear where `node` is: before Python 3.12 an f-string cannot
        hold its own quote character."""
        current = self.callers.parent(node)
        while current is not None and not isinstance(current, cst.BaseStatement):
            if isinstance(current, cst.FormattedString):
                return "'" if '"' in current.start else '"'
            current = self.callers.parent(current)
        return '"'

    def name(self, target: cst.Name, listed: bool) -> None:
        scope = self.callers.scope(target)
        if isinstance(scope, cst.Lambda):
            self.fail("the result is used in a lambda")
            return
        uses = [n for n in _names_in(self.callers.context, scope, target.value) if n is not target]
        for use in uses:
            if self.escape is not None:
                return
            if self.callers.scope(use) is not scope:
                self.fail(f"`{target.value}` is used in a nested scope")
                return
            parent = self.callers.parent(use)
            if _is_store(parent, use):
                self.fail(f"`{target.value}` is assigned again")
                return
            self.expression(use, listed=listed)


def _names_in(context: FileContext, scope: cst.CSTNode, name: str) -> list[cst.Name]:
    """Uses of `name` in a scope, and in nested functions that do not bind it themselves."""
    found = []
    stack = [scope.body if isinstance(scope, cst.FunctionDef) else scope]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name) and node.value == name:
            found.append(node)
        if isinstance(node, cst.Attribute):
            stack.append(node.value)
            continue
        if isinstance(node, cst.FunctionDef) and binds(context, node, name):
            continue
        if isinstance(node, (cst.Global, cst.Nonlocal)):
            found.extend(n.name for n in node.names if n.name.value == name)
            continue
        stack.extend(children(node))
    return found


def _is_store(parent: cst.CSTNode | None, node: cst.CSTNode) -> bool:
    if isinstance(parent, cst.AssignTarget) and parent.target is node:
        return True
    if isinstance(parent, (cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr)):
        return getattr(parent, "target", None) is node
    return isinstance(parent, (cst.AsName, cst.Del, cst.NameItem, cst.Global, cst.Nonlocal))


def _subscript(value: cst.BaseExpression, key: str, quote: str) -> cst.Subscript:
    return cst.Subscript(
        value=value,
        slice=[cst.SubscriptElement(cst.Index(cst.SimpleString(f"{quote}{key}{quote}")))],
    )


def _dict_get(
    value: cst.BaseExpression, key: str, default: cst.BaseExpression, quote: str
) -> cst.Call:
    return cst.Call(
        func=cst.Attribute(value=value, attr=cst.Name("get")),
        args=[cst.Arg(cst.SimpleString(f"{quote}{key}{quote}")), cst.Arg(default)],
    )


# -- the rules' side ----------------------------------------------------------------------------


class ReturnsRule(Rule):
    """What DETACH001-003 share: report flagged returns of this rule's code, with the
    conversion when the plan converts the function, and the call sites of converted
    functions whose worst code is this rule's."""

    triggers = SESSION_TRIGGERS

    @classmethod
    def triggers_for(cls, index: Index, plan: Plan | None = None) -> tuple[str, ...]:
        # A caller of a converted function owns no session: it names the function.
        converted = plan.names() if plan is not None else frozenset()
        return (*session_triggers(index), *sorted(converted))

    @classmethod
    def screen(cls, syntax: Syntax) -> bool:
        # A caller of a converted function is found by the function's name (`_Callers`).
        plan = syntax.plan
        converted = plan.names() if plan is not None else frozenset()
        if not converted.isdisjoint(syntax.identifiers):
            return True
        # A flagged return gives an instance of a session the function holds itself.
        return any(
            scope.function and scope.opens and scope.returns_value
            for scope in syntax.session_scopes
        )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        candidate = candidates(self.context).get(node)
        if candidate is None:
            return
        plan = plan_for(self.context)
        target = plan.converted.get(candidate.qualname)
        blocked = plan.blocked.get(candidate.qualname) or candidate.problem
        for site, found in candidate.flagged:
            if found.code != self.code:
                continue
            name = node.name.value
            message = f"`{name}()` returns an ORM instance from a session it closes; {found.reason}"
            fix: FixPlan | None = None
            if target is not None and candidate.qualname not in plan.withheld:
                fix = conversion(self.context, candidate)
            else:
                if target is None and blocked:
                    message += f" (not converted to a dict: {blocked})"
                fix = refresh_fix(self.context, candidate, site)
            assert site.instance is not None
            readers = tuple(
                Note(f"the result is read here, in `{path}`", elsewhere=(path, row))
                for path, row in plan.readers.get(candidate.qualname, ())
                if target is not None
            )
            notes = story(site.instance) + readers
            self.report(site.node.value or site.node, message, fix, notes)

    def run_facts(self) -> tuple[str, object]:
        return FACTS, found_in(self.context)

    def visit_Module(self, node: cst.Module) -> None:
        plan = plan_for(self.context)
        if not plan.converted:
            return
        ours = {q: t for q, t in plan.converted.items() if t.code == self.code}
        if not ours:
            return
        for site in call_sites(self.context, plan.converted):
            if site.target.code != self.code or site.escape is not None or not site.rewrites:
                continue
            name = site.target.qualname.rpartition(".")[2]
            message = (
                f"`{name}()` returns a detached ORM instance ({site.target.code} at "
                f"{site.target.location}); its fix returns a dict, and the reads of the "
                "result here change with it"
            )
            fix = None
            if site.target.qualname not in plan.withheld:
                fix = FixPlan(
                    tuple(Replace(old, new) for old, new in site.rewrites),
                    Applicability.UNSAFE,
                    f"Read the dict `{name}()` returns after its fix",
                )
            where = elsewhere(site.target.location, f"`{name}()` returns the instance here")
            self.report(site.node, message, fix, (where,))


def conversion(context: FileContext, candidate: Candidate) -> FixPlan:
    """`return model_to_dict(obj)` at every instance return, and the annotation to match."""
    analysis = analyse(context, candidate.function)
    changes: list[Replace | Insert] = []
    item = _fresh_name(context, candidate.function, "item")
    for site in analysis.instance_returns():
        instance = site.instance
        assert instance is not None and site.node.value is not None
        value = site.node.value
        session = instance.block.name
        text = context.code(value)
        if instance.shape is Shape.LIST:
            converted = f"[model_to_dict({item}) for {item} in {text}]"
        else:
            converted = f"model_to_dict({text})"
        if instance.block.is_async:
            # Expired or deferred attributes load inside run_sync's greenlet, not here.
            converted = f"await {session}.run_sync(lambda _: {converted})"
        changes.append(Replace(value, converted))
        if site.commits_at_exit and site.statement is not None:
            # Inside `begin()` new objects get their keys and server defaults only when
            # flushed; the commit at the exit would flush them after the dict was made.
            awaited = "await " if instance.block.is_async else ""
            changes.append(
                Insert(
                    site.statement,
                    f"{awaited}{session}.flush(){context.module.default_newline}{BLOCK_INDENT}",
                )
            )
    imports: list[tuple[str, str]] = [(context.settings.helpers_module, "model_to_dict")]
    annotation = candidate.function.returns
    if annotation is not None and candidate.model is not None:
        new = annotation.annotation.visit(_DictAnnotation(context, candidate.model))
        if isinstance(new, cst.BaseExpression) and not new.deep_equals(annotation.annotation):
            changes.append(Replace(annotation.annotation, new))
            imports.append(("typing", "Any"))
    return FixPlan(
        tuple(changes),
        Applicability.UNSAFE,
        "Return `model_to_dict(...)` from inside the session block",
        tuple(imports),
    )


def refresh_fix(context: FileContext, candidate: Candidate, site: ReturnSite) -> FixPlan | None:
    """`session.refresh(obj)` before the return: reloads what a commit expired (safe)."""
    instance = site.instance
    value = site.node.value
    if (
        instance is None
        or not site.inside
        or site.commits_at_exit
        or site.statement is None
        or instance.shape is Shape.LIST
        or not isinstance(value, cst.Name)
        or instance.expired is not Expiry.YES
    ):
        return None
    awaited = "await " if instance.block.is_async else ""
    newline = context.module.default_newline
    refresh = f"{awaited}{instance.block.name}.refresh({value.value})"
    here = f"{newline}{BLOCK_INDENT}"
    if instance.shape is Shape.OPTIONAL:
        step = context.module.default_indent
        text = f"if {value.value} is not None:{here}{step}{refresh}{here}"
    else:
        text = f"{refresh}{here}"
    return FixPlan(
        (Insert(site.statement, text),),
        Applicability.SAFE,
        f"Reload `{value.value}` with `{instance.block.name}.refresh()` before returning it",
    )


def _fresh_name(context: FileContext, function: cst.FunctionDef, base: str) -> str:
    code = context.module.code_for_node(function)
    name = base
    while name in code:
        name += "_"
    return name


class _DictAnnotation(cst.CSTTransformer):
    """Replaces the model in a return annotation by `dict[str, Any]`."""

    def __init__(self, context: FileContext, model: str) -> None:
        super().__init__()
        self.context = context
        self.model = model
        self.short = model.rpartition(".")[2]

    def _is_model(self, node: cst.BaseExpression) -> bool:
        qualname = self.context.names.qualify(node) or dotted(node)
        return qualname is not None and (
            qualname == self.model or qualname.rpartition(".")[2] == self.short
        )

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.BaseExpression:
        return _DICT if self._is_model(original) else updated

    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        return _DICT if self._is_model(original) else updated

    def leave_SimpleString(
        self, original: cst.SimpleString, updated: cst.SimpleString
    ) -> cst.BaseExpression:
        value = original.evaluated_value
        if isinstance(value, str):
            try:
                inner = cst.parse_expression(value)
            except cst.ParserSyntaxError:
                return updated
            replaced = inner.visit(self)
            if isinstance(replaced, cst.BaseExpression) and not replaced.deep_equals(inner):
                quote = original.quote
                return cst.SimpleString(f"{quote}{cst.Module([]).code_for_node(replaced)}{quote}")
        return updated


_DICT = cst.parse_expression("dict[str, Any]")
