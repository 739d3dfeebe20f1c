"""The project index: built once per run from every file, then queried by rules.

Nothing of the syntax trees survives the build: the index keeps resolved facts only (models,
factories, aliases, and where each top-level name of each module really comes from), so it
is small and cheap to hand to worker processes.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from sqlsafe.index.models import ModelFinder
from sqlsafe.index.modules import ModuleScope, located_import, module_name, parse_scope
from sqlsafe.index.resolver import Resolver
from sqlsafe.index.sessions import SessionFinder, library_session
from sqlsafe.index.syntax import guarded
from sqlsafe.index.types import ModelInfo, SessionFactory

# Part of every fingerprint: a change to what the index records invalidates old caches.
INDEX_FORMAT = "1"
_ABSENT = "-"
_MAX_HOPS = 32


class ProjectIndex:
    """What sqlsafe knows about the project beyond one file.

    Every query takes a qualified name as a file's import table spells it
    (`app.models.User` for `from app.models import User`) and follows re-exports and
    aliases to the definition, so the caller never needs to know where a name is defined.
    """

    def __init__(
        self,
        *,
        modules: Mapping[str, Path],
        models: Mapping[str, ModelInfo],
        factories: Mapping[str, SessionFactory],
        aliases: Mapping[str, str],
        links: Mapping[str, str],
        session_bases: Mapping[str, str],
        contributions: Mapping[str, str],
        dependencies: Mapping[str, frozenset[str]],
        import_roots: Mapping[str, str],
    ) -> None:
        self.modules = dict(modules)
        self.models = dict(models)
        self.factories = dict(factories)
        self._aliases = dict(aliases)
        self._links = dict(links)
        self._session_bases = dict(session_bases)
        self._contributions = dict(contributions)
        self._dependencies = dict(dependencies)
        self._import_roots = dict(import_roots)
        self.model_names = frozenset(q.rpartition(".")[2] for q in self.models)
        """Plain class names of all models, for a textual pre-filter."""
        self.factory_names = frozenset(q.rpartition(".")[2] for q in self.factories)
        """Plain names of all session factories, for a textual pre-filter."""
        self.alias_names = frozenset(q.rpartition(".")[2] for q in self._aliases)
        """Plain names of module-level `Annotated[...]` aliases (`SessionDep`)."""
        self._fingerprint = _digest(
            [INDEX_FORMAT, *(f"{m}={d}" for m, d in sorted(self._contributions.items()))]
        )

    # -- names ----------------------------------------------------------------------------

    def resolve(self, qualname: str) -> str:
        """Where a name is defined: re-exports and plain aliases (`X = Y`) followed."""
        for _ in range(_MAX_HOPS):
            target = self._resolve_once(qualname)
            if target == qualname:
                break
            qualname = target
        return qualname

    def _resolve_once(self, qualname: str) -> str:
        linked = self._links.get(qualname)
        if linked is not None:
            return linked
        parts = qualname.split(".")
        for end in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:end]) in self.modules:
                head = ".".join(parts[: end + 1])
                linked = self._links.get(head)
                if linked is None:
                    return qualname
                return ".".join([linked, *parts[end + 1 :]])
        return qualname

    def model(self, qualname: str) -> ModelInfo | None:
        return self.models.get(self.resolve(qualname))

    def factory(self, qualname: str) -> SessionFactory | None:
        return self.factories.get(self.resolve(qualname))

    def alias(self, qualname: str) -> str | None:
        """What a module-level alias stands for: `SessionDep` -> "sqlmodel.Session" for
        `SessionDep = Annotated[Session, Depends(get_session)]`; a re-exported or
        reassigned name -> its definition. None when `qualname` is not an alias."""
        target = self.resolve(qualname)
        for _ in range(_MAX_HOPS):
            aliased = self._aliases.get(target)
            if aliased is None:
                break
            target = self.resolve(aliased)
        return None if target == qualname else target

    def import_target(self, importer: str, target: str) -> str:
        """Where an absolute import of `target` in module `importer` leads (see
        `located_import`)."""
        return located_import(target, self._import_roots.get(importer, ""), self.modules)

    def session_base(self, qualname: str) -> str | None:
        """The SQLModel/SQLAlchemy session class a session class is or derives from."""
        known = library_session(qualname)
        if known is not None:
            return known
        return self._session_bases.get(self.resolve(qualname))

    # -- cache keys -----------------------------------------------------------------------

    def fingerprint(self) -> str:
        """A stable hash of everything the index knows."""
        return self._fingerprint

    def fingerprint_of(self, modules: Iterable[str]) -> str:
        """A stable hash of what these modules contribute: the resolved facts behind each of
        their top-level names (a model's key, a factory's session class, an alias's target,
        a re-export's destination). Editing a module in a way that changes none of these, or
        editing an unrelated module, leaves it unchanged."""
        return _digest(
            [
                INDEX_FORMAT,
                *(f"{m}={self._contributions.get(m, _ABSENT)}" for m in sorted(set(modules))),
            ]
        )

    def dependencies(self, module: str) -> frozenset[str]:
        """`module` and the project modules it imports (anywhere in the file): the modules
        whose `fingerprint_of` belongs in the module's cache key."""
        return self._dependencies.get(module, frozenset({module}))


def build_index(
    files: Sequence[Path],
    roots: Sequence[Path],
    session_factories: Sequence[str] = (),
    *,
    names: Mapping[Path, str] | None = None,
    sources: Mapping[Path, bytes | str] | None = None,
) -> ProjectIndex:
    """Index the given files. `names` gives module names known already (others are named
    from `roots`), `sources` the bytes or text read already (others are read here). Files
    that cannot be read or parsed are skipped (the engine reports them); so are later files
    that map to a module name already taken."""
    names, sources = names or {}, sources or {}
    summaries = (
        summarize(path, names.get(path) or module_name(path, roots), sources.get(path))
        for path in indexing_order(files)
    )
    return merge(summaries, session_factories)


def indexing_order(files: Iterable[Path]) -> list[Path]:
    """The order in which files claim their module names: a stub names a module only when
    no source file does."""
    return sorted((Path(path) for path in files), key=lambda path: path.suffix == ".pyi")


def summarize(path: Path, name: str, source: bytes | str | None = None) -> ModuleScope | None:
    """What the index needs of one file (read here without `source`), or None when it
    cannot be read or parsed. It depends on nothing but the file, its name and its place
    (see `import_root`), so it is made in any process and cached per file."""
    if source is None:
        try:
            source = path.read_bytes()
        except OSError:
            return None
    return parse_scope(path, name, source)


def merge(
    summaries: Iterable[ModuleScope | None], session_factories: Sequence[str] = ()
) -> ProjectIndex:
    """The index of the modules the summaries (in `indexing_order`) describe: the first
    summary of a module name wins; facts that cross modules (inheritance, re-exports,
    factories made from another module's session class) are resolved here."""
    # The finders make many small objects while every summary stays alive, and the cyclic
    # collector would walk all of them again and again (a 3x slowdown on SQLAlchemy's own
    # 258 files). Summaries hold no cycles worth collecting.
    enabled = gc.isenabled()
    gc.disable()
    try:
        scopes: dict[str, ModuleScope] = {}
        for summary in summaries:
            if summary is not None and summary.name not in scopes:
                scopes[summary.name] = summary
        return _merged(scopes, session_factories)
    finally:
        if enabled:
            gc.enable()


def _merged(scopes: dict[str, ModuleScope], session_factories: Sequence[str]) -> ProjectIndex:
    for scope in scopes.values():
        scope.locate_imports(scopes.keys())
    resolver = Resolver(scopes)
    models = ModelFinder(scopes, resolver).find()
    sessions = SessionFinder(scopes, resolver, session_factories)
    factories = sessions.find()
    aliases = sessions.aliases()
    session_bases = {
        q: base
        for q in _class_names(scopes)
        if (base := guarded(sessions.session_base, q)) is not None
    }
    links: dict[str, str] = {}
    for module in scopes:
        for name in _visible_names(scopes, module):
            target = guarded(resolver.lookup, module, name)
            if target is not None and target != f"{module}.{name}":
                links[f"{module}.{name}"] = target

    def facts(qualname: str) -> list[object]:
        found: list[object] = []
        for kind, table in (
            ("model", models),
            ("factory", factories),
            ("alias", aliases),
            ("session", session_bases),
        ):
            if qualname in table:
                found.append((kind, _stable(table[qualname])))
        return found

    contributions: dict[str, str] = {}
    for module in scopes:
        entries = []
        for name in sorted(_visible_names(scopes, module)):
            qualname = f"{module}.{name}"
            target = links.get(qualname, qualname)
            entry = facts(target)
            if target != qualname:
                entry.append(("link", target))
            if entry:
                entries.append((name, entry))
        contributions[module] = _digest([repr(entries)])

    dependencies = {
        module: frozenset({module} | (scope.imported & scopes.keys()))
        for module, scope in scopes.items()
    }
    return ProjectIndex(
        modules={m: s.path for m, s in scopes.items()},
        models=models,
        factories=factories,
        aliases=aliases,
        links=links,
        session_bases=session_bases,
        contributions=contributions,
        dependencies=dependencies,
        import_roots={m: s.import_root for m, s in scopes.items() if s.import_root},
    )


def _class_names(scopes: Mapping[str, ModuleScope]) -> Iterable[str]:
    for module, scope in scopes.items():
        for name, _ in scope.classes():
            yield f"{module}.{name}"


def _visible_names(scopes: Mapping[str, ModuleScope], module: str) -> set[str]:
    """Top-level names of a module, including those star imports of project modules bring."""
    names: set[str] = set()
    pending, seen = [module], set()
    while pending:
        current = pending.pop()
        if current in seen or current not in scopes:
            continue
        seen.add(current)
        scope = scopes[current]
        names.update(n for n in scope.bindings if current == module or not n.startswith("_"))
        pending.extend(scope.star_imports)
    return names


def _stable(value: object) -> object:
    """A value whose repr is the same in every process (frozensets sorted)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple((f.name, _stable(getattr(value, f.name))) for f in dataclasses.fields(value))
    if isinstance(value, (frozenset, set)):
        return tuple(sorted(value))
    return value


def _digest(parts: Iterable[str]) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        hasher.update(part.encode("utf-8", "surrogatepass"))
        hasher.update(b"\0")
    return hasher.hexdigest()


__all__ = ["ProjectIndex", "build_index", "module_name"]
