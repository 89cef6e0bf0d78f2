"""Engine, sessions, the declarative base and the geometry column type.

Geometry is stored as WKB with bounding-box columns beside it, so SQLite and PostgreSQL both
index it with ordinary B-trees and no spatial extension is required (DESIGN §4.3).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    Column,
    ColumnDefault,
    Connection,
    DateTime,
    Engine,
    Enum,
    Insert,
    LargeBinary,
    MetaData,
    Select,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    true,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapper,
    Session,
    SessionTransaction,
    make_transient_to_detached,
    sessionmaker,
)
from sqlalchemy.types import TypeDecorator

from gridgov.config import Settings, get_settings

#: Execution option marking a read-only engine view (no write lock taken on SQLite).
READ_ONLY_OPTION = "gridgov_read_only"

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


def str_enum(cls: type[StrEnum], name: str) -> Enum:
    """A StrEnum stored as its lower_snake value in a VARCHAR (no native enum to migrate)."""
    return Enum(
        cls, name=name, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; gridgov stores UTC-aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Geometry(TypeDecorator[BaseGeometry]):
    """A shapely geometry stored as WKB (WGS84 lon/lat)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: BaseGeometry | None, dialect: Any) -> bytes | None:
        return None if value is None else shapely.to_wkb(value)

    def process_result_value(self, value: bytes | None, dialect: Any) -> BaseGeometry | None:
        return None if value is None else shapely.from_wkb(value)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling sends no BEGIN before a SAVEPOINT, so releasing a
    # savepoint with nothing written yet commits for real. Take over: autocommit at the driver
    # level, BEGIN emitted by SQLAlchemy (the documented pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take SQLite's write lock when they begin (BEGIN IMMEDIATE), waiting for it under
    # busy_timeout. A deferred transaction that reads first and writes later fails at once with
    # "database is locked" when another connection committed in between (WAL snapshots cannot
    # be upgraded), and no timeout helps. Read-only sessions (see session_factory) stay
    # deferred so readers never queue behind writers or each other.
    read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kw)


_engines: dict[str, Engine] = {}


def get_engine(settings: Settings | None = None) -> Engine:
    settings = settings or get_settings()
    url = settings.db_url
    if url not in _engines:
        pool: dict[str, Any] = {}
        if not settings.is_sqlite:
            pool = {
                "pool_size": settings.db_pool_size,
                "max_overflow": settings.db_max_overflow,
                "pool_timeout": settings.db_pool_timeout,
            }
        _engines[url] = make_engine(url, **pool)
    return _engines[url]


def session_factory(
    engine: Engine | None = None, *, read_only: bool = False
) -> sessionmaker[Session]:
    """Sessions on ``engine``. ``read_only`` sessions are meant for requests that only read
    (GET): on SQLite they begin a deferred transaction instead of taking the write lock, and
    ``session.info["read_only"]`` tells code that would write opportunistically to skip it."""
    engine = engine or get_engine()
    makers = _session_makers.get(engine)
    if makers is None:
        makers = _session_makers[engine] = {}
    maker = makers.get(read_only)
    if maker is None:
        bind = _read_only_bind(engine) if read_only else engine
        info = {"read_only": read_only}  # each session gets a copy
        maker = makers[read_only] = sessionmaker(bind=bind, expire_on_commit=False, info=info)
    return maker


# One sessionmaker per engine and mode: building one (a Session subclass of its own) costs
# several times opening a session, and every request opens one.
_session_makers: weakref.WeakKeyDictionary[Engine, dict[bool, sessionmaker[Session]]] = (
    weakref.WeakKeyDictionary()
)
_read_only_binds: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def _read_only_bind(engine: Engine) -> Engine:
    """``engine`` with the read-only option, one per engine: caches keyed by a session's bind
    (the working calendar's) must see the same bind on every request."""
    bind = _read_only_binds.get(engine)
    if bind is None:
        bind = _read_only_binds[engine] = engine.execution_options(**{READ_ONLY_OPTION: True})
    return bind


_BEGUN = "gridgov.db.begun"


@event.listens_for(Session, "after_begin")
def _note_begin(session: Session, transaction: SessionTransaction, _connection: Any) -> None:
    if not transaction.nested:
        session.info[_BEGUN] = transaction


