"""Which classes are ORM models, and their keys, columns, relationships and deferred columns.

A class is a model when it is a SQLModel class with `table=True` (or a subclass of one), or a
declarative SQLAlchemy class with a table: a subclass of a `DeclarativeBase` subclass, of a
base made by `declarative_base()` / `registry().generate_base()` / `@as_declarative`, or a
class decorated with `@<registry>.mapped`, that has `__tablename__` or `__table__` somewhere
in its MRO or a mapped ancestor, and is not `__abstract__`. Inheritance is followed through
project classes in any module; library classes other than the markers above are opaque.

Primary keys are given in mapper order, the order `session.get(Model, (a, b))` expects. The
mapper takes a table's key columns in the order the table lists them, and declarative
SQLAlchemy 2.x lists a class's columns in the order it scans the class: its own attributes
(the assignment order merged with the annotation order, as SQLAlchemy's
`merge_lists_w_ordering` does), then mixin and abstract-base columns, then a stable sort on
`sort_order`. A `PrimaryKeyConstraint` in `__table_args__`, a mapper `primary_key` and a
mapped ancestor's key (joined and single-table inheritance) take precedence, in that order.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlsafe.index.modules import ModuleScope
from sqlsafe.index.resolver import Resolver, library_member, typing_member
from sqlsafe.index.syntax import (
    dict_value,
    elements,
    guarded,
    is_none,
    is_true,
    keyword,
    parsed_string,
    statements,
)
from sqlsafe.index.types import ModelInfo

SQLMODEL = "sqlmodel"
DECLARATIVE = "declarative"

_DECLARATIVE_BASE_CLASSES = frozenset({"DeclarativeBase", "DeclarativeBaseNoMeta"})
_COLUMN_CALLS = frozenset({"Column", "mapped_column"})
_RELATIONSHIP_CALLS = frozenset({"relationship", "relation", "dynamic_loader"})
_DECLARED_ATTR = frozenset({"declared_attr", "directive", "cascading"})
_RELATIONSHIP_ANNOTATIONS = frozenset({"WriteOnlyMapped", "DynamicMapped"})
_WRAPPER_TYPES = frozenset(
    {"Optional", "Union", "List", "Set", "FrozenSet", "Sequence", "Collection", "Dict", "Mapping"}
)
_BUILTIN_CONTAINERS = frozenset({"list", "set", "frozenset", "tuple", "dict"})
_NOT_SQLMODEL_FIELDS = frozenset({"model_config"})


@dataclass
class Attr:
    name: str
    kind: str  # "column", "relationship" or "other"
    primary_key: bool = False
    deferred: bool = False
    column_name: str | None = None
    sort_order: int = 0
    sa_column: bool = False
    backref: str | None = None
    target: ast.expr | str | None = None
    """What a relationship points at: an expression to resolve, or a class-name string."""
    eager: bool = False
    """A relationship loaded with its object (`lazy="selectin"`, `"joined"`, ...): readable
    after the session closes, unlike a lazy one."""
    collection: bool | None = None
    """A relationship holding a collection (True) or one object (False); None when only the
    foreign keys can tell (an unannotated `relationship()` without `uselist`)."""
    own_join: bool = False
    """A relationship given `primaryjoin`, `foreign_keys` or `remote_side`: its direction is
    not the one the tables' foreign keys alone give."""
    references: frozenset[str] | None = frozenset()
    """The tables a column's foreign keys name; None when one cannot be read."""


@dataclass
class Body:
    """What one class body declares."""

    attrs: dict[str, Attr] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    """Attribute names in the order SQLAlchemy 2.x scans this class alone."""
    annotated: list[str] = field(default_factory=list)
    dunders: dict[str, ast.expr | None] = field(default_factory=dict)
    """`__tablename__`, `__table__`, `__table_args__`, `__mapper_args__`, `__abstract__`:
    the assigned (or `@declared_attr`-returned) expression; None when it cannot be read."""


@dataclass
class ClassNode:
    qualname: str
    module: str
    node: ast.ClassDef | None
    """None for a base made by a call (`Base = declarative_base()`)."""
    bases: list[str]
    declarative_base: bool = False
    mapped_decorator: bool = False


