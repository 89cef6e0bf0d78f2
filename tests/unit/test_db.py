"""The engine keeps transactions whole on SQLite too; rows written at once (insert_now)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from gridgov import migrate
from gridgov.accounts.models import AuditLog, Role, User
from gridgov.db import (
    insert_now,
    inserts_together,
    make_engine,
    session_factory,
    session_scope,
)


def test_a_released_savepoint_does_not_commit_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        # The savepoint is the first statement of the transaction: pysqlite alone lets SAVEPOINT
        # open the transaction, so RELEASE commits what was written inside it.
        with session.begin_nested():
            session.add(User(username="u1", name="张三", role=Role.ADMIN))
        session.rollback()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_sqlite_writers_take_the_lock_up_front_and_readers_do_not(tmp_path: Path) -> None:
    """A write session that reads, then writes after another writer committed, must not fail with
    "database is locked" (a deferred WAL transaction cannot upgrade a stale snapshot); two
    read-only sessions hold transactions side by side."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate.upgrade(engine)
    with session_scope(engine) as first:
        first.scalar(select(func.count()).select_from(User))  # read first …
        first.add(User(username="u1", name="张三", role=Role.ADMIN))
        first.flush()  # … then write, holding the lock since BEGIN IMMEDIATE
    with session_scope(engine, read_only=True) as r1, session_scope(engine, read_only=True) as r2:
        assert r1.info["read_only"] and r2.info["read_only"]
        assert r1.scalar(select(func.count()).select_from(User)) == 1
        assert r2.scalar(select(func.count()).select_from(User)) == 1
    engine.dispose()


def test_reader_snapshot_then_other_writer_then_write(tmp_path: Path) -> None:
    """The race that broke intake on SQLite: B reads, A writes and commits, B writes. With
    BEGIN IMMEDIATE, A waits for B instead of B failing."""
    import threading

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate.upgrade(engine)
    b_has_read = threading.Event()
    errors: list[BaseException] = []

    def writer_a() -> None:
        b_has_read.wait(5)
        try:
            with session_scope(engine) as a:
                a.add(User(username="a", name="甲", role=Role.ADMIN))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=writer_a)
    t.start()
    with session_scope(engine) as b:
        b.scalar(select(func.count()).select_from(User))
        b_has_read.set()
        t.join(0.3)  # A is waiting on B's lock, not committing under it
        b.add(User(username="b", name="乙", role=Role.ADMIN))
    t.join(10)
    assert errors == []
    with session_scope(engine, read_only=True) as s:
        assert s.scalar(select(func.count()).select_from(User)) == 2
    engine.dispose()


def test_read_only_sessions_share_one_bind_so_caches_keyed_by_it_hit(tmp_path: Path) -> None:
    """The working calendar is cached per bind: a new bind per request rebuilt it every time."""
    from gridgov.calendar_admin.store import calendar_for
    from gridgov.config import Settings

    engine = make_engine(f"sqlite:///{tmp_path / 'binds.db'}")
    migrate.upgrade(engine)
    settings = Settings(data_dir=tmp_path)
    make = session_factory(engine, read_only=True)
    with make() as a, session_factory(engine, read_only=True)() as b:
        assert a.get_bind() is b.get_bind()
        assert calendar_for(a, settings) is calendar_for(b, settings)
    engine.dispose()


def test_session_factory_is_built_once_per_engine_and_mode_and_sessions_keep_their_own_info(
    tmp_path: Path,
) -> None:
    """Every request asks for a factory: one per engine and mode, whose sessions still each
    get an ``info`` of their own (a flag set on one request's session stays there)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'makers.db'}")
    writer, reader = session_factory(engine), session_factory(engine, read_only=True)
    assert session_factory(engine) is writer and writer is not reader
    with writer() as a, writer() as b, reader() as c:
        a.info["flag"] = True
        assert "flag" not in b.info and a.info["read_only"] is False
        assert c.info == {"read_only": True}
    engine.dispose()


def test_insert_now_writes_at_once_with_the_defaults_and_later_changes_update(
    session: Session,
) -> None:
    """On SQLite and PostgreSQL: the row is in the table before any flush, unset columns come
    back with their defaults, and the object is an ordinary persistent one afterwards."""
    row = AuditLog(action="test.insert_now", object_type="case", object_id="P1")
    insert_now(session, row)
    assert inspect(row).persistent and row.id is not None
    assert row.detail == {} and row.at.tzinfo is not None  # defaults: dict, utcnow
    stored = session.connection().execute(
        select(AuditLog.__table__.c.object_id).where(AuditLog.__table__.c.id == row.id)
    )
    assert stored.scalar_one() == "P1"
    row.object_id = "2026120300001"
    session.flush()
    session.expire(row)
    assert row.object_id == "2026120300001"


def test_insert_now_unless_taken_skips_a_stored_unique_value(session: Session) -> None:
    first = User(username="u_taken", name="甲", role=Role.SUPERVISOR)
    assert insert_now(session, first, unless_taken="username") is True
    again = User(username="u_taken", name="乙", role=Role.SUPERVISOR)
    assert insert_now(session, again, unless_taken="username") is False
    assert inspect(again).transient and again.id is None
    names = session.scalars(select(User.name).where(User.username == "u_taken")).all()
    assert names == ["甲"]


def test_inserts_together_write_at_the_end_of_the_block_in_one_statement_on_postgresql(
    session: Session,
) -> None:
    """Rows of several tables (one of them twice) with their Python-side defaults filled in;
    on PostgreSQL one statement, on SQLite one each; afterwards ordinary persistent objects."""
    statements: list[str] = []
    conn = session.connection()

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    user = User(username="u_together", name="丙", role=Role.SUPERVISOR)
    first = AuditLog(action="test.together", object_type="user", object_id="u_together")
    second = AuditLog(action="test.together", object_type="case", detail={"n": 2})
    event.listen(conn, "before_cursor_execute", note)
    try:
        with inserts_together(session):
            for row in (user, first, second):
                assert insert_now(session, row) is True
            assert statements == [] and inspect(user).transient  # not written yet
    finally:
        event.remove(conn, "before_cursor_execute", note)
    assert len(statements) == (1 if session.get_bind().dialect.name == "postgresql" else 3)
    assert all(inspect(r).persistent for r in (user, first, second))
    assert user.active is True and user.failed_logins == 0 and user.created_at.tzinfo
    assert first.detail == {} and second.detail == {"n": 2} and first.at.tzinfo is not None
    assert first.id != second.id
    stored = session.execute(
        select(AuditLog.object_id, AuditLog.detail)
        .where(AuditLog.action == "test.together")
        .order_by(AuditLog.id)
    ).all()
    assert [tuple(r) for r in stored] == [("u_together", {}), (None, {"n": 2})]
    user.name = "丁"
    session.flush()
    session.expire(user)
    assert user.name == "丁"


def test_inserts_together_write_nothing_when_the_block_fails_and_do_not_nest(
    session: Session,
) -> None:
    row = AuditLog(action="test.together.failed")
    with pytest.raises(ValueError), inserts_together(session):
        insert_now(session, row)
        raise ValueError("a check failed")
    assert inspect(row).transient
    count = select(func.count()).select_from(AuditLog).where(AuditLog.action == row.action)
    assert session.scalar(count) == 0
    with inserts_together(session):
        with pytest.raises(RuntimeError), inserts_together(session):
            pass
        with pytest.raises(TypeError):
            insert_now(
                session,
                User(username="u_x", name="戊", role=Role.SUPERVISOR),
                unless_taken="username",
            )
