"""SQLite: a write request takes the database's write lock in its endpoint, not while it
authenticates, so requests waiting for the lock never hold the threads its holder needs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from gridgov.accounts import audit, auth
from gridgov.accounts.models import AuditLog, Role
from gridgov.accounts.service import create_user
from gridgov.app import create_app
from gridgov.config import Settings
from gridgov.db import make_engine, read_first, session_factory, session_scope
from gridgov.deps import CurrentUser, SessionDep
from gridgov.migrate import upgrade

PASSWORD = "lock-test-password-1"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    upgrade(engine)
    with session_scope(engine) as s:
        create_user(s, "jdy_lock", "锁测试", Role.SUPERVISOR, PASSWORD)
    yield engine
    engine.dispose()


def _token(engine: Engine, settings: Settings) -> str:
    with session_scope(engine) as s:
        return auth.login(s, settings, "jdy_lock", PASSWORD).token


def test_writers_beyond_the_thread_pool_all_succeed(engine: Engine, tmp_path: Path) -> None:
    """Six writers on two threads: each authenticates, then writes and holds the lock a while."""
    settings = Settings(data_dir=tmp_path, environment="test", request_threads=2)
    app = create_app(settings, engine)

    @app.post("/test/write")
    def _write(user: CurrentUser, session: SessionDep) -> None:
        audit.record(session, user, "test.write")
        session.flush()  # takes the write lock
        time.sleep(0.1)

    token = _token(engine, settings)
    statuses: list[int] = []
    with TestClient(app) as client:

        def post() -> None:
            r = client.post("/test/write", headers={"Authorization": f"Bearer {token}"})
            statuses.append(r.status_code)

        callers = [threading.Thread(target=post) for _ in range(6)]
        for t in callers:
            t.start()
        for t in callers:
            t.join()
    assert statuses == [200] * 6
    with session_scope(engine) as s:
        done = s.scalar(select(func.count()).where(AuditLog.action == "test.write"))
    assert done == 6


def test_reads_before_the_first_write_leave_the_lock_free(engine: Engine) -> None:
    with session_factory(engine)() as session:
        with read_first(session) as reader:
            assert reader is not session
            reader.execute(text("SELECT count(*) FROM user_account")).one()
            with engine.connect() as other:  # another writer is not held up meanwhile
                other.exec_driver_sql(
                    "INSERT INTO audit_log (at, action, object_type, "
                    "object_id, detail) VALUES ('2026-01-01', 'x', '', '', '{}')"
                )
                other.commit()
        session.execute(text("SELECT 1")).one()  # the write session begins: its lock now
        with read_first(session) as again:
            assert again is session