def merge_orders(first: list[str], second: list[str]) -> list[str]:
    """Merge two orderings of overlapping names the way declarative SQLAlchemy 2.x merges a
    class's `vars()` with its `__annotations__`: follow one list until a name both share,
    then continue in the other list from that name."""
    shared = set(first) & set(second)
    lists = [iter(first), iter(second)]
    current = 0
    merged: list[str] = []
    while True:
        for name in lists[current]:
            if name in shared:
                shared.discard(name)
                current = 1 - current
                break
            merged.append(name)
        else:
            merged.extend(lists[1 - current])
            return merged


class ModelFinder:
    def __init__(self, scopes: dict[str, ModuleScope], resolver: Resolver) -> None:
        self.resolver = resolver
        self.classes: dict[str, ClassNode] = {}
        self.registries: set[str] = set()
        self._mro: dict[str, list[str]] = {}
        self._bodies: dict[tuple[str, str], Body] = {}
        self._flags: dict[tuple[str, str], bool] = {}
        self._drafts: dict[str, _Draft] = {}
        # Registries first: a class may be mapped by a registry another module made.
        for scope in scopes.values():
            guarded(self._collect_registries, scope)
        for scope in scopes.values():
            guarded(self._collect_classes, scope)
        self.models: dict[str, ModelInfo] = {}

    # -- discovery ------------------------------------------------------------------------

    def _collect_registries(self, scope: ModuleScope) -> None:
        for name, definition in scope.values():
            value = definition.node
            assert isinstance(value, ast.expr)
            if library_member(self.resolver.call_name(scope.name, value)) == "registry":
                self.registries.add(f"{scope.name}.{name}")

    def _collect_classes(self, scope: ModuleScope) -> None:
        module = scope.name
        resolve = self.resolver.expr
        for name, definition in scope.values():
            value = definition.node
            if isinstance(value, ast.Call) and self._makes_base(module, value):
                cls_arg = keyword(value, "cls")
                base = resolve(module, cls_arg) if cls_arg is not None else None
                self.classes[f"{module}.{name}"] = ClassNode(
                    f"{module}.{name}", module, None, [base] if base else [], True
                )
        for name, node in scope.classes():
            bases = [q for q in (resolve(module, b) for b in _base_exprs(node)) if q]
            decorators = [self._decorator_kind(module, d) for d in node.decorator_list]
            metaclass = keyword(node, "metaclass")
            self.classes[f"{module}.{name}"] = ClassNode(
                f"{module}.{name}",
                module,
                node,
                bases,
                declarative_base=any(library_member(b) in _DECLARATIVE_BASE_CLASSES for b in bases)
                or "base" in decorators
                or (
                    metaclass is not None
                    and library_member(resolve(module, metaclass)) == "DeclarativeMeta"
                ),
                mapped_decorator="mapped" in decorators,
            )

    def _makes_base(self, module: str, call: ast.Call) -> bool:
        if library_member(self.resolver.call_name(module, call)) == "declarative_base":
            return True
        func = call.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr == "generate_base"
            and self._is_registry(module, func.value)
        )

    def _is_registry(self, module: str, node: ast.expr) -> bool:
        if isinstance(node, ast.Call):
            return library_member(self.resolver.call_name(module, node)) == "registry"
        return self.resolver.expr(module, node) in self.registries

    def _decorator_kind(self, module: str, node: ast.expr) -> str | None:
        func = node.func if isinstance(node, ast.Call) else node
        if library_member(self.resolver.expr(module, func)) == "as_declarative":
            return "base"
        if isinstance(func, ast.Attribute) and self._is_registry(module, func.value):
            if func.attr == "as_declarative_base":
                return "base"
            if func.attr in ("mapped", "mapped_as_dataclass"):
                return "mapped"
        if (
            isinstance(node, ast.Call)
            and library_member(self.resolver.expr(module, func)) == "mapped_as_dataclass"
            and node.args
            and self._is_registry(module, node.args[0])
        ):
            return "mapped"
        return None

    # -- class graph ----------------------------------------------------------------------

    def mro(self, qualname: str) -> list[str]:
        """C3 linearisation over project classes (library bases dropped)."""
        cached = self._mro.get(qualname)
        if cached is not None:
            return cached
        self._mro[qualname] = [qualname]  # inheritance cycles end here
        parents = [b for b in self.classes[qualname].bases if b in self.classes]
        sequences = [list(self.mro(p)) for p in parents] + [list(parents)]
        result = [qualname]
        while sequences := [s for s in sequences if s]:
            for sequence in sequences:
                head = sequence[0]
                if not any(head in other[1:] for other in sequences):
                    break
            else:  # no consistent order (Python would refuse the class): depth-first
                head = sequences[0][0]
            result.append(head)
            sequences = [s[1:] if s[0] == head else [n for n in s if n != head] for s in sequences]
        self._mro[qualname] = result
        return result

    def _flag(self, compute: Callable[[str], bool], qualname: str) -> bool:
        key = (compute.__name__, qualname)
        if key in self._flags:
            return self._flags[key]
        self._flags[key] = False
        value = compute(qualname)
        self._flags[key] = value
        return value

    def is_sqlmodel(self, qualname: str) -> bool:
        return self._flag(self._compute_sqlmodel, qualname)

    def _compute_sqlmodel(self, qualname: str) -> bool:
        return any(
            b == "sqlmodel.SQLModel"
            or (b.startswith("sqlmodel.") and library_member(b) == "SQLModel")
            or (b in self.classes and self.is_sqlmodel(b))
            for b in self.classes[qualname].bases
        )

    def is_table(self, qualname: str) -> bool:
        return self._flag(self._compute_table, qualname)

    def _compute_table(self, qualname: str) -> bool:
        # SQLModel maps a `table=True` class only when no base is a table model: the
        # metaclass skips the declarative setup otherwise (sqlmodel/main.py, `base_is_table`;
        # a subclass of a table model cannot be used with a session).
        node = self.classes[qualname]
        if node.node is None or not self.is_sqlmodel(qualname):
            return False
        return is_true(keyword(node.node, "table")) and not any(
            self._declares_table(c) for c in self.mro(qualname)[1:]
        )

    def _declares_table(self, qualname: str) -> bool:
        node = self.classes[qualname].node
        return node is not None and is_true(keyword(node, "table"))

    def is_declarative(self, qualname: str) -> bool:
        return self._flag(self._compute_declarative, qualname)

    def _compute_declarative(self, qualname: str) -> bool:
        node = self.classes[qualname]
        return (
            node.declarative_base
            or node.mapped_decorator
            or any(b in self.classes and self.is_declarative(b) for b in node.bases)
        )

    def is_mapped(self, qualname: str) -> bool:
        return self._flag(self._compute_mapped, qualname)

    def _compute_mapped(self, qualname: str) -> bool:
        node = self.classes[qualname]
        if node.node is None:
            return False
        if self.is_sqlmodel(qualname):
            return self.is_table(qualname)
        if not self.is_declarative(qualname) or node.declarative_base:
            return False
        if is_true(self.body(qualname, DECLARATIVE).dunders.get("__abstract__")):
            return False
        if self.mapped_ancestor(qualname) is not None:
            return True
        for ancestor in self.mro(qualname):
            dunders = self.body(ancestor, DECLARATIVE).dunders
            if "__table__" in dunders:
                return True
            if "__tablename__" in dunders:
                return not is_none(dunders["__tablename__"])
        return False

    def mapped_ancestor(self, qualname: str) -> str | None:
        return next((c for c in self.mro(qualname)[1:] if self.is_mapped(c)), None)

    # -- class bodies ---------------------------------------------------------------------

    def body(self, qualname: str, style: str) -> Body:
        key = (qualname, style)
        cached = self._bodies.get(key)
        if cached is None:
            node = self.classes[qualname]
            cached = Body() if node.node is None else _BodyReader(self, node, style).read()
            self._bodies[key] = cached
        return cached

    def classify(self, module: str, value: ast.expr | None) -> Attr | None:
        """What an attribute's value declares; None for anything not an ORM construct."""
        if not isinstance(value, ast.Call):
            return None
        qualname = self.resolver.call_name(module, value) or ""
        member = library_member(qualname)
        from_sqlmodel = qualname.startswith("sqlmodel.")
        if member in _COLUMN_CALLS or (member == "Field" and from_sqlmodel):
            attr = Attr("", "column", primary_key=is_true(keyword(value, "primary_key")))
            if member != "Field":
                attr.column_name = _first_string(value)
                attr.references = self._references(module, value.args)
                attr.deferred = (
                    is_true(keyword(value, "deferred"))
                    or is_true(keyword(value, "deferred_raiseload"))
                    or not is_none(keyword(value, "deferred_group"))
                )
                attr.sort_order = _int(keyword(value, "sort_order"))
                return attr
            inner = self.classify(module, keyword(value, "sa_column"))
            if inner is not None:
                inner.sa_column = True
                return inner
            attr.references = _referenced_tables([keyword(value, "foreign_key")])
            kwargs = keyword(value, "sa_column_kwargs")
            attr.primary_key |= is_true(dict_value(kwargs, "primary_key"))
            name = dict_value(kwargs, "name")
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                attr.column_name = name.value
            return attr
        if member == "deferred" or member == "column_property":
            inner = self.classify(module, value.args[0] if value.args else None)
            attr = inner if inner is not None and inner.kind == "column" else Attr("", "column")
            attr.deferred = member == "deferred" or is_true(keyword(value, "deferred"))
            return attr
        if member in _RELATIONSHIP_CALLS:
            target = value.args[0] if value.args else keyword(value, "argument")
            if isinstance(target, ast.Lambda):
                target = target.body
            hint: ast.expr | str | None = target
            if isinstance(target, ast.Constant):
                hint = target.value if isinstance(target.value, str) else None
            return Attr(
                "",
                "relationship",
                backref=_backref(self, module, value),
                target=hint,
                eager=_eager(keyword(value, "lazy")),
                collection=_uselist(lambda name: keyword(value, name)),
                own_join=_own_join(lambda name: keyword(value, name)),
            )
        if member == "Relationship" and from_sqlmodel:
            inner = self.classify(module, keyword(value, "sa_relationship"))
            if inner is not None and inner.kind == "relationship":
                return inner
            kwargs = keyword(value, "sa_relationship_kwargs")
            return Attr(
                "",
                "relationship",
                backref=_backref_name(self, module, dict_value(kwargs, "backref")),
                eager=_eager(dict_value(kwargs, "lazy")),
                collection=_uselist(lambda name: dict_value(kwargs, name)),
                own_join=_own_join(lambda name: dict_value(kwargs, name)),
            )
        return None

    def _references(self, module: str, args: list[ast.expr]) -> frozenset[str] | None:
        """The tables the `ForeignKey(...)` arguments of a column name."""
        keys = [
            arg.args[0] if arg.args else None
            for arg in args
            if isinstance(arg, ast.Call)
            and library_member(self.resolver.call_name(module, arg)) == "ForeignKey"
        ]
        return _referenced_tables(keys)

    # -- models ---------------------------------------------------------------------------

    def find(self) -> dict[str, ModelInfo]:
        drafts = {
            q: draft for q in self.classes if (draft := guarded(self._mapped_draft, q)) is not None
        }
        backrefs: dict[str, set[str]] = {}
        for qualname, draft in drafts.items():
            module = self.classes[qualname].module
            for attr in draft.own_relationships:
                if attr.backref is None or attr.target is None:
                    continue
                target = self._model_named(module, attr.target, drafts)
                if target is not None:
                    backrefs.setdefault(target, set()).add(attr.backref)
        for draft in drafts.values():
            for name, (module, attr) in draft.keyed.items():
                target = self._model_named(module, attr.target, drafts)  # type: ignore[arg-type]
                if target is not None and _one_to_many(draft, drafts[target]):
                    draft.collections.add(name)
        models: dict[str, ModelInfo] = {}
        for qualname, draft in drafts.items():
            received = set().union(
                *(backrefs.get(c, set()) for c in self.mro(qualname) if c in drafts)
            )
            models[qualname] = ModelInfo(
                qualname=qualname,
                primary_key=draft.primary_key,
                columns=frozenset(draft.columns),
                relationships=frozenset(draft.relationships | received),
                eager_relationships=frozenset(draft.eager),
                collections=frozenset(draft.collections),
                deferred=frozenset(draft.deferred),
                style=draft.style,
                primary_key_order_proven=draft.proven,
            )
        self.models = models
        return models

    def _model_named(
        self, module: str, target: ast.expr | str, drafts: dict[str, _Draft]
    ) -> str | None:
        if isinstance(target, ast.expr):
            qualname = self.resolver.expr(module, target)
            return qualname if qualname in drafts else None
        if "." in target:
            qualname = self.resolver.canonical(target)
            if qualname in drafts:
                return qualname
        name = target.rpartition(".")[2]
        candidates = [q for q in drafts if q.rpartition(".")[2] == name]
        local = [q for q in candidates if q.rpartition(".")[0] == module]
        for group in (local, candidates):
            if len(group) == 1:
                return group[0]
        return None

    def _mapped_draft(self, qualname: str) -> _Draft | None:
        return self._draft(qualname) if self.is_mapped(qualname) else None

    def _draft(self, qualname: str) -> _Draft:
        draft = self._drafts.get(qualname)
        if draft is None:
            self._drafts[qualname] = _Draft(DECLARATIVE)  # inheritance cycles end here
            draft = self._drafts[qualname] = self._make_draft(qualname)
        return draft

    def _make_draft(self, qualname: str) -> _Draft:
        style = SQLMODEL if self.is_sqlmodel(qualname) else DECLARATIVE
        chain = [c for c in self.mro(qualname) if style == DECLARATIVE or self.is_sqlmodel(c)]
        owner: dict[str, str] = {}
        attrs: dict[str, Attr] = {}
        for cls in chain:
            for name, attr in self.body(cls, style).attrs.items():
                if name not in attrs:
                    attrs[name] = attr
                    owner[name] = cls
        draft = _Draft(style)
        draft.columns = {n for n, a in attrs.items() if a.kind == "column"}
        draft.relationships = {n for n, a in attrs.items() if a.kind == "relationship"}
        draft.eager = {n for n in draft.relationships if attrs[n].eager}
        draft.collections = {n for n in draft.relationships if attrs[n].collection}
        draft.keyed = {
            n: (self.classes[owner[n]].module, a)
            for n, a in attrs.items()
            if a.kind == "relationship"
            and a.collection is None
            and not a.own_join
            and a.target is not None
        }
        draft.table = self._table_name(qualname, style, chain)
        draft.references = self._table_references(qualname, style, chain, attrs)
        draft.deferred = {n for n, a in attrs.items() if a.kind == "column" and a.deferred}
        draft.own_relationships = [
            a for a in self.body(qualname, style).attrs.values() if a.kind == "relationship"
        ]
        draft.primary_key, draft.proven = self._primary_key(qualname, style, chain, attrs, owner)
        return draft

    def _table_name(self, qualname: str, style: str, chain: list[str]) -> str | None:
        for cls in chain:
            dunders = self.body(cls, style).dunders
            if "__tablename__" in dunders:
                name = dunders["__tablename__"]
                return _string(name)
            if "__table__" in dunders:
                table = dunders["__table__"]
                return _first_string(table) if isinstance(table, ast.Call) else None
        # SQLModel's default `__tablename__` is the class name in lower case.
        return qualname.rpartition(".")[2].lower() if style == SQLMODEL else None

    def _table_references(
        self, qualname: str, style: str, chain: list[str], attrs: dict[str, Attr]
    ) -> frozenset[str] | None:
        """Every table the model's foreign keys name (columns and `ForeignKeyConstraint`s in
        `__table_args__`); None when one of them cannot be read."""
        found: set[str] = set()
        parts = [a.references for a in attrs.values() if a.kind == "column"]
        module = self.classes[qualname].module
        for cls in chain:
            for element in elements(self.body(cls, style).dunders.get("__table_args__")):
                member = library_member(self.resolver.call_name(module, element))
                if member == "ForeignKeyConstraint" and isinstance(element, ast.Call):
                    columns = (
                        element.args[1] if len(element.args) > 1 else keyword(element, "refcolumns")
                    )
                    parts.append(_referenced_tables(elements(columns)) if columns else None)
        for part in parts:
            if part is None:
                return None
            found |= part
        return frozenset(found)

    def _primary_key(
        self,
        qualname: str,
        style: str,
        chain: list[str],
        attrs: dict[str, Attr],
        owner: dict[str, str],
    ) -> tuple[tuple[str, ...], bool]:
        def inherited(dunder: str) -> ast.expr | None:
            for cls in chain:
                dunders = self.body(cls, style).dunders
                if dunder in dunders:
                    return dunders[dunder]
            return None

        by_column = {a.column_name or n: n for n, a in attrs.items() if a.kind == "column"}
        mapper_args = inherited("__mapper_args__")
        explicit = dict_value(mapper_args, "primary_key")
        if explicit is not None:
            names = [_key_attribute(e, attrs, by_column) for e in elements(explicit)]
            return _known(names), True
        ancestor = self.mapped_ancestor(qualname)
        if ancestor is not None and not is_true(dict_value(mapper_args, "concrete")):
            parent = self._draft(ancestor)
            return parent.primary_key, parent.proven
        table = self.body(qualname, style).dunders.get("__table__")
        if isinstance(table, ast.Call):
            constraints = table.args[2:]
        else:
            constraints = elements(inherited("__table_args__"))
        module = self.classes[qualname].module
        for element in constraints:
            call_name = self.resolver.call_name(module, element)
            if library_member(call_name) == "PrimaryKeyConstraint":
                assert isinstance(element, ast.Call)
                names = [_key_attribute(e, attrs, by_column) for e in element.args]
                return _known(names), True
        order = self._column_order(qualname, style, chain, attrs)
        key = [n for n in order if attrs[n].primary_key]
        homes = {owner[n] for n in key}
        mixed = style == SQLMODEL and len({attrs[n].sa_column for n in key}) > 1
        return tuple(key), len(key) <= 1 or (len(homes) == 1 and not mixed)

    def _column_order(
        self, qualname: str, style: str, chain: list[str], attrs: dict[str, Attr]
    ) -> list[str]:
        if style == SQLMODEL:
            # SQLModel sets every pydantic field (bases' first) on the class, then the
            # declarative scan merges that with the class's own annotations.
            fields: dict[str, None] = {}
            for cls in reversed(chain):
                body = self.body(cls, style)
                fields.update((n, None) for n in body.annotated if n in body.attrs)
            own = self.body(qualname, style).annotated
            names = merge_orders(list(fields), own)
        else:
            names = list(self.body(qualname, style).order)
            for cls in chain[1:]:
                if not self.is_mapped(cls):
                    names.extend(n for n in self.body(cls, style).order if n not in names)
        seen: dict[str, None] = {}
        for name in names:
            if name in attrs and attrs[name].kind == "column":
                seen.setdefault(name)
        return sorted(seen, key=lambda n: attrs[n].sort_order)