def _began(session: Session) -> bool:
    """Whether ``session``'s current transaction has begun on the database (``merge`` and other
    ORM calls open the session's transaction without touching the database)."""
    current = session.get_transaction()
    return current is not None and session.info.get(_BEGUN) is current


@contextmanager
def read_first(session: Session) -> Iterator[Session]:
    """The session for the reads a write makes before it writes.

    A SQLite write session takes the database's write lock with its first statement (``BEGIN
    IMMEDIATE``, see :func:`_sqlite_begin`), so reads made through it hold every other writer
    up. While such a session has not begun, this yields a read-only session on the same
    engine (closed on exit: hand over its rows with ``session.merge(row, load=False)``);
    otherwise — PostgreSQL, a read-only or begun session — ``session`` itself.
    """
    bind = session.get_bind()
    if (
        bind.dialect.name != "sqlite"
        or session.info.get("read_only")
        or _began(session)
        or not isinstance(bind, Engine)
    ):
        yield session
        return
    with session_factory(bind, read_only=True)() as reader:
        yield reader


@contextmanager
def detached_loader(session: Session) -> Iterator[Session]:
    """A session of its own on ``session``'s connection, for loading objects a process shares
    between requests (see :mod:`gridgov.revisions`): it sees the same transaction as
    ``session`` (the one a cache's version was read in) and none of its objects, and all it
    loaded is detached when the block ends."""
    with Session(bind=session.connection()) as loader:
        yield loader
        loader.expunge_all()


@contextmanager
def session_scope(engine: Engine | None = None, *, read_only: bool = False) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    session = session_factory(engine, read_only=read_only)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_now(session: Session, obj: Base, *, unless_taken: str | None = None) -> bool:
    """INSERT a new mapped object through its table at once, then attach it to ``session`` as
    if loaded, so later changes to it are ordinary UPDATEs. True when the row was written.

    One statement and no unit-of-work flush, which costs several times the INSERT itself: for
    the rows every report and action writes (cases, events, deadlines, audit). Columns left
    unset get their defaults in the statement and come back with it (``RETURNING``). With
    ``unless_taken`` (the attribute of a unique column) a row whose value is already stored is
    skipped (``ON CONFLICT DO NOTHING``): False, and ``obj`` stays out of the session. Only for
    classes with no relationships to fill, and rows whose foreign keys are already stored.
    Inside :func:`inserts_together` the row is written when that block ends.
    """
    queued: list[Base] | None = session.info.get(_QUEUED)
    if queued is not None:
        if unless_taken is not None:
            raise TypeError("insert_now(unless_taken=…) cannot wait for inserts_together")
        queued.append(obj)
        return True
    mapper: Mapper[Any] = sa_inspect(obj).mapper
    given, missing = _split(mapper, obj)
    stmt = _insert_returning(mapper, missing, unless_taken, session.get_bind().dialect.name)
    row = session.execute(stmt, given).first()
    if row is None:
        return False
    _attach(session, obj, missing, row)
    return True


_QUEUED = "gridgov.db.inserts_together"


@contextmanager
def inserts_together(session: Session) -> Iterator[None]:
    """Write the rows :func:`insert_now` is given inside the block together, as it ends.

    On PostgreSQL that is one statement: each row's ``INSERT … RETURNING`` a data-modifying
    ``WITH`` of a single ``SELECT`` (a report's event, deadline and audit rows: one round trip
    instead of three). SQLite has no INSERT inside a WITH, and no round trips to save: there
    the rows are inserted one by one. Until the block ends the rows are not in the database:
    nothing inside it may read them. When the block raises, none is written.
    """
    if _QUEUED in session.info:
        raise RuntimeError("inserts_together blocks do not nest")
    queued: list[Base] = []
    session.info[_QUEUED] = queued
    try:
        yield
    finally:
        del session.info[_QUEUED]
    if session.get_bind().dialect.name != "postgresql" or len(queued) < 2:
        for obj in queued:
            insert_now(session, obj)
        return
    shapes: list[tuple[Mapper[Any], tuple[str, ...], tuple[str, ...]]] = []
    params: dict[str, Any] = {}
    for i, obj in enumerate(queued):
        mapper: Mapper[Any] = sa_inspect(obj).mapper
        given, missing = _split(mapper, obj, python_defaults=True)
        shapes.append((mapper, tuple(given), missing))
        params.update({f"r{i}_{column}": value for column, value in given.items()})
    stmt, widths = _insert_chain(tuple(shapes))
    row = session.execute(stmt, params).one()
    at = 0
    for obj, (_, _, missing), width in zip(queued, shapes, widths, strict=True):
        _attach(session, obj, missing, row[at : at + width])
        at += width


