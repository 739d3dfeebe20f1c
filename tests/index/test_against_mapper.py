"""The index against the real thing: generated model modules are indexed, then imported, and
every model's key (in mapper order), columns and deferred columns are compared with what
SQLAlchemy's mapper says. The generator mixes the declaration styles whose ordering
differs (annotation-only `Mapped[...]`, `Column` assignments, `mapped_column`, mixins,
`sort_order`, `PrimaryKeyConstraint`, SQLModel `sa_column=` fields, overridden base fields)."""

from __future__ import annotations

import importlib.util
import random
import sys
import warnings
from pathlib import Path

import pytest
from sqlalchemy import inspect

from sqlsafe.index import build_index

CASES = 150


class _Case:
    def __init__(self, rng: random.Random, tag: str) -> None:
        self.rng = rng
        self.tag = tag
        self.lines: list[str] = []
        self.counter = 0

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)


def _declarative_column(case: _Case, pk: bool, mixin: bool = False) -> tuple[str, str, str]:
    """(attribute, column name, source line)."""
    name = case.name("c")
    styles = ["mapped", "column", "named", "sorted"]
    if not pk:
        # A mixin may not carry a mapper property such as deferred() (InvalidRequestError).
        styles += ["annotation", "mapped_deferred"] + ([] if mixin else ["deferred"])
    style = case.rng.choice(styles)
    if style == "mapped":
        return name, name, f"    {name}: Mapped[int] = mapped_column(primary_key={pk})"
    if style == "column":
        return name, name, f"    {name} = Column(Integer, primary_key={pk})"
    if style == "named":
        line = f'    {name}: Mapped[int] = mapped_column("{name}_db", primary_key={pk})'
        return name, f"{name}_db", line
    if style == "sorted":
        order = case.rng.randint(-2, 2)
        line = f"    {name}: Mapped[int] = mapped_column(primary_key={pk}, sort_order={order})"
        return name, name, line
    if style == "annotation":
        return name, name, f"    {name}: Mapped[int | None]"
    if style == "deferred":
        return name, name, f"    {name} = deferred(Column(Integer))"
    return name, name, f"    {name}: Mapped[int | None] = mapped_column(deferred=True)"


def _declarative(case: _Case) -> str:
    rng = case.rng
    case.emit(
        "from sqlalchemy import Column, ForeignKey, Integer, PrimaryKeyConstraint",
        "from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column",
        "",
        "class Base(DeclarativeBase):",
        "    pass",
    )
    columns: list[tuple[str, str, bool]] = []
    bases = ["Base"]
    if rng.random() < 0.5:
        mixin = case.name("Mixin")
        case.emit(f"class {mixin}:")
        for _ in range(rng.randint(1, 2)):
            pk = rng.random() < 0.5
            attribute, column, line = _declarative_column(case, pk, mixin=True)
            case.emit(line)
            columns.append((attribute, column, pk))
        bases.insert(0, mixin)
    model = case.name("Model")
    case.emit(f"class {model}({', '.join(bases)}):", f'    __tablename__ = "{case.tag}_{model}"')
    for _ in range(rng.randint(1, 4)):
        pk = rng.random() < 0.5
        attribute, column, line = _declarative_column(case, pk)
        case.emit(line)
        columns.append((attribute, column, pk))
    keys = [c for c in columns if c[2]]
    if not keys or rng.random() < 0.2:
        chosen = rng.sample(columns, rng.randint(1, len(columns)))
        names = ", ".join(f'"{column}"' for _, column, _ in chosen)
        case.emit(f"    __table_args__ = (PrimaryKeyConstraint({names}),)")
        keys = chosen
    if len(keys) == 1 and rng.random() < 0.5:
        child = case.name("Child")
        parent_key = keys[0][1]
        case.emit(
            f"class {child}({model}):",
            f'    __tablename__ = "{case.tag}_{child}"',
            f"    own_id: Mapped[int] = mapped_column(ForeignKey("
            f'"{case.tag}_{model}.{parent_key}"), primary_key=True)',
        )
    return "\n".join(case.lines) + "\n"


def _sqlmodel_field(case: _Case, pk: bool, name: str | None = None) -> str:
    name = name or case.name("f")
    styles = ["field", "optional", "sa_column"] + ([] if pk else ["plain", "default"])
    style = case.rng.choice(styles)
    if style == "field":
        return f"    {name}: int = Field(primary_key={pk})"
    if style == "optional":
        return f"    {name}: int | None = Field(default=None, primary_key={pk})"
    if style == "sa_column":
        return f"    {name}: int = Field(sa_column=Column(Integer, primary_key={pk}))"
    if style == "plain":
        return f"    {name}: int"
    return f"    {name}: int | None = None"


def _sqlmodel(case: _Case) -> str:
    rng = case.rng
    case.emit("from sqlmodel import Column, Field, Integer, SQLModel", "")
    bases = ["SQLModel"]
    base_fields: list[str] = []
    if rng.random() < 0.6:
        base = case.name("Base")
        case.emit(f"class {base}(SQLModel):")
        for _ in range(rng.randint(1, 2)):
            name = case.name("b")
            case.emit(_sqlmodel_field(case, rng.random() < 0.5, name))
            base_fields.append(name)
        bases = [base]
    model = case.name("Model")
    case.emit(
        f"class {model}({bases[0]}, table=True):", f'    __tablename__ = "{case.tag}_{model}"'
    )
    has_key = False
    for _ in range(rng.randint(1, 3)):
        pk = rng.random() < 0.5
        has_key |= pk
        case.emit(_sqlmodel_field(case, pk))
    if base_fields and rng.random() < 0.4:
        case.emit(_sqlmodel_field(case, True, rng.choice(base_fields)))
        has_key = True
    if not has_key:
        case.emit(_sqlmodel_field(case, True))
    return "\n".join(case.lines) + "\n"


def _compare(tmp_path: Path, tag: str, source: str) -> None:
    package = tmp_path / tag
    package.mkdir()
    path = package / "models.py"
    path.write_text(source)
    index = build_index([path], [tmp_path])

    spec = importlib.util.spec_from_file_location(f"{tag}.models", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]

    mapped = {}
    for name, value in vars(module).items():
        if isinstance(value, type) and value.__module__ == spec.name:
            mapper = inspect(value, raiseerr=False)
            if mapper is not None:
                mapped[f"{tag}.models.{name}"] = mapper
    assert set(index.models) == set(mapped), source
    for qualname, mapper in mapped.items():
        info = index.models[qualname]
        key = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
        if info.primary_key_order_proven or len(key) < 2:
            assert list(info.primary_key) == key, source
        else:
            assert sorted(info.primary_key) == sorted(key), source
        assert info.columns == {p.key for p in mapper.column_attrs}, source
        assert info.deferred == {p.key for p in mapper.column_attrs if p.deferred}, source


@pytest.mark.parametrize("seed", range(CASES))
def test_declarative_models_match_the_mapper(tmp_path: Path, seed: int) -> None:
    tag = f"decl{seed}"
    _compare(tmp_path, tag, _declarative(_Case(random.Random(seed), tag)))


@pytest.mark.parametrize("seed", range(CASES))
def test_sqlmodel_models_match_the_mapper(tmp_path: Path, seed: int) -> None:
    tag = f"sqlm{seed}"
    _compare(tmp_path, tag, _sqlmodel(_Case(random.Random(seed), tag)))
