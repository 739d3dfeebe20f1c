"""The sync helpers against real databases, for every model style and both copies."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy
import sqlmodel
from helpers_testlib import Database, Impl, Style
from sqlalchemy import event, func, text
from sqlalchemy.exc import IntegrityError, InvalidRequestError, NoInspectionAvailable
from sqlalchemy.orm import Session, aliased, defer, joinedload
from sqlalchemy.orm.exc import DetachedInstanceError

SELECTS = {"sqlmodel.select": sqlmodel.select, "sqlalchemy.select": sqlalchemy.select}
SESSIONS = {"sqlmodel.Session": sqlmodel.Session, "sqlalchemy.Session": Session}


@pytest.fixture(params=list(SELECTS))
def select(request: pytest.FixtureRequest) -> Callable[..., Any]:
    return SELECTS[request.param]


@pytest.fixture(params=list(SESSIONS))
def session_cls(request: pytest.FixtureRequest) -> type[Session]:
    return SESSIONS[request.param]


def seed(db: Database, style: Style) -> dict[str, int]:
    """Team a with two members, team b with none; returns ids by name/email."""
    with style.session_cls(db.engine) as s:
        a = style.Team(name="a", motto="first")
        b = style.Team(name="b")
        s.add_all([a, b])
        s.flush()
        s.add_all(
            [
                style.Member(email="x@a.io", bio="bio x", team_id=a.id),
                style.Member(email="y@a.io", bio="bio y", team_id=a.id),
            ]
        )
        s.commit()
        teams = {t.name: t.id for t in s.scalars(sqlalchemy.select(style.Team))}
        members = {m.email: m.id for m in s.scalars(sqlalchemy.select(style.Member))}
        return {**teams, **members}


def member_dict(ids: dict[str, int], email: str = "x@a.io") -> dict[str, Any]:
    return {"id": ids[email], "email": email, "bio": f"bio {email[0]}", "team_id": ids["a"]}


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


# --- model_to_dict


def test_model_to_dict_uses_attribute_keys_and_skips_relationships(
    impl: Impl, db: Database, style: Style
) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.get(style.Member, ids["x@a.io"])
        assert m.team.name == "a"  # a loaded relationship is still left out
        assert impl.sync.model_to_dict(m) == member_dict(ids)


def test_model_to_dict_of_none_is_none(impl: Impl) -> None:
    assert impl.sync.model_to_dict(None) is None


def test_model_to_dict_include_and_exclude(impl: Impl, db: Database, style: Style) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.get(style.Member, ids["x@a.io"])
        h = impl.sync
        assert h.model_to_dict(m, include={"email"}) == {"email": "x@a.io"}
        assert h.model_to_dict(m, include=(k for k in ["id", "email"])) == {
            "id": ids["x@a.io"],
            "email": "x@a.io",
        }
        assert h.model_to_dict(m, exclude=["bio", "team_id"]) == {
            "id": ids["x@a.io"],
            "email": "x@a.io",
        }
        assert h.model_to_dict(m, include=["email", "bio"], exclude=["bio"]) == {"email": "x@a.io"}


def test_model_to_dict_rejects_unknown_names(impl: Impl, db: Database, style: Style) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.get(style.Member, ids["x@a.io"])
        h = impl.sync
        with pytest.raises(ValueError, match=r"include= .*: email_address; column attributes"):
            h.model_to_dict(m, include={"email_address"})  # the column name, not the key
        with pytest.raises(ValueError, match=r"exclude= .*nope"):
            h.model_to_dict(m, exclude={"nope"})
        with pytest.raises(ValueError, match=r"team: relationship"):
            h.model_to_dict(m, include={"team"})
        with pytest.raises(TypeError, match="not the string 'email'"):
            h.model_to_dict(m, include="email")


def test_model_to_dict_rejects_what_is_not_a_mapped_instance(impl: Impl, style: Style) -> None:
    with pytest.raises(NoInspectionAvailable):
        impl.sync.model_to_dict({"id": 1})
    with pytest.raises(TypeError, match="instance of a mapped class"):
        impl.sync.model_to_dict(style.Member)


def test_model_to_dict_of_transient_instance(impl: Impl, style: Style) -> None:
    m = style.Member(email="t@a.io")
    assert impl.sync.model_to_dict(m) == {
        "id": None,
        "email": "t@a.io",
        "bio": None,
        "team_id": None,
    }


def test_model_to_dict_reloads_expired_attributes_inside_session(
    impl: Impl, db: Database, style: Style
) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.get(style.Member, ids["x@a.io"])
        s.commit()  # expires every attribute
        assert "email" not in m.__dict__
        assert impl.sync.model_to_dict(m) == member_dict(ids)


def test_model_to_dict_loads_deferred_attributes_inside_session(
    impl: Impl, db: Database, style: Style
) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.scalars(
            sqlalchemy.select(style.Member)
            .options(defer(style.Member.bio))
            .where(style.Member.email == "x@a.io")
        ).one()
        assert "bio" not in m.__dict__
        assert impl.sync.model_to_dict(m) == member_dict(ids)


def test_model_to_dict_of_loaded_detached_instance(impl: Impl, db: Database, style: Style) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.get(style.Member, ids["x@a.io"])
    assert impl.sync.model_to_dict(m) == member_dict(ids)


def test_model_to_dict_of_expired_detached_instance_raises(
    impl: Impl, db: Database, style: Style
) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.get(style.Member, ids["x@a.io"])
        s.commit()
    with pytest.raises(DetachedInstanceError) as info:
        impl.sync.model_to_dict(m)
    message = str(info.value)
    assert "not loaded: id, email, bio, team_id" in message
    assert "session.refresh(obj)" in message and "expire_on_commit=False" in message


def test_model_to_dict_of_partly_expired_detached_instance(
    impl: Impl, db: Database, style: Style
) -> None:
    ids = seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.get(style.Member, ids["x@a.io"])
        s.expire(m, ["email"])
    with pytest.raises(DetachedInstanceError, match=r"not loaded: email\."):
        impl.sync.model_to_dict(m)
    # Only requested attributes must be loaded.
    expected = member_dict(ids)
    del expected["email"]
    assert impl.sync.model_to_dict(m, exclude={"email"}) == expected


def test_model_to_dict_of_detached_instance_with_deferred_column(
    impl: Impl, db: Database, style: Style
) -> None:
    seed(db, style)
    with style.session_cls(db.engine) as s:
        m = s.scalars(
            sqlalchemy.select(style.Member)
            .options(defer(style.Member.bio))
            .where(style.Member.email == "x@a.io")
        ).one()
    with pytest.raises(DetachedInstanceError, match=r"not loaded: bio\."):
        impl.sync.model_to_dict(m)
    assert impl.sync.model_to_dict(m, include={"email"}) == {"email": "x@a.io"}


# --- query_one / query_all


def test_query_one_single_entity(
    impl: Impl,
    db: Database,
    style: Style,
    select: Callable[..., Any],
    session_cls: type[Session],
) -> None:
    seed(db, style)
    Team = style.Team
    with session_cls(db.engine) as s:
        stmt = select(Team).where(Team.name == "a")
        for team in (impl.sync.query_one(s, stmt), impl.sync.query_one(s, stmt, Team)):
            assert isinstance(team, Team) and team.name == "a"
        assert impl.sync.query_one(s, select(Team).where(Team.name == "zz"), Team) is None


def test_query_one_single_column(
    impl: Impl,
    db: Database,
    style: Style,
    select: Callable[..., Any],
    session_cls: type[Session],
) -> None:
    seed(db, style)
    Team = style.Team
    with session_cls(db.engine) as s:
        assert impl.sync.query_one(s, select(Team.motto).where(Team.name == "a")) == "first"
        assert impl.sync.query_one(s, select(func.count()).select_from(Team)) == 2
        assert impl.sync.query_one(s, text("select 7")) == 7


def test_query_one_several_columns_gives_row_or_the_model(
    impl: Impl,
    db: Database,
    style: Style,
    select: Callable[..., Any],
    session_cls: type[Session],
) -> None:
    seed(db, style)
    Team, Member = style.Team, style.Member
    with session_cls(db.engine) as s:
        stmt = (
            select(Member, Team)
            .join(Team, Member.team_id == Team.id)
            .where(Member.email == "y@a.io")
        )
        row = impl.sync.query_one(s, stmt)
        assert isinstance(row, sqlalchemy.Row) and len(row) == 2
        assert row[0].email == "y@a.io" and row[1].name == "a"
        assert impl.sync.query_one(s, stmt, Team) is row[1]
        assert impl.sync.query_one(s, stmt, Member) is row[0]
        columns = impl.sync.query_one(s, select(Team.name, Team.motto).where(Team.name == "a"))
        assert tuple(columns) == ("a", "first")


def test_query_one_checks_model_before_running(
    impl: Impl, db: Database, style: Style, select: Callable[..., Any], statements: list[str]
) -> None:
    Team, Member = style.Team, style.Member
    with style.session_cls(db.engine) as s:
        with pytest.raises(ValueError, match=r"does not select the entity"):
            impl.sync.query_one(s, select(Team), Member)
        with pytest.raises(ValueError, match=r"does not select the entity"):
            impl.sync.query_all(s, select(Team.id), Team)
        other = aliased(Team)
        with pytest.raises(ValueError, match=r"more than once"):
            impl.sync.query_one(s, select(Team, other).join(other, other.id != Team.id), Team)
        with pytest.raises(TypeError, match=r"needs a select\(\)"):
            impl.sync.query_one(s, text("select 1"), Team)
    assert not [sql for sql in statements if "SELECT" in sql.upper()]


def test_query_one_has_first_semantics(
    impl: Impl, db: Database, style: Style, select: Callable[..., Any], statements: list[str]
) -> None:
    seed(db, style)
    statements.clear()
    Team = style.Team
    with style.session_cls(db.engine) as s:
        assert impl.sync.query_one(s, select(Team).order_by(Team.name.desc()), Team).name == "b"
    (sql,) = statements
    assert "LIMIT" not in sql.upper()


def test_query_all_shapes(
    impl: Impl,
    db: Database,
    style: Style,
    select: Callable[..., Any],
    session_cls: type[Session],
) -> None:
    seed(db, style)
    Team, Member = style.Team, style.Member
    h = impl.sync
    with session_cls(db.engine) as s:
        teams = h.query_all(s, select(Team).order_by(Team.name))
        assert [t.name for t in teams] == ["a", "b"] and all(isinstance(t, Team) for t in teams)
        assert h.query_all(s, select(Team).order_by(Team.name), Team) == teams
        assert h.query_all(s, select(Team.name).order_by(Team.name)) == ["a", "b"]
        pairs = select(Member, Team).join(Team, Member.team_id == Team.id).order_by(Member.email)
        rows = h.query_all(s, pairs)
        assert [(m.email, t.name) for m, t in rows] == [("x@a.io", "a"), ("y@a.io", "a")]
        assert [m.email for m in h.query_all(s, pairs, Member)] == ["x@a.io", "y@a.io"]
        assert h.query_all(s, select(Team).where(Team.name == "zz")) == []


def test_query_all_applies_unique_for_joined_collections_only(
    impl: Impl,
    db: Database,
    style: Style,
    select: Callable[..., Any],
    session_cls: type[Session],
) -> None:
    seed(db, style)
    Team = style.Team
    with session_cls(db.engine) as s:
        eager = select(Team).options(joinedload(Team.members)).order_by(Team.name)
        with pytest.raises(InvalidRequestError, match=r"unique\(\)"):
            s.execute(eager).all()  # what query_all has to handle
        teams = impl.sync.query_all(s, eager)
        assert [(t.name, len(t.members)) for t in teams] == [("a", 2), ("b", 0)]
        first = impl.sync.query_one(s, eager, Team)
        assert first.name == "a" and len(first.members) == 2
        # A plain join repeats the team once per member; that is the statement's result.
        joined = select(Team).join(Team.members).order_by(Team.name)
        assert [t.name for t in impl.sync.query_all(s, joined, Team)] == ["a", "a"]


def test_query_one_is_what_the_row_index_fix_needs(
    impl: Impl, db: Database, style: Style, session_cls: type[Session]
) -> None:
    """ROW001: ``exec(stmt).first()[0]`` works only for some selects; query_one for all."""
    seed(db, style)
    Team = style.Team
    with sqlmodel.Session(db.engine) as s:
        with pytest.raises(TypeError, match="not subscriptable"):
            s.exec(sqlmodel.select(Team).where(Team.name == "a")).first()[0]  # type: ignore[index]
        sa_stmt = sqlalchemy.select(Team).where(Team.name == "a")
        sm_stmt = sqlmodel.select(Team).where(Team.name == "a")
        expected = s.exec(sa_stmt).first()[0]  # type: ignore[call-overload]
        assert impl.sync.query_one(s, sa_stmt, Team) is expected
        assert impl.sync.query_one(s, sm_stmt, Team) is expected


# --- safe_get


def test_safe_get(impl: Impl, db: Database, style: Style) -> None:
    ids = seed(db, style)
    h = impl.sync
    with style.session_cls(db.engine) as s:
        m = h.safe_get(s, style.Member, ids["x@a.io"])
        assert isinstance(m, style.Member) and m.email == "x@a.io"
        assert h.safe_get(s, style.Member, -1) is None
        assert h.safe_get(s, style.Member, -1, to_dict=True) is None
        s.commit()  # expires m; to_dict must still give every column
        assert h.safe_get(s, style.Member, ids["x@a.io"], to_dict=True) == member_dict(ids)


# --- get_or_create


def count(db: Database, model: Any, **where: Any) -> int:
    with Session(db.engine) as s:
        stmt = sqlalchemy.select(func.count()).select_from(model).filter_by(**where)
        return s.scalar(stmt) or 0


def test_get_or_create_creates_then_gets(impl: Impl, db: Database, style: Style) -> None:
    h = impl.sync
    with style.session_cls(db.engine) as s:
        team, created = h.get_or_create(s, style.Team, defaults={"motto": "m1"}, name="new")
        assert created and team.motto == "m1" and team.id is not None
        again, created = h.get_or_create(s, style.Team, defaults={"motto": "m2"}, name="new")
        assert not created and again is team and again.motto == "m1"
        s.commit()
    assert count(db, style.Team, name="new") == 1


def test_get_or_create_never_commits(impl: Impl, db: Database, style: Style) -> None:
    # A fresh session that has only read: on SQLite's default driver settings a bare
    # SAVEPOINT would be the outermost transaction, and releasing it would commit.
    with style.session_cls(db.engine) as s:
        _, created = impl.sync.get_or_create(s, style.Team, name="ghost")
        assert created
        s.rollback()
    assert count(db, style.Team, name="ghost") == 0


def test_get_or_create_argument_checks(impl: Impl, db: Database, style: Style) -> None:
    with style.session_cls(db.engine) as s:
        with pytest.raises(ValueError, match="in both defaults and the lookup: name"):
            impl.sync.get_or_create(s, style.Team, defaults={"name": "x"}, name="y")
        with pytest.raises(TypeError, match="at least one lookup"):
            impl.sync.get_or_create(s, style.Team, defaults={"name": "x"})


def test_get_or_create_reraises_other_constraint_errors(
    impl: Impl, db: Database, style: Style
) -> None:
    with style.session_cls(db.engine) as s:
        team = style.Team(name="kept")
        s.add(team)
        # No email: the INSERT violates NOT NULL, and no row matches bio="x" afterwards.
        with pytest.raises(IntegrityError):
            impl.sync.get_or_create(s, style.Member, bio="x")
        # Only the savepoint was rolled back: the caller's work is intact.
        s.commit()
    assert count(db, style.Team, name="kept") == 1
    assert count(db, style.Member) == 0


def test_get_or_create_does_not_hide_errors_of_pending_objects(
    impl: Impl, db: Database, style: Style
) -> None:
    with style.session_cls(db.engine, autoflush=False) as s:
        s.add(style.Member(bio="no email"))
        with pytest.raises(IntegrityError, match="email_address"):
            impl.sync.get_or_create(s, style.Team, name="t")


def compete_after_lookup(session: Session, model: Any, compete: Callable[[], None]) -> None:
    """Run ``compete`` right after ``session``'s first SELECT of ``model`` has returned."""
    fired = False

    def hook(state: Any) -> Any:
        nonlocal fired
        entities = [d.get("entity") for d in getattr(state.statement, "column_descriptions", [])]
        if fired or not state.is_select or model not in entities:
            return None
        fired = True
        frozen = state.invoke_statement().freeze()  # fetch every row before competing
        compete()
        return frozen()

    event.listen(session, "do_orm_execute", hook)


