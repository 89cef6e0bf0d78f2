"""Rate limits shared by every app worker: sliding-window counters in the database.

Public endpoints (photo uploads, the public report and tracking endpoints) allow at most
``limit`` events per key (``ip:<address>``, ``user:<id>`` …) in a window of ``window_seconds``.
Several app workers — processes, on PostgreSQL even machines — see one count because the
counters live in the table
``rate_limit_counter(key, window_start, count)`` (primary key = the unique ``(key,
window_start)``), one row per key and fixed window.

**Algorithm (sliding-window counter).** At time ``t`` in the window starting at ``ws``, with
``f = (t - ws) / window`` of it gone, a hit is allowed when
``previous_count * (1 - f) + current_count <= limit``: the previous window's events are assumed
spread evenly, so the limit holds approximately over *any* window-long span, without the 2×
burst a plain fixed window allows at its edges. A refused hit is not counted, so a client that
waits for ``Retry-After`` gets through.

**Atomicity.** The current window's counter is incremented with one
``INSERT … ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count``
(SQLAlchemy's PostgreSQL and SQLite dialect inserts; SQLite ≥ 3.35). The row (PostgreSQL) or the
database (SQLite) stays locked until the short transaction ends, so a refusal takes its increment
back before anyone else sees it; concurrent workers never let more than ``limit`` through.

**Own connection.** The limiter runs in its own short transaction on its own connection, from
a pool of its own (:func:`limiter_engine`): a hit is counted even when the request's transaction
later rolls back, and requests that already hold a pooled connection never wait for the pool
they hold. On PostgreSQL that pool reaches the app's database and the migrated table. SQLite
has one writer per file, and the app's write sessions take that lock when they begin
(``BEGIN IMMEDIATE``, see :mod:`gridgov.db`): a limiter writing to the same file from inside
such a request would wait for a lock its own request holds. So on SQLite the counters live in a
sidecar file beside the database (``gridgov.db`` → ``gridgov.ratelimit.db``, same table, created
on first use), shared by every process on the machine and locked only for the microseconds of an
upsert. Should the limiter still not get its lock within :data:`SQLITE_LOCK_WAIT_MS`, the hit is
allowed and a warning logged rather than stalling the request. Old windows are deleted
opportunistically, at most once a window per limiter and process.

The 429 answer is :class:`RateLimited` (code ``rate_limited``); routes of a router built with
``route_class=RateLimitRoute`` answer it with a ``Retry-After`` header (whole seconds).
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import BigInteger, Engine, Integer, String, event, select, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import CreateIndex, CreateTable

from gridgov.db import Base, make_engine
from gridgov.errors import GridgovError

log = logging.getLogger("gridgov.ratelimit")

WINDOW_SECONDS = 60
#: Longest time the limiter waits for SQLite's write lock before it lets the hit through.
SQLITE_LOCK_WAIT_MS = 2000
KEY_MAX = 200
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,39}")


class RateLimitCounter(Base):
    """Hits of one key in one fixed window (``window_start``: Unix seconds, a multiple of the
    limiter's window)."""

    __tablename__ = "rate_limit_counter"

    key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True)
    window_start: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, index=True
    )
    count: Mapped[int] = mapped_column(Integer, nullable=False)


class RateLimited(GridgovError):
    """A client sent more requests than the rate limit allows (429 with ``Retry-After``)."""

    status = 429
    code = "rate_limited"

    def __init__(
        self, message: str, *, retry_after: int = WINDOW_SECONDS, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after))

    @property
    def headers(self) -> dict[str, str]:
        """The HTTP headers of the answer: ``Retry-After`` in whole seconds."""
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class RateLimitDecision:
    """The outcome of one hit; true when allowed (so ``if not limiter.hit(key)`` reads well)."""

    allowed: bool
    #: Seconds until a new hit would be allowed (0 when this one was).
    retry_after: int
    #: The sliding estimate of hits in the last window, this one included.
    estimate: float
    limit: int

    def __bool__(self) -> bool:
        return self.allowed


