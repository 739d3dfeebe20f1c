from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.index.conftest import Build

SQLMODEL_APP = {
    "app/__init__.py": "",
    "app/models/__init__.py": """
        from .user import User
        from .team import *
        from . import team as team_module
    """,
    "app/models/base.py": """
        import sqlmodel as sm
        from sqlmodel import Field

        class IdBase(sm.SQLModel):
            id: int | None = Field(default=None, primary_key=True)

        class UserBase(sm.SQLModel):
            name: str
            secret: str = Field(default="", exclude=True)
            _private: int = 0
            model_config = {"validate_assignment": True}
    """,
    "app/models/user.py": """
        from typing import TYPE_CHECKING, ClassVar, Optional
        from sqlmodel import Field, Relationship
        from .base import IdBase, UserBase

        if TYPE_CHECKING:
            from .team import Team

        class User(UserBase, IdBase, table=True):
            team_id: int | None = Field(default=None, foreign_key="team.id")
            team: Optional["Team"] = Relationship(back_populates="users")
            registry_name: ClassVar[str] = "users"

        class UserRead(UserBase):
            id: int
    """,
    "app/models/team.py": """
        from sqlmodel import Column, Field, Integer, Relationship, SQLModel

        class Team(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            users: list["User"] = Relationship(back_populates="team")

        class Membership(SQLModel, table=True):
            team_id: int = Field(foreign_key="team.id", primary_key=True)
            user_id: int = Field(foreign_key="user.id", primary_key=True)
            role: str = "member"

        class Ticket(SQLModel, table=True):
            id: int = Field(default=0)
            code: str = Field(sa_column=Column("ticket_code", Integer, primary_key=True))
    """,
    # A second `User` in another module must not collide with app.models.user.User (in its
    # own registry: two `User`s in SQLModel's one registry make `list["User"]` ambiguous).
    "billing/models.py": """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "billing_user"
            account: Mapped[str] = mapped_column(primary_key=True)
            id: Mapped[int]
    """,
}


def test_sqlmodel_tables_across_modules(build: Build) -> None:
    index = build(SQLMODEL_APP)
    user = index.model("app.models.user.User")
    assert user is not None
    assert user.style == "sqlmodel"
    assert user.primary_key == ("id",)
    assert user.columns == {"id", "name", "secret", "team_id"}
    assert user.relationships == {"team"}
    assert user.deferred == frozenset()


def test_same_class_name_in_two_modules(build: Build) -> None:
    index = build(SQLMODEL_APP)
    billing = index.model("billing.models.User")
    assert billing is not None and billing.primary_key == ("account",)
    assert billing.columns == {"account", "id"}
    assert index.model("app.models.User").primary_key == ("id",)  # type: ignore[union-attr]
    assert index.model_names >= {"User", "Team", "Membership", "Ticket"}


def test_re_exports_resolve_to_the_definition(build: Build) -> None:
    index = build(SQLMODEL_APP)
    assert index.model("app.models.User") == index.model("app.models.user.User")
    assert index.model("app.models.Team") == index.model("app.models.team.Team")  # star import
    assert index.model("app.models.team_module.Membership") is not None
    assert index.resolve("app.models.User") == "app.models.user.User"
    assert index.alias("app.models.User") == "app.models.user.User"
    assert index.alias("app.models.user.User") is None


def test_non_table_classes_are_not_models(build: Build) -> None:
    index = build(SQLMODEL_APP)
    for name in ("app.models.base.IdBase", "app.models.base.UserBase", "app.models.user.UserRead"):
        assert index.model(name) is None


def test_subclass_of_a_table_model_is_not_a_model(build: Build) -> None:
    # SQLModel skips the declarative setup when a base is a table model (`base_is_table` in
    # sqlmodel/main.py): `inspect(Admin)` is None, `session.add(Admin())` raises
    # AttributeError, `select(Admin)` raises ArgumentError (measured on 0.0.50).
    index = build(
        {
            "t.py": """
                from sqlmodel import Field, SQLModel

                class Team(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)

                class Admin(Team):
                    pass

                class Owner(Team, table=True):
                    pass
            """
        }
    )
    assert index.model("t.Team") is not None
    assert index.model("t.Admin") is None
    assert index.model("t.Owner") is None


