"""get_or_create under a real race: 8 threads, each with its own session and connection.

A barrier right after each thread's lookup makes every thread see "no row" before any of
them inserts. Each caller also has an unrelated pending object that must survive losing.
"""

import threading
from typing import Any

import pytest
import sqlalchemy
from helpers_testlib import Database, Impl, Style
from sqlalchemy import event, func

THREADS = 8


def wait_after_lookup(
    session: Any, model: Any, barrier: threading.Barrier, empty_lookups: list[bool]
) -> None:
    fired = False

    def hook(state: Any) -> Any:
        nonlocal fired
        entities = [d.get("entity") for d in getattr(state.statement, "column_descriptions", [])]
        if fired or not state.is_select or model not in entities:
            return None
        fired = True
        # Fetch every row first: on SQLite an open cursor keeps a read lock.
        frozen = state.invoke_statement().freeze()
        empty_lookups.append(not frozen().all())
        barrier.wait()
        return frozen()

    event.listen(session, "do_orm_execute", hook)


@pytest.mark.parametrize("autoflush", [True, False], ids=["autoflush", "no-autoflush"])
def test_get_or_create_race(impl: Impl, shared_db: Database, style: Style, autoflush: bool) -> None:
    db = shared_db
    if autoflush and db.name.startswith("sqlite"):
        pytest.skip(
            "on SQLite the autoflushed pending row takes the database write lock before the "
            "lookup, so the callers are serialized and cannot race"
        )
    barrier = threading.Barrier(THREADS, timeout=30)
    outcomes: list[tuple[int, bool]] = []
    errors: list[BaseException] = []
    empty_lookups: list[bool] = []
    lock = threading.Lock()

    def caller(n: int) -> None:
        try:
            with style.session_cls(db.engine, autoflush=autoflush) as s:
                s.add(style.Member(email=f"caller{n}@a.io"))
                wait_after_lookup(s, style.Team, barrier, empty_lookups)
                team, created = impl.sync.get_or_create(s, style.Team, name="race")
                s.commit()
                with lock:
                    outcomes.append((team.id, created))
        except BaseException as exc:  # reported below with the counts
            barrier.abort()
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    with db.engine.connect() as conn:
        rows = conn.scalar(
            sqlalchemy.select(func.count()).select_from(style.Team).filter_by(name="race")
        )
        kept = conn.scalar(sqlalchemy.select(func.count()).select_from(style.Member))
    # Shown with -s, and with the assertion error: the measured outcome of the race.
    print(
        f"[race {db.name} {style.name} autoflush={autoflush}] successes={len(outcomes)} "
        f"created={sum(created for _, created in outcomes)} rows={rows} "
        f"empty_lookups={sum(empty_lookups)} pending_kept={kept} errors={errors!r}"
    )
    assert empty_lookups == [True] * THREADS  # every thread saw "no row": a real race
    assert not errors
    assert len(outcomes) == THREADS
    assert sum(created for _, created in outcomes) == 1
    assert len({team_id for team_id, _ in outcomes}) == 1
    assert rows == 1
    assert kept == THREADS