class RateLimiter:
    """At most ``limit`` hits per key in any ``window_seconds`` (sliding-window counter), counted
    in the database behind ``engine`` so every worker shares the count.

    ``name`` namespaces the keys (``<name>:<key>``) so limiters with different windows share the
    table without pruning each other's rows. ``clock`` (Unix seconds) can be injected by tests;
    ``hit(key, now=...)`` overrides it for one call.
    """

    def __init__(
        self,
        engine: Engine,
        limit: int,
        *,
        name: str = "default",
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1:
            raise ValueError("a rate limit allows at least one hit per window")
        if window_seconds < 1:
            raise ValueError("a rate-limit window is at least one second")
        if not _NAME.fullmatch(name):
            raise ValueError(f"rate limiter names are short lower-case words, not {name!r}")
        self.engine = engine
        self.limit = limit
        self.name = name
        self.window = int(window_seconds)
        self.clock = clock
        self._next_prune = -math.inf
        self._prune_lock = threading.Lock()

    def key(self, key: str) -> str:
        """The stored key: ``<name>:<key>``, or ``<name>:#<sha256>`` when that would be too long."""
        full = f"{self.name}:{key}"
        if len(full) <= KEY_MAX:
            return full
        return f"{self.name}:#{hashlib.sha256(key.encode('utf-8')).hexdigest()}"

    def hit(self, key: str, now: float | None = None) -> RateLimitDecision:
        """Count one hit of ``key``; refused (and not counted) when over the limit."""
        t = self.clock() if now is None else float(now)
        w = self.window
        ws = int(t // w) * w
        elapsed = (t - ws) / w
        stored = self.key(key)
        table = RateLimitCounter.__table__
        try:
            with self.engine.begin() as conn:
                count = int(conn.execute(_upsert(self.engine, stored, ws)).scalar_one())
                prev = conn.execute(
                    select(table.c.count).where(
                        table.c.key == stored, table.c.window_start == ws - w
                    )
                ).scalar_one_or_none()
                prev = int(prev or 0)
                estimate = prev * (1.0 - elapsed) + count
                allowed = estimate <= self.limit + 1e-9
                if not allowed:
                    conn.execute(
                        update(table)
                        .where(table.c.key == stored, table.c.window_start == ws)
                        .values(count=table.c.count - 1)
                    )
        except OperationalError as exc:
            if not _is_sqlite_lock(exc):
                raise
            log.warning("rate limiter %s: database locked; allowing %s", self.name, stored)
            return RateLimitDecision(True, 0, 0.0, self.limit)
        self._maybe_prune(t, ws)
        if allowed:
            return RateLimitDecision(True, 0, estimate, self.limit)
        wait = _retry_after(prev, count - 1, self.limit, t - ws, w)
        return RateLimitDecision(False, wait, estimate, self.limit)

    def prune(self, now: float | None = None) -> int:
        """Delete this limiter's windows that no longer count (older than the previous one)."""
        t = self.clock() if now is None else float(now)
        cutoff = int(t // self.window) * self.window - self.window
        table = RateLimitCounter.__table__
        with self.engine.begin() as conn:
            result = conn.execute(
                table.delete().where(
                    table.c.key.startswith(f"{self.name}:", autoescape=True),
                    table.c.window_start < cutoff,
                )
            )
        return int(result.rowcount or 0)

    def _maybe_prune(self, t: float, ws: int) -> None:
        """Prune at most once a window per limiter and process; never fail the hit for it."""
        with self._prune_lock:
            if t < self._next_prune:
                return
            self._next_prune = ws + self.window
        try:
            self.prune(t)
        except DBAPIError as exc:  # best effort: another worker may be pruning the same rows
            log.info("rate limiter %s: pruning skipped (%s)", self.name, exc.__class__.__name__)


def _upsert(engine: Engine, key: str, window_start: int) -> Any:
    """``INSERT … ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING``."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover - gridgov supports these two
        raise NotImplementedError(f"no rate-limit upsert for {dialect}")
    table = RateLimitCounter.__table__
    stmt = insert(table).values(key=key, window_start=window_start, count=1)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.key, table.c.window_start],
        set_={"count": table.c.count + 1},
    ).returning(table.c.count)


def _retry_after(prev: int, cur: int, limit: int, into: float, window: int) -> int:
    """Whole seconds until one more hit fits, given ``prev`` hits in the previous window, ``cur``
    counted in the current one and ``into`` seconds of it gone (no other hits assumed)."""
    room = limit - cur - 1  # what the previous window's weight must shrink to
    if room >= 0 and prev > 0:
        needed = (1.0 - room / prev) * window  # seconds into this window
        if needed < window:
            return max(1, math.ceil(needed - into - 1e-9))
    # Next window: the current count becomes the previous one.
    g = max(0.0, 1.0 - (limit - 1) / cur) if cur > 0 else 0.0
    return max(1, math.ceil(window - into + g * window - 1e-9))


def _is_sqlite_lock(exc: OperationalError) -> bool:
    return "database is locked" in str(exc.orig) or "database table is locked" in str(exc.orig)


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _short_busy_timeout(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_WAIT_MS)}")
    cur.close()


def sidecar_path(database: str) -> Path:
    """The SQLite file holding the counters of the database file ``database``."""
    path = Path(database)
    return path.with_name(f"{path.stem}.ratelimit{path.suffix or '.db'}")


def limiter_engine(engine: Engine) -> Engine:
    """The engine the app's limiters use, one per database and process, with a small pool of
    its own so the limiter's connection never competes with the request's: on PostgreSQL the
    same database, on SQLite the sidecar file (:func:`sidecar_path`, schema created here). An
    in-memory SQLite database has no file beside it: ``engine`` itself is returned."""
    url = engine.url
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and (not url.database or url.database == ":memory:" or "memory" in str(url.query)):
        return engine
    if sqlite:
        assert url.database is not None
        url = url.set(database=str(sidecar_path(url.database)))
    key = url.render_as_string(hide_password=False)
    with _engines_lock:
        own = _engines.get(key)
        if own is None:
            own = make_engine(key, pool_size=2, max_overflow=8)
            if sqlite:
                event.listen(own, "connect", _short_busy_timeout)
                _create_schema(own)
            _engines[key] = own
        return own


def _create_schema(engine: Engine) -> None:
    """The counter table in a sidecar file (``IF NOT EXISTS``: several processes may race)."""
    table = RateLimitCounter.__table__
    with engine.begin() as conn:
        conn.execute(CreateTable(table, if_not_exists=True))
        for index in table.indexes:
            conn.execute(CreateIndex(index, if_not_exists=True))


def app_limiter(
    request: Request, name: str, limit: int, *, window_seconds: int = WINDOW_SECONDS
) -> RateLimiter:
    """The app's limiter called ``name`` (kept on ``app.state`` and rebuilt when its limit,
    window or database changes), on the app engine's own limiter pool."""
    state = request.app.state
    limiters: dict[str, RateLimiter] | None = getattr(state, "rate_limiters", None)
    if limiters is None:
        limiters = state.rate_limiters = {}
    engine = limiter_engine(state.engine)
    limiter = limiters.get(name)
    if (
        limiter is None
        or limiter.limit != limit
        or limiter.window != window_seconds
        or limiter.engine is not engine
    ):
        limiter = RateLimiter(engine, limit, name=name, window_seconds=window_seconds)
        limiters[name] = limiter
    return limiter


def enforce(
    request: Request,
    name: str,
    key: str,
    limit: int,
    *,
    message: str,
    window_seconds: int = WINDOW_SECONDS,
) -> RateLimitDecision:
    """Count one hit of ``key`` on the app's limiter ``name``; raise :class:`RateLimited` (429
    with ``Retry-After``) when over the limit. Safe at any point of a request: the count is
    committed at once on the limiter's own connection (and, on SQLite, its own file)."""
    decision = app_limiter(request, name, limit, window_seconds=window_seconds).hit(key)
    if not decision:
        raise RateLimited(message, retry_after=decision.retry_after)
    return decision


def requester_key(request: Request) -> str:
    """Whom a public request counts against: the login session's token hash when there is
    one, else the IP address."""
    from gridgov.accounts.auth import hash_token, request_token  # accounts builds on this module

    token = request_token(request)
    return f"session:{hash_token(token)[:32]}" if token else client_key(request)


def enforce_public(request: Request, name: str, limit: int) -> RateLimitDecision:
    """Count one hit of the requester (:func:`requester_key`) on the public limiter ``name``,
    at most ``limit`` a minute."""
    message = f"too many requests; at most {limit} a minute"
    return enforce(request, name, requester_key(request), limit, message=message)


def client_key(request: Request, user_id: int | None = None) -> str:
    """``user:<id>`` for a logged-in client, else ``ip:<address>`` of the connection."""
    if user_id is not None:
        return f"user:{user_id}"
    return f"ip:{request.client.host if request.client else 'unknown'}"


class RateLimitRoute(APIRoute):
    """A route that answers :class:`RateLimited` — raised by the endpoint or a dependency — with
    the usual JSON error body and a ``Retry-After`` header (``router = APIRouter(route_class=
    RateLimitRoute)``)."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RateLimited as exc:
                return JSONResponse(exc.to_dict(), status_code=exc.status, headers=exc.headers)

        return handle
