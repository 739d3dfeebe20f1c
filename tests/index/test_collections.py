"""Which relationships the index knows to be collections, against SQLAlchemy's mapper
(`RelationshipProperty.uselist`) for the same classes, imported in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.index.conftest import Build

MODELS = """
from typing import List, Optional

from sqlalchemy import Column, ForeignKey, Integer, Table
from sqlalchemy.orm import DeclarativeBase, DynamicMapped, Mapped, mapped_column, relationship
from sqlmodel import Field, Relationship, SQLModel


class Squad(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    members: list["Member"] = Relationship(back_populates="squad")
    leader: Optional["Member"] = Relationship(
        sa_relationship_kwargs={"uselist": False, "viewonly": True}
    )


class Member(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    squad_id: Optional[int] = Field(default=None, foreign_key="squad.id")
    squad: Optional[Squad] = Relationship(back_populates="members")
    other: Squad | None = Relationship(sa_relationship_kwargs={"viewonly": True})


class Base(DeclarativeBase):
    pass


tagging = Table(
    "tagging",
    Base.metadata,
    Column("parent_id", ForeignKey("parent.id"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id"), primary_key=True),
)


class Parent(Base):
    __tablename__ = "parent"
    id: Mapped[int] = mapped_column(primary_key=True)
    children: Mapped[List["Child"]] = relationship(back_populates="parent")
    child_set: Mapped[set["Child"]] = relationship(viewonly=True)
    maybe: Mapped[Optional["Child"]] = relationship(viewonly=True)
    only = relationship("Child", uselist=False, viewonly=True)
    unannotated = relationship("Child", viewonly=True)
    tags = relationship("Tag", secondary=tagging)
    dynamic: DynamicMapped["Child"] = relationship(viewonly=True)


class Child(Base):
    __tablename__ = "child"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))
    parent: Mapped["Parent"] = relationship(back_populates="children")


class Tag(Base):
    __tablename__ = "tag"
    id = Column(Integer, primary_key=True)
"""

MAPPER = """
import json, sys
from sqlalchemy import inspect
from sqlalchemy.orm import configure_mappers
sys.path.insert(0, sys.argv[1])
import app.models as models
configure_mappers()
print(json.dumps({
    name: sorted(r.key for r in inspect(getattr(models, name)).relationships if r.uselist)
    for name in ("Squad", "Member", "Parent", "Child", "Tag")
}))
"""


def test_collections_agree_with_the_mapper(build: Build, tmp_path: Path) -> None:
    index = build({"app/__init__.py": "", "app/models.py": MODELS})
    mapper = subprocess.run(
        [sys.executable, "-c", MAPPER, str(tmp_path)], capture_output=True, text=True
    )
    assert mapper.returncode == 0, mapper.stderr
    uselist = json.loads(mapper.stdout)
    known = {name: sorted(index.model(f"app.models.{name}").collections) for name in uselist}
    # What foreign keys alone decide (an unannotated `relationship()`) and dynamic
    # relationships (not loadable by a joined load) are left out; nothing else.
    assert known == {
        **uselist,
        "Parent": sorted(set(uselist["Parent"]) - {"unannotated", "dynamic"}),
    }
    assert {"unannotated", "dynamic", "children", "tags"} <= set(uselist["Parent"])
