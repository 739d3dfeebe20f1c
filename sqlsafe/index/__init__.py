"""The project index: what sqlsafe knows about the whole project before it checks a file.

Built in a first pass over the files of the run with the stdlib `ast`: which classes are
ORM models (and their primary keys in mapper order, columns, relationships and deferred
columns), which callables make sessions (and whether they set `expire_on_commit=False`),
and where every top-level name of every module really comes from. Rules query it with the
qualified names their file's imports give; the engine adds `fingerprint_of` the modules a
file depends on to that file's cache key.
"""

from sqlsafe.index.modules import module_name
from sqlsafe.index.project import ProjectIndex, build_index
from sqlsafe.index.types import ModelInfo, SessionFactory

__all__ = ["ModelInfo", "ProjectIndex", "SessionFactory", "build_index", "module_name"]