def _split(
    mapper: Mapper[Any], obj: Base, *, python_defaults: bool = False
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The values ``obj`` was given, by column key, and the attribute keys it was not. With
    ``python_defaults`` a column's Python-side default (a value or a function of no arguments)
    counts as given: SQLAlchemy cannot fill those in for an INSERT inside a WITH."""
    given: dict[str, Any] = {}
    missing: list[str] = []
    for key, column in _column_keys(mapper):
        if key in obj.__dict__:
            given[column] = obj.__dict__[key]
            continue
        default = mapper.columns[key].default if python_defaults else None
        if isinstance(default, ColumnDefault) and default.is_scalar:
            given[column] = default.arg
        elif isinstance(default, ColumnDefault) and default.is_callable:
            given[column] = default.arg(None)  # type: ignore[operator]
        else:
            missing.append(key)
    return given, tuple(missing)


def _attach(session: Session, obj: Base, missing: tuple[str, ...], row: Any) -> None:
    """Set the values the database filled in and attach ``obj`` as a loaded object."""
    for key, value in zip(missing, row, strict=False):  # a primary key given comes last
        setattr(obj, key, value)
    make_transient_to_detached(obj)
    session.add(obj)


@functools.cache
def _column_keys(mapper: Mapper[Any]) -> tuple[tuple[str, str], ...]:
    """(attribute key, column key) of every column of ``mapper``."""
    return tuple((a.key, a.columns[0].key) for a in mapper.column_attrs)


@functools.cache
def _insert_returning(
    mapper: Mapper[Any], missing: tuple[str, ...], unless_taken: str | None, dialect: str
) -> Insert:
    """``INSERT INTO <table> … [ON CONFLICT (<unless_taken>) DO NOTHING] RETURNING <missing>``,
    built once per shape so SQLAlchemy compiles it once (the values travel as parameters). The
    primary key is always returned, so a skipped row is told by no row coming back."""
    table = mapper.local_table
    assert isinstance(table, Table)
    returned = _returned(mapper, missing)
    if unless_taken is None:
        return insert(table).returning(*returned)
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    unique = mapper.get_property(unless_taken).columns[0]  # type: ignore[attr-defined]
    return (
        dialect_insert(table).on_conflict_do_nothing(index_elements=[unique]).returning(*returned)
    )


def _returned(mapper: Mapper[Any], missing: tuple[str, ...]) -> list[Column[Any]]:
    """The columns an insert returns: the ``missing`` ones, then any primary key not among them."""
    table = mapper.local_table
    assert isinstance(table, Table)
    returned = [mapper.get_property(k).columns[0] for k in missing]  # type: ignore[attr-defined]
    return returned + [c for c in table.primary_key if c not in returned]


@functools.cache
def _insert_chain(
    shapes: tuple[tuple[Mapper[Any], tuple[str, ...], tuple[str, ...]], ...],
) -> tuple[Select[Any], tuple[int, ...]]:
    """``WITH row0 AS (INSERT … RETURNING …), row1 AS (…) SELECT row0.…, row1.… FROM row0,
    row1``, one ``(mapper, given column keys, missing attribute keys)`` per row; the values
    travel as parameters ``r<i>_<column>``. Also how many columns each row returns."""
    columns: list[Any] = []
    widths: list[int] = []
    rows: Any = None
    for i, (mapper, given, missing) in enumerate(shapes):
        table = mapper.local_table
        assert isinstance(table, Table)
        values = {table.c[c]: bindparam(f"r{i}_{c}", type_=table.c[c].type) for c in given}
        returned = _returned(mapper, missing)
        written = insert(table).values(values).returning(*returned).cte(f"row{i}")
        columns += [written.c[c.key] for c in returned]
        widths.append(len(returned))
        rows = written if rows is None else rows.join(written, true())  # one row each
    return select(*columns).select_from(rows), tuple(widths)
