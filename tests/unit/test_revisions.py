"""Revisions of cached data: one statement reads every cache's version; ORM writes to a watched
class set a new token in their own transaction; a user's scope follows a jurisdiction change
another session committed, and costs no jurisdiction query while nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.orm import Session

import gridgov.calendar_admin.store  # noqa: F401  (registers the "calendar" version)
from gridgov import revisions
from gridgov.accounts.models import Jurisdiction, Role, ScopeKind
from gridgov.accounts.scope import scope_of
from gridgov.accounts.service import create_user, get_user
from gridgov.db import make_engine, session_factory, session_scope
from gridgov.migrate import upgrade
from gridgov.regions.service import latest_revision_id
from gridgov.revisions import DataRevision

GRID_A, GRID_B = "11010100100101", "11010100100102"


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements ``session``'s connection runs."""
    seen: list[str] = []
    conn = session.connection()

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(conn, "before_cursor_execute", note)
    yield seen
    event.remove(conn, "before_cursor_execute", note)


def _token(session: Session) -> str | None:
    return session.scalar(select(DataRevision.token).where(DataRevision.topic == "jurisdictions"))


def test_every_version_is_read_in_one_statement(session: Session, statements: list[str]) -> None:
    grids = revisions.current(session, "grids")
    calendar = revisions.current(session, "calendar")
    assert revisions.current(session, "jurisdictions") == (_token(session),)
    assert len(statements) == 2  # the versions, then the token read above
    assert "data_revision" in statements[0] and "grid_revision" in statements[0]
    assert grids == (latest_revision_id(session),)
    assert calendar[0] >= 0 and len(calendar) == 3  # rule count, id sum, last import


def test_an_orm_write_sets_a_new_token_and_a_rollback_takes_it_back(session: Session) -> None:
    user = create_user(session, "jdy_rev", "修订", Role.SUPERVISOR, "rev-password-1")
    session.flush()
    before = _token(session)
    savepoint = session.begin_nested()
    session.add(Jurisdiction(user_id=user.id, scope_kind=ScopeKind.GRID, code=GRID_A))
    session.flush()
    first = _token(session)
    assert first is not None and first != before
    assert revisions.current(session, "jurisdictions") == (first,)
    savepoint.rollback()
    assert _token(session) == before

    # ORM insert and delete statements set one too.
    session.execute(
        insert(Jurisdiction), [{"user_id": user.id, "scope_kind": ScopeKind.GRID, "code": GRID_B}]
    )
    second = _token(session)
    assert second not in (None, before, first)
    session.connection().execute(Jurisdiction.__table__.delete().where(Jurisdiction.user_id == -1))
    assert _token(session) == second  # a statement on the connection itself is not seen


def test_pending_writes_are_flushed_before_the_versions_are_answered(session: Session) -> None:
    user = create_user(session, "jdy_rev2", "修订二", Role.SUPERVISOR, "rev-password-1")
    session.flush()
    old = revisions.current(session, "jurisdictions")
    session.add(Jurisdiction(user_id=user.id, scope_kind=ScopeKind.GRID, code=GRID_A))
    new = revisions.current(session, "jurisdictions")  # not the memo: the add is pending
    assert new != old and new == (_token(session),)


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database of this test's own: its sessions commit."""
    engine = make_engine(f"sqlite:///{tmp_path / 'revisions.db'}")
    upgrade(engine)
    with session_scope(engine) as s:
        user = create_user(s, "jdy_scope", "范围", Role.SUPERVISOR, "rev-password-1")
        s.flush()
        s.add(Jurisdiction(user_id=user.id, scope_kind=ScopeKind.GRID, code=GRID_A))
    yield engine
    engine.dispose()


def _count_jurisdiction_queries(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if "WHERE jurisdiction.user_id" in sql:  # a scope's query
            seen.append(sql)

    return seen


def test_a_scope_follows_a_change_committed_elsewhere(own_engine: Engine) -> None:
    make = session_factory(own_engine)
    with make() as s:
        assert scope_of(s, get_user(s, "jdy_scope")).grids == {GRID_A}
    queries = _count_jurisdiction_queries(own_engine)
    with make() as s:  # nothing changed: the cached rows, no jurisdiction query
        assert scope_of(s, get_user(s, "jdy_scope")).grids == {GRID_A}
    assert queries == []
    with session_scope(own_engine) as s:  # another worker's admin moves the supervisor
        row = s.scalars(select(Jurisdiction)).one()
        row.code = GRID_B
    with make() as s:
        assert scope_of(s, get_user(s, "jdy_scope")).grids == {GRID_B}
    assert len(queries) == 1


def test_cached_keeps_the_values_of_one_version_and_a_bounded_number_of_them(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    loads: list[int] = []

    def value(n: int) -> int:
        def load() -> int:
            loads.append(n)
            return n * 10

        return revisions.cached(session, "jurisdictions", ("test", n), load)

    assert [value(1), value(1)] == [10, 10] and loads == [1]
    monkeypatch.setattr(revisions, "MAX_CACHED", 2)
    value(2)
    value(3)  # a third value: the full set is dropped first
    value(1)
    assert loads == [1, 2, 3, 1]
    user = create_user(session, "jdy_rev3", "修订三", Role.SUPERVISOR, "rev-password-1")
    session.flush()
    session.add(Jurisdiction(user_id=user.id, scope_kind=ScopeKind.GRID, code=GRID_A))
    value(1)  # a new version: loaded again
    assert loads == [1, 2, 3, 1, 1]
