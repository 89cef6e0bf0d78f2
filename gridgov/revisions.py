"""Revisions of the data workers cache, read for every cache in one round trip.

Process-wide caches (the geocoder's grid index, the working calendar, users' jurisdiction rows,
the taxonomy) must notice a change another worker committed, so each checks a version of its
tables. Read one by one, that was a statement per cache on every report. Here each domain
registers its version expression once (:func:`register`), and the first cache a transaction
consults reads all of them in one SELECT (:func:`current`), kept for the transaction while it
writes nothing. :func:`cached` keeps a value per process while its version holds.

Tables without a version of their own get one from :class:`DataRevision` (:func:`watch`): every
ORM write to a watched class (a flush, or an ORM ``insert``/``update``/``delete`` statement) sets
its topic's token to a new random value in the same transaction. A change that rolls back
therefore leaves no token behind that could later name other data. Statements run on a
``Connection`` directly, not through a session, are not seen.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from gridgov.db import Base


class DataRevision(Base):
    """The token of a topic's last committed change (no row: never changed through the ORM)."""

    __tablename__ = "data_revision"

    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


_versions: dict[str, tuple[ColumnElement[Any], ...]] = {}
_statement: list[Select[Any] | None] = [None]
_topics: dict[type, str] = {}
_MEMO = "gridgov.revisions"
T = TypeVar("T")


def register(name: str, *columns: ColumnElement[Any]) -> None:
    """Add the version ``name``: scalar subqueries whose values change when the data does."""
    _versions[name] = columns
    _statement[0] = None


def watch(topic: str, *classes: type) -> None:
    """Version the mapped ``classes`` by the token of ``topic``, set anew by every ORM write."""
    for cls in classes:
        _topics[cls] = topic
    register(topic, _token_of(topic))


def _token_of(topic: str) -> ColumnElement[Any]:
    return (
        select(DataRevision.token).where(DataRevision.topic == topic).scalar_subquery().label(None)
    )


def current(session: Session, name: str) -> tuple[Any, ...]:
    """The version ``name`` as ``session``'s transaction sees it.

    The first call of a transaction reads every registered version in one statement; later
    calls answer from that row until the session writes (flushes) or the transaction ends.
    """
    memo: dict[str, tuple[Any, ...]] | None = session.info.get(_MEMO)
    if memo is None or name not in memo or session.new or session.dirty or session.deleted:
        memo = _read(session)  # pending writes are flushed first (autoflush), then seen
    return memo[name]


def _read(session: Session) -> dict[str, tuple[Any, ...]]:
    stmt = _statement[0]
    names = list(_versions)
    if stmt is None:
        stmt = _statement[0] = select(*(c for name in names for c in _versions[name]))
    row = session.execute(stmt).one()
    memo, i = {}, 0
    for name in names:
        width = len(_versions[name])
        memo[name] = tuple(row[i : i + width])
        i += width
    session.info[_MEMO] = memo
    return memo


#: Most values kept for one version of a name: a flood of keys (unknown login tokens, say)
#: cannot grow a worker without bound.
MAX_CACHED = 10_000
_cached: dict[tuple[str, str], tuple[tuple[Any, ...], dict[Hashable, Any]]] = {}


def cached(session: Session, name: str, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, kept per process and database under ``key`` while the version ``name`` is
    the one ``session`` sees; called again (in ``session``) once it changed. All values kept
    for one version are dropped together when ``session`` sees another."""
    version = current(session, name)
    slot = (name, str(session.get_bind().engine.url))
    held = _cached.get(slot)
    if held is None or held[0] != version:
        held = _cached[slot] = (version, {})
    values = held[1]
    if key in values:
        return values[key]  # type: ignore[no-any-return]
    value = load()
    if len(values) >= MAX_CACHED:
        values.clear()
    values[key] = value
    return value


def forget(session: Session) -> None:
    """Drop the transaction's versions: the next :func:`current` reads them again."""
    session.info.pop(_MEMO, None)


# --- bumping the watched topics ---------------------------------------------------------------


def _upsert(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(DataRevision.__table__).values(topic=bindparam("topic"), token=bindparam("token"))
    return stmt.on_conflict_do_update(
        index_elements=[DataRevision.topic], set_={"token": stmt.excluded.token}
    )


_UPSERTS = {name: _upsert(name) for name in ("postgresql", "sqlite")}


def _bump(session: Session, topics: Iterable[str]) -> None:
    conn = session.connection()
    stmt = _UPSERTS[conn.dialect.name]
    for topic in sorted(set(topics)):
        conn.execute(stmt, {"topic": topic, "token": secrets.token_hex(16)})
    forget(session)


@event.listens_for(Session, "before_flush")
def _bump_on_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not _topics:
        return
    changed = {
        _topics[type(obj)]
        for group in (session.new, session.dirty, session.deleted)
        for obj in group
        if type(obj) in _topics
    }
    if changed:
        _bump(session, changed)


@event.listens_for(Session, "do_orm_execute")
def _bump_on_statement(state: ORMExecuteState) -> None:
    if state.is_select or not (state.is_insert or state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    topic = _topics.get(mapper.class_) if mapper is not None else None
    if topic is not None:
        _bump(state.session, [topic])


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget_after(session: Session, *_args: Any) -> None:
    forget(session)