@dataclass
class _Draft:
    style: str
    columns: set[str] = field(default_factory=set)
    relationships: set[str] = field(default_factory=set)
    eager: set[str] = field(default_factory=set)
    collections: set[str] = field(default_factory=set)
    deferred: set[str] = field(default_factory=set)
    own_relationships: list[Attr] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    proven: bool = True
    keyed: dict[str, tuple[str, Attr]] = field(default_factory=dict)
    """Relationships whose direction only the foreign keys tell: name -> (module, attr)."""
    table: str | None = None
    references: frozenset[str] | None = frozenset()


class _BodyReader:
    def __init__(self, finder: ModelFinder, node: ClassNode, style: str) -> None:
        self.finder = finder
        self.module = node.module
        self.node = node.node
        self.style = style
        self.body = Body()
        self.assigned: list[str] = []

    def read(self) -> Body:
        assert self.node is not None
        for statement in self.node.body:
            self.statement(statement)
        body = self.body
        body.order = merge_orders(self.assigned, body.annotated)
        table = body.dunders.get("__table__")
        if isinstance(table, ast.Call):
            for column in table.args[2:]:
                attr = self.finder.classify(self.module, column)
                if attr is not None and attr.kind == "column" and attr.column_name:
                    attr.name = attr.column_name
                    body.attrs[attr.name] = attr
                    body.order.append(attr.name)
        return body

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            self.body.annotated.append(name)
            if node.value is not None:
                self.assigned.append(name)
            self.declare(name, node.value, node.annotation)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.assigned.append(target.id)
                    self.declare(target.id, node.value, None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.assigned.append(node.name)
            if self.style == DECLARATIVE and any(
                library_member(self.finder.resolver.expr(self.module, d)) in _DECLARED_ATTR
                for d in node.decorator_list
            ):
                self.declare(node.name, _returned(node), node.returns, declared_attr=True)
        elif isinstance(node, ast.ClassDef):
            self.assigned.append(node.name)

    def declare(
        self,
        name: str,
        value: ast.expr | None,
        annotation: ast.expr | None,
        declared_attr: bool = False,
    ) -> None:
        if name.startswith("__") and name.endswith("__"):
            self.body.dunders[name] = value
            return
        finder = self.finder
        attr = finder.classify(self.module, value)
        wrapper = self._annotation_wrapper(annotation)
        if wrapper == "ClassVar":
            return
        if attr is None:
            if self.style == SQLMODEL:
                if annotation is None or name.startswith("_") or name in _NOT_SQLMODEL_FIELDS:
                    return
                attr = Attr(name, "column")
            elif wrapper == "Mapped" and (value is None or declared_attr):
                attr = Attr(name, "column")
            elif wrapper in _RELATIONSHIP_ANNOTATIONS and value is None:
                attr = Attr(name, "relationship")
            else:
                return
        attr.name = name
        if attr.kind == "relationship" and attr.target is None and annotation is not None:
            attr.target = _annotation_target(finder.resolver, self.module, annotation)
        if attr.kind == "relationship" and attr.collection is None and annotation is not None:
            attr.collection = _annotation_collection(finder.resolver, self.module, annotation)
        self.body.attrs[name] = attr

    def _annotation_wrapper(self, annotation: ast.expr | None) -> str | None:
        node = parsed_string(annotation)
        if isinstance(node, ast.Subscript):
            node = node.value
        if node is None:
            return None
        qualname = self.finder.resolver.expr(self.module, node)
        return library_member(qualname) or typing_member(qualname)


def _annotation_target(
    resolver: Resolver, module: str, annotation: ast.expr
) -> ast.expr | str | None:
    """The class a relationship annotation names: `Mapped[list["Address"]]` -> "Address"."""
    node = parsed_string(annotation)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = _annotation_target(resolver, module, node.left)
        return left if left is not None else _annotation_target(resolver, module, node.right)
    if isinstance(node, ast.Subscript):
        wrapper, builtin = _subscript_head(resolver, module, node)
        if wrapper in ("Mapped", *_RELATIONSHIP_ANNOTATIONS, *_WRAPPER_TYPES) or builtin:
            inner = node.slice
            if isinstance(inner, ast.Tuple):
                elements = [e for e in inner.elts if not is_none(e)]
                if not elements:
                    return None
                inner = elements[-1] if wrapper in ("Dict", "Mapping", "dict") else elements[0]
            return _annotation_target(resolver, module, inner)
        return None
    if isinstance(node, (ast.Name, ast.Attribute)):
        return node
    return None


def _subscript_head(
    resolver: Resolver, module: str, node: ast.Subscript
) -> tuple[str | None, bool]:
    """What a subscripted annotation's head names: a SQLAlchemy or typing member
    (`Mapped`, `Optional`, `List`), and whether it is a builtin container (`list`)."""
    head = node.value
    qualname = resolver.expr(module, head)
    builtin = isinstance(head, ast.Name) and qualname is None and head.id in _BUILTIN_CONTAINERS
    return library_member(qualname) or typing_member(qualname), builtin


def _annotation_collection(resolver: Resolver, module: str, annotation: ast.expr) -> bool | None:
    """Does a relationship annotation declare a collection? `Mapped[list["Address"]]`,
    `list["Member"]`: yes; `Mapped["User"]`, `Optional[Team]`, `"Team" | None`, a dynamic or
    write-only relationship (`DynamicMapped[...]`, a query): no; anything unreadable: None."""
    node = parsed_string(annotation)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [side for side in (node.left, node.right) if not is_none(side)]
        answers = {_annotation_collection(resolver, module, side) for side in sides}
        return answers.pop() if len(answers) == 1 else None
    if isinstance(node, ast.Subscript):
        wrapper, builtin = _subscript_head(resolver, module, node)
        if builtin or wrapper in _WRAPPER_TYPES - {"Optional", "Union"}:
            return True
        if wrapper in _RELATIONSHIP_ANNOTATIONS:
            return False
        if wrapper in ("Mapped", "Optional", "Union"):
            inner = node.slice
            parts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            answers = {
                _annotation_collection(resolver, module, part)
                for part in parts
                if not is_none(part)
            }
            return answers.pop() if len(answers) == 1 else None
        return None
    if isinstance(node, (ast.Name, ast.Attribute)):
        return False
    return None


def _uselist(argument: Callable[[str], ast.expr | None]) -> bool | None:
    """A collection or not, from a relationship's own arguments (`argument(name)` reads one).
    A dynamic or write-only relationship is a query, never a collection loaded with its
    object."""
    lazy = argument("lazy")
    if isinstance(lazy, ast.Constant) and lazy.value in ("dynamic", "write_only"):
        return False
    uselist = argument("uselist")
    if isinstance(uselist, ast.Constant) and isinstance(uselist.value, bool):
        return uselist.value
    if argument("secondary") is not None or argument("collection_class") is not None:
        return True
    return None


def _own_join(argument: Callable[[str], ast.expr | None]) -> bool:
    return any(
        argument(name) is not None for name in ("primaryjoin", "foreign_keys", "remote_side")
    )


def _referenced_tables(keys: Sequence[ast.expr | None]) -> frozenset[str] | None:
    """The tables of foreign key targets given as `"table.column"` (or `"schema.table.column"`)
    strings; None when one is given some other way. Absent ones (None) name nothing."""
    tables = set()
    for key in keys:
        if key is None:
            continue
        if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
            return None
        parts = key.value.split(".")
        if len(parts) < 2:
            return None
        tables.add(parts[-2])
    return frozenset(tables)


def _one_to_many(source: _Draft, target: _Draft) -> bool:
    """Does a plain `relationship()` from `source` to `target` hold a collection? Yes when
    only the target's table has a foreign key to the source's (one-to-many); a foreign key
    the other way (many-to-one), both, neither, or a table not known: not proven."""
    if source is target or source.table is None or target.table is None:
        return False
    if source.references is None or target.references is None:
        return False
    return source.table in target.references and target.table not in source.references


def _returned(function: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.expr | None:
    for node in statements(function.body):
        if isinstance(node, ast.Return):
            return node.value
    return None


def _base_exprs(node: ast.ClassDef) -> Iterator[ast.expr]:
    for base in node.bases:
        # `class User(Base, Generic[T])`, `class Repo(Model[int])`: the generic's origin.
        yield base.value if isinstance(base, ast.Subscript) else base


def _int(node: ast.expr | None) -> int:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_int(node.operand)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return 0


def _first_string(call: ast.Call) -> str | None:
    return _string(call.args[0]) if call.args else None


def _string(node: ast.expr | None) -> str | None:
    """The value of a string literal; None for any other expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _backref(finder: ModelFinder, module: str, call: ast.Call) -> str | None:
    return _backref_name(finder, module, keyword(call, "backref"))


def _backref_name(finder: ModelFinder, module: str, node: ast.expr | None) -> str | None:
    if (
        isinstance(node, ast.Call)
        and library_member(finder.resolver.call_name(module, node)) == "backref"
    ):
        node = node.args[0] if node.args else None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _key_attribute(node: ast.expr, attrs: dict[str, Attr], by_column: dict[str, str]) -> str | None:
    """The attribute a key column is given as: a column name string, a class-body name, or
    `__table__.c.<name>`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return by_column.get(node.value) or (node.value if node.value in attrs else None)
    if isinstance(node, ast.Name) and node.id in attrs:
        return node.id
    if isinstance(node, ast.Attribute):
        return by_column.get(node.attr)
    return None


def _known(names: list[str | None]) -> tuple[str, ...]:
    """All the key's attributes, or nothing: a partial key would be a wrong key."""
    return () if None in names else tuple(n for n in names if n is not None)


# Loader strategies that load a relationship together with its object (`lazy=False` is the
# old spelling of "joined").
_EAGER_STRATEGIES = frozenset({"joined", "selectin", "subquery", "immediate"})


def _eager(lazy: ast.expr | None) -> bool:
    if not isinstance(lazy, ast.Constant):
        return False
    return lazy.value is False or lazy.value in _EAGER_STRATEGIES