@pytest.mark.parametrize("autoflush", [True, False], ids=["autoflush", "no-autoflush"])
def test_get_or_create_lost_race_keeps_pending_work(
    impl: Impl, shared_db: Database, style: Style, autoflush: bool
) -> None:
    db = shared_db
    if autoflush and db.name.startswith("sqlite"):
        pytest.skip(
            "on SQLite the autoflushed pending row takes the database write lock before the "
            "lookup, so no other connection can insert: the race cannot happen"
        )
    winner_ids: list[int] = []

    def other_caller() -> None:
        with style.session_cls(db.engine) as other:
            team, created = impl.sync.get_or_create(other, style.Team, name="contested")
            assert created
            other.commit()
            winner_ids.append(team.id)

    with style.session_cls(db.engine, autoflush=autoflush) as s:
        s.add(style.Member(email="mine@a.io"))
        compete_after_lookup(s, style.Team, other_caller)
        team, created = impl.sync.get_or_create(s, style.Team, name="contested")
        assert (created, team.id) == (False, winner_ids[0])
        s.commit()
    assert count(db, style.Team, name="contested") == 1
    assert count(db, style.Member, email="mine@a.io") == 1


def test_get_or_create_lost_race_under_repeatable_read_reraises(
    impl: Impl, pg_db: Database, style: Style
) -> None:
    """Documented limit: the winner's row is invisible to the snapshot, so re-raise."""
    db = pg_db

    def other_caller() -> None:
        with style.session_cls(db.engine) as other:
            impl.sync.get_or_create(other, style.Team, name="contested")
            other.commit()

    engine = db.engine.execution_options(isolation_level="REPEATABLE READ")
    with style.session_cls(engine) as s:
        compete_after_lookup(s, style.Team, other_caller)
        with pytest.raises(IntegrityError):
            impl.sync.get_or_create(s, style.Team, name="contested")
