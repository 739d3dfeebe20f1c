from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel, create_engine

# One in-memory database shared by every session of the process.
engine = create_engine(
    "sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool
)


def create_tables() -> None:
    from examples.otp_app import models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine)
