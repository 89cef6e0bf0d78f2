"""The engine keeps transactions whole on SQLite too; rows written at once (insert_now)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from gridgov import migrate
from gridgov.accounts.models import AuditLog, Role, User
from gridgov.db import insert_now, make_engine, session_factory, session_scope


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
