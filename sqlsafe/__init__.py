"""sqlsafe: find and fix unsafe SQLModel / SQLAlchemy session patterns."""

__version__ = "0.1.0"
