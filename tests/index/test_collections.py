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

from sqlalchemy import Column, ForeignKey, ForeignKeyConstraint, Integer, Table
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
    dynamic_unannotated = relationship("Child", lazy="dynamic", viewonly=True)
    joined_by_hand = relationship(
        "Child", primaryjoin="Parent.id == foreign(Child.parent_id)", viewonly=True
    )


class Child(Base):
    __tablename__ = "child"
    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("parent.id"))
    parent: Mapped["Parent"] = relationship(back_populates="children")
    owner = relationship("Parent", viewonly=True)
    tagged = relationship("Tag", viewonly=True)


class Legacy(Base):
    __table__ = Table(
        "legacy",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("child_id", ForeignKey("child.id")),
    )
    child = relationship("Child")


class Tag(Base):
    __tablename__ = "tag"
    id = Column(Integer, primary_key=True)
    child_id = Column(Integer, ForeignKey("child.id"))
    children = relationship("Child", viewonly=True)
    notes = relationship("Note", viewonly=True)


class Note(Base):
    __tablename__ = "note"
    id = Column(Integer, primary_key=True)
    tag_id = Column(Integer)
    tag = relationship("Tag", viewonly=True)
    __table_args__ = (ForeignKeyConstraint(columns=(tag_id,), refcolumns=["tag.id"]),)
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
    for name in ("Squad", "Member", "Parent", "Child", "Tag", "Legacy", "Note")
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
    # Dynamic relationships are queries, not collections a joined load can fill; a join
    # written by hand may run either way. Everything else agrees with the mapper.
    assert known == {
        **uselist,
        "Parent": sorted(
            set(uselist["Parent"]) - {"dynamic", "dynamic_unannotated", "joined_by_hand"}
        ),
    }
    assert {"unannotated", "children", "tags", "joined_by_hand"} <= set(uselist["Parent"])
    assert (uselist["Child"], uselist["Tag"], uselist["Note"]) == (["tagged"], ["notes"], [])