def test_composite_key_in_mapper_order(build: Build) -> None:
    membership = build(SQLMODEL_APP).model("app.models.Membership")
    assert membership is not None
    assert membership.primary_key == ("team_id", "user_id")
    assert membership.primary_key_order_proven


def test_id_that_is_not_the_key(build: Build) -> None:
    index = build(SQLMODEL_APP)
    ticket = index.model("app.models.team.Ticket")
    assert ticket is not None and ticket.primary_key == ("code",)
    assert "id" in ticket.columns
    assert index.model("billing.models.User").primary_key == ("account",)  # type: ignore[union-attr]


DECLARATIVE_2 = {
    "shop/__init__.py": "",
    "shop/base.py": """
        from sqlalchemy.orm import DeclarativeBase as Base_, Mapped, mapped_column

        class Base(Base_):
            pass

        class Timestamped:
            created: Mapped[int] = mapped_column(default=0)

        class Abstract(Base):
            __abstract__ = True
            revision: Mapped[int] = mapped_column(default=1)
    """,
    "shop/catalog.py": """
        from typing import List, Optional
        import sqlalchemy as sa
        from sqlalchemy import orm
        from sqlalchemy.orm import Mapped, mapped_column, relationship
        from shop.base import Abstract, Base, Timestamped

        class Product(Timestamped, Base):
            __tablename__ = "product"
            sku: Mapped[str] = mapped_column(primary_key=True)
            id: Mapped[int]
            notes: Mapped[Optional[str]] = mapped_column(deferred=True)
            photo = orm.deferred(sa.Column(sa.LargeBinary))
            prices: Mapped[List["Price"]] = relationship(back_populates="product")

        class Price(Abstract):
            __tablename__ = "price"
            __table_args__ = (sa.PrimaryKeyConstraint("currency", "product_sku"), {})
            product_sku: Mapped[str] = mapped_column(sa.ForeignKey("product.sku"))
            currency: Mapped[str]
            amount: Mapped[int]
            product: Mapped["Product"] = relationship(back_populates="prices")

        class Region(Base):
            __tablename__ = "region"
            country: Mapped[str] = mapped_column(primary_key=True)
            code: Mapped[str] = mapped_column("region_code", primary_key=True)

        class Item(Base):
            __tablename__ = "item"
            kind: Mapped[str]
            item_id: Mapped[int] = mapped_column(primary_key=True)
            __mapper_args__ = {"polymorphic_on": "kind", "polymorphic_identity": "item"}

        class Book(Item):
            __tablename__ = "book"
            book_id: Mapped[int] = mapped_column(sa.ForeignKey("item.item_id"), primary_key=True)
            isbn: Mapped[str]
            __mapper_args__ = {"polymorphic_identity": "book"}

        class Gadget(Item):
            __mapper_args__ = {"polymorphic_identity": "gadget"}
    """,
}


def test_declarative_2_models(build: Build) -> None:
    index = build(DECLARATIVE_2)
    product = index.model("shop.catalog.Product")
    assert product is not None
    assert product.style == "declarative"
    assert product.primary_key == ("sku",)
    assert product.columns == {"sku", "id", "notes", "photo", "created"}
    assert product.deferred == {"notes", "photo"}
    assert product.relationships == {"prices"}
    assert index.model("shop.base.Base") is None
    assert index.model("shop.base.Abstract") is None
    assert index.model("shop.base.Timestamped") is None


def test_declarative_table_args_key_and_abstract_base_columns(build: Build) -> None:
    price = build(DECLARATIVE_2).model("shop.catalog.Price")
    assert price is not None
    assert price.primary_key == ("currency", "product_sku")
    assert price.columns == {"product_sku", "currency", "amount", "revision"}


def test_declarative_composite_key_with_column_names(build: Build) -> None:
    region = build(DECLARATIVE_2).model("shop.catalog.Region")
    assert region is not None and region.primary_key == ("country", "code")


