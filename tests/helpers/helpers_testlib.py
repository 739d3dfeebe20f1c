"""Models and types shared by the runtime-helper tests (imported by conftest and tests)."""

from dataclasses import dataclass
from types import ModuleType
from typing import Any

import sqlmodel
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declarative_base,
    mapped_column,
    relationship,
)
from sqlalchemy.pool import StaticPool

# --- models: the same shape in three styles. Member.email is stored in a column named
# email_address, so attribute keys and column names differ.


class SmTeam(sqlmodel.SQLModel, table=True):
    __tablename__ = "helpers_sm_team"
    id: int | None = sqlmodel.Field(default=None, primary_key=True)
    name: str = sqlmodel.Field(max_length=50, unique=True)
    motto: str | None = None
    members: list["SmMember"] = sqlmodel.Relationship(back_populates="team")


class SmMember(sqlmodel.SQLModel, table=True):
    __tablename__ = "helpers_sm_member"
    id: int | None = sqlmodel.Field(default=None, primary_key=True)
    email: str = sqlmodel.Field(
        sa_column=Column("email_address", String(100), unique=True, nullable=False)
    )
    bio: str | None = None
    team_id: int | None = sqlmodel.Field(default=None, foreign_key="helpers_sm_team.id")
    team: SmTeam | None = sqlmodel.Relationship(back_populates="members")


class D2Base(DeclarativeBase):
    pass


class D2Team(D2Base):
    __tablename__ = "helpers_d2_team"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    motto: Mapped[str | None] = mapped_column(String(100))
    members: Mapped[list["D2Member"]] = relationship(back_populates="team")


class D2Member(D2Base):
    __tablename__ = "helpers_d2_member"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column("email_address", String(100), unique=True)
    bio: Mapped[str | None] = mapped_column(Text)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("helpers_d2_team.id"))
    team: Mapped[D2Team | None] = relationship(back_populates="members")


LegacyBase: Any = declarative_base()


class LgTeam(LegacyBase):
    __tablename__ = "helpers_lg_team"
    id = Column(Integer, primary_key=True)
    name = Column(String(50), unique=True, nullable=False)
    motto = Column(String(100))
    members = relationship("LgMember", back_populates="team")


class LgMember(LegacyBase):
    __tablename__ = "helpers_lg_member"
    id = Column(Integer, primary_key=True)
    email = Column("email_address", String(100), unique=True, nullable=False)
    bio = Column(Text)
    team_id = Column(Integer, ForeignKey("helpers_lg_team.id"))
    team = relationship("LgTeam", back_populates="members")


@dataclass(frozen=True)
class Style:
    name: str
    Team: Any
    Member: Any
    metadata: MetaData
    session_cls: type[Session]  # the Session class a project of this style would use

    @property
    def tables(self) -> list[Any]:
        return [self.Team.__table__, self.Member.__table__]


STYLES = {
    "sqlmodel": Style("sqlmodel", SmTeam, SmMember, sqlmodel.SQLModel.metadata, sqlmodel.Session),
    "declarative": Style("declarative", D2Team, D2Member, D2Base.metadata, Session),
    "legacy": Style("legacy", LgTeam, LgMember, LegacyBase.metadata, Session),
}


@dataclass(frozen=True)
class Impl:
    name: str
    sync: ModuleType
    aio: ModuleType


@dataclass
class Database:
    name: str
    engine: Engine
    async_url: str | None  # None: each async test builds its own in-memory database
    connect_args: dict[str, Any]

    @property
    def shared_between_connections(self) -> bool:
        return self.name != "sqlite-memory"

    def make_async_engine(self) -> AsyncEngine:
        if self.async_url is None:
            return create_async_engine(
                "sqlite+aiosqlite://", poolclass=StaticPool, connect_args=self.connect_args
            )
        return create_async_engine(self.async_url, connect_args=self.connect_args)
