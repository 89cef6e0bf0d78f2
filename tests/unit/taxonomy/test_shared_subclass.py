"""The subclass a report reads (``shared_subclass``): one detached copy per process while the
taxonomy is unchanged, read again after a change committed by another session, and a session's
own uncommitted change is seen by it alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session

from gridgov.db import make_engine, session_factory, session_scope
from gridgov.migrate import upgrade
from gridgov.taxonomy import service
from gridgov.taxonomy.models import Kind, Step, TimeUnit, Urgency


def _handle_hours(sub: Any) -> int:
    return next(
        t.value for t in sub.time_limits if (t.step, t.urgency) == (Step.HANDLE, Urgency.URGENT)
    )


def _set_urgent_handle(session: Session, value: int) -> None:
    service.set_time_limit(
        session, kind=Kind.EVENT, code="0104", step=Step.HANDLE, urgency=Urgency.URGENT,
        value=value, unit=TimeUnit.NATURAL_HOURS,
    )  # fmt: skip


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of this test's own with the default taxonomy: its sessions commit."""
    engine = make_engine(f"sqlite:///{tmp_path / 'taxonomy.db'}")
    upgrade(engine)
    with session_scope(engine) as s:
        service.load_default(s)
    yield engine
    engine.dispose()


def test_one_detached_copy_while_nothing_changes(own_engine: Engine) -> None:
    make = session_factory(own_engine)
    with make() as s:
        first = service.shared_subclass(s, "0104", Kind.EVENT)
        assert inspect(first).detached and first not in s
    queries: list[str] = []

    @event.listens_for(own_engine, "before_cursor_execute")
    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "FROM subclass" in sql:
            queries.append(sql)

    with make() as s:
        assert service.shared_subclass(s, "0104", Kind.EVENT) is first
    assert queries == []
    assert first.name and _handle_hours(first) > 0  # loaded: no lazy load on a detached copy


def test_a_committed_change_is_read_again(own_engine: Engine) -> None:
    make = session_factory(own_engine)
    with make() as s:
        before = _handle_hours(service.shared_subclass(s, "0104", Kind.EVENT))
    with session_scope(own_engine) as s:  # an admin in another worker
        _set_urgent_handle(s, before + 7)
    with make() as s:
        assert _handle_hours(service.shared_subclass(s, "0104", Kind.EVENT)) == before + 7


def test_an_uncommitted_change_is_seen_by_its_own_session_only(own_engine: Engine) -> None:
    make = session_factory(own_engine)
    with make() as s:
        before = _handle_hours(service.shared_subclass(s, "0104", Kind.EVENT))
    with make() as writer:
        _set_urgent_handle(writer, before + 3)
        writer.flush()
        assert _handle_hours(service.shared_subclass(writer, "0104", Kind.EVENT)) == before + 3
        writer.rollback()
    with make() as s:
        assert _handle_hours(service.shared_subclass(s, "0104", Kind.EVENT)) == before