def test_inheritance_uses_the_base_mappers_key(build: Build) -> None:
    index = build(DECLARATIVE_2)
    book, gadget = index.model("shop.catalog.Book"), index.model("shop.catalog.Gadget")
    assert book is not None and gadget is not None
    assert book.primary_key == ("item_id",)
    assert gadget.primary_key == ("item_id",)
    assert book.columns == {"kind", "item_id", "book_id", "isbn"}


LEGACY = {
    "legacy/__init__.py": "",
    "legacy/db.py": """
        import sqlalchemy as sa
        from sqlalchemy.ext.declarative import declarative_base
        from sqlalchemy.orm import registry

        Base = declarative_base()
        mapper_registry = registry()
        OtherBase = registry().generate_base()
    """,
    "legacy/models.py": """
        from sqlalchemy import Column, ForeignKey, Integer, PrimaryKeyConstraint, String, Table
        from sqlalchemy.orm import backref, relationship
        from legacy.db import Base, OtherBase, mapper_registry

        class Account(Base):
            __tablename__ = "account"
            id = Column(Integer)
            login = Column(String, primary_key=True)
            addresses = relationship("Address", backref=backref("account", lazy="joined"))

        class Address(Base):
            __tablename__ = "address"
            id = Column(Integer, primary_key=True)
            login = Column(ForeignKey("account.login"))

        class Tag(OtherBase):
            __table__ = Table(
                "tag",
                OtherBase.metadata,
                Column("name", String, primary_key=True),
                Column("address_id", Integer),
            )

        class Stamp(OtherBase):
            __table__ = Table(
                "stamp",
                OtherBase.metadata,
                Column("kind", String),
                Column("serial", Integer),
                PrimaryKeyConstraint("serial", "kind"),
            )

        @mapper_registry.mapped
        class Note:
            __tablename__ = "note"
            author = Column(Integer, primary_key=True)
            seq = Column(Integer, primary_key=True)
            text = Column(String)

        class NotMapped:
            __tablename__ = "nope"
            id = Column(Integer, primary_key=True)
    """,
}


def test_legacy_declarative_models(build: Build) -> None:
    index = build(LEGACY)
    account = index.model("legacy.models.Account")
    assert account is not None
    assert account.primary_key == ("login",)
    assert account.relationships == {"addresses"}
    address = index.model("legacy.models.Address")
    assert address is not None
    assert address.relationships == {"account"}  # a backref from Account
    tag = index.model("legacy.models.Tag")
    assert tag is not None
    assert tag.primary_key == ("name",)
    assert tag.columns == {"name", "address_id"}
    stamp = index.model("legacy.models.Stamp")
    assert stamp is not None and stamp.primary_key == ("serial", "kind")
    note = index.model("legacy.models.Note")
    assert note is not None and note.primary_key == ("author", "seq")
    assert index.model("legacy.models.NotMapped") is None


def test_registry_from_a_module_indexed_later(build: Build) -> None:
    index = build(
        {
            "a_models.py": """
                from sqlalchemy import Column, Integer
                from z_db import reg, ZBase

                @reg.mapped
                class Note:
                    __tablename__ = "note"
                    id = Column(Integer, primary_key=True)

                class Page(ZBase):
                    __tablename__ = "page"
                    id = Column(Integer, primary_key=True)
            """,
            "z_db.py": """
                from sqlalchemy.orm import registry
                reg = registry()
                ZBase = reg.generate_base()
            """,
        }
    )
    assert index.model("a_models.Note") is not None
    assert index.model("a_models.Page") is not None


def test_key_order_across_classes_is_not_proven(build: Build) -> None:
    # SQLAlchemy 1.4 puts mixin columns first (creation order), 2.x puts them last.
    index = build(
        {
            "m.py": """
                from sqlalchemy import Column, Integer
                from sqlalchemy.orm import DeclarativeBase

                class Base(DeclarativeBase):
                    pass

                class Keyed:
                    tenant = Column(Integer, primary_key=True)

                class Doc(Keyed, Base):
                    __tablename__ = "doc"
                    id = Column(Integer, primary_key=True)
            """
        }
    )
    doc = index.model("m.Doc")
    assert doc is not None
    assert doc.primary_key == ("id", "tenant")
    assert not doc.primary_key_order_proven


def test_odd_class_statements_do_not_crash(build: Build) -> None:
    index = build(
        {
            "odd.py": """
                from typing import Generic, TypeVar
                from sqlmodel import SQLModel, Field
                T = TypeVar("T")

                class Loop(Loop2):
                    pass

                class Loop2(Loop):
                    pass

                class G(SQLModel, Generic[T], table=True):
                    id: int = Field(primary_key=True)
                    x, y = 1, 2
                    def method(self): ...
                    class Config:
                        pass

                class NoKey(SQLModel, table=True):
                    name: str

                Alias = Alias
            """
        }
    )
    g = index.model("odd.G")
    assert g is not None and g.primary_key == ("id",)
    no_key = index.model("odd.NoKey")
    assert no_key is not None and no_key.primary_key == ()
    assert index.model("odd.Loop") is None


# Mixin attributes made by `declared_attr` methods: the index reads what the first `return`
# of a decorated method gives, and nothing of an undecorated one.
DECLARED_ATTR = {
    "mixins/__init__.py": "",
    "mixins/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
        from sqlalchemy.orm import relationship

        class Base(DeclarativeBase):
            pass

        class Owner(Base):
            __tablename__ = "owner"
            id: Mapped[int] = mapped_column(primary_key=True)

        class Owned:
            @declared_attr
            def owner_id(cls) -> Mapped[int]:
                'The key of the owner.'
                for base in cls.__mro__:
                    assert base is not None
                return mapped_column(ForeignKey("owner.id"))

            @declared_attr
            def owner(cls) -> Mapped["Owner"]:
                return relationship("Owner")

            def helper(self) -> Mapped[int]:
                return mapped_column(deferred=True)

        class Pet(Owned, Base):
            __tablename__ = "pet"
            id: Mapped[int] = mapped_column(primary_key=True)
    """,
}


_MAPPER_FACTS = """
import importlib, json, sys, warnings
from sqlalchemy import inspect
from sqlalchemy.orm import configure_mappers
warnings.simplefilter("ignore")
modules = [importlib.import_module(name) for name in sys.argv[1:]]
configure_mappers()
facts = {}
for module in modules:
    for name, value in vars(module).items():
        if isinstance(value, type) and value.__module__ == module.__name__:
            mapper = inspect(value, raiseerr=False)
            if mapper is None:
                continue
            facts[f"{module.__name__}.{name}"] = {
                "primary_key": [mapper.get_property_by_column(c).key for c in mapper.primary_key],
                "columns": sorted(p.key for p in mapper.column_attrs),
                "relationships": sorted(r.key for r in mapper.relationships),
                "deferred": sorted(p.key for p in mapper.column_attrs if p.deferred),
            }
print(json.dumps(facts))
"""


@pytest.mark.parametrize(
    ("files", "modules"),
    [
        pytest.param(
            SQLMODEL_APP, ["app.models.user", "app.models.team", "billing.models"], id="sqlmodel"
        ),
        pytest.param(DECLARATIVE_2, ["shop.base", "shop.catalog"], id="declarative-2.0"),
        pytest.param(LEGACY, ["legacy.db", "legacy.models"], id="declarative-1.4-style"),
        pytest.param(DECLARED_ATTR, ["mixins.models"], id="declared-attr"),
    ],
)
def test_fixtures_match_the_mapper(
    build: Build, tmp_path: Path, files: dict[str, str], modules: list[str]
) -> None:
    index = build(files)
    run = subprocess.run(
        [sys.executable, "-c", _MAPPER_FACTS, *modules],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(run.stdout)
    found = {
        q: {
            "primary_key": list(m.primary_key),
            "columns": sorted(m.columns),
            "relationships": sorted(m.relationships),
            "deferred": sorted(m.deferred),
        }
        for q, m in index.models.items()
    }
    assert found == expected
