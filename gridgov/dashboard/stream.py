"""The dashboard's event stream (变化推送, Server-Sent Events) without a message broker.

Every ``poll_seconds`` the stream asks the database for a change marker — the newest case event
id and how many events lie in the last :data:`WINDOW` ids (so an event that commits after a
newer one is still noticed) — in a short session of its own, closed at once: no transaction
stays open between polls, and several app workers each poll the same table, so no Redis or
other broker is needed. When the marker moves, the ids of the recent events in the user's
jurisdiction tell whether anything there changed; only then does the stream send a
``changed`` event with the new counts (other jurisdictions' changes are neither sent nor
hinted at). Counts are also recomputed every :data:`REFRESH_SECONDS`, since lights turn yellow
and red with time alone, and sent when they differ. A comment line is sent as a heartbeat every
``heartbeat_seconds``; the stream ends after ``max_seconds`` and the browser's EventSource
reconnects by itself (``retry``). A client that goes away ends the loop at its next poll.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from gridgov.accounts.scope import Scope
from gridgov.cases.models import Case, CaseEvent
from gridgov.dashboard import service

#: How many of the newest event ids the marker and the jurisdiction check look at.
WINDOW = 1000
#: Counts are recomputed this often even without events (lights change with time).
REFRESH_SECONDS = 60.0
#: What the browser waits before reconnecting (milliseconds).
RETRY_MS = 3000

SessionOpener = Callable[[], AbstractContextManager[Session]]

_active = 0
_active_lock = threading.Lock()


def active_streams() -> int:
    """How many dashboard streams this process is serving now."""
    return _active


def _count(delta: int) -> None:
    global _active
    with _active_lock:
        _active += delta


@dataclass(frozen=True)
class Marker:
    """The newest event id and the number of events among the last :data:`WINDOW` ids."""

    top: int
    recent: int


def marker(session: Session) -> Marker:
    """The change marker: two index lookups on ``case_event``'s primary key."""
    top = service.change_marker(session)
    recent = session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.id > top - WINDOW)
    )
    return Marker(top, int(recent or 0))


def scoped_recent_ids(session: Session, scope: Scope, top: int) -> frozenset[int]:
    """Ids of the last :data:`WINDOW` events that belong to cases in the scope."""
    stmt = (
        select(CaseEvent.id)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.id > top - WINDOW)
    )
    return frozenset(session.scalars(service.scoped(stmt, scope)))


def event(name: str, data: dict[str, Any], event_id: int | None = None) -> str:
    """One SSE message: ``id``, ``event`` and a one-line JSON ``data``."""
    lines = [] if event_id is None else [f"id: {event_id}"]
    lines.append(f"event: {name}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, default=str))
    return "\n".join(lines) + "\n\n"


@dataclass
class StreamState:
    """What the stream last saw and sent."""

    marker: Marker
    known: frozenset[int]
    counts: dict[str, Any]
    sent_at: float = field(default_factory=time.monotonic)
    refreshed_at: float = field(default_factory=time.monotonic)


def first_state(session: Session, scope: Scope, tz: ZoneInfo) -> StreamState:
    """The marker, the recent events in scope and the counts when the stream opens."""
    now = datetime.now(UTC)
    mark = marker(session)
    return StreamState(
        marker=mark,
        known=scoped_recent_ids(session, scope, mark.top),
        counts=service.counts(session, scope, service.Clock(now, tz)),
    )


def _payload(state: StreamState) -> dict[str, Any]:
    return {"marker": state.marker.top, "at": datetime.now(UTC).isoformat(), **state.counts}


def _poll(opener: SessionOpener) -> Marker:
    with opener() as session:
        return marker(session)


def _recheck(
    opener: SessionOpener, scope: Scope, tz: ZoneInfo, top: int, known: frozenset[int]
) -> tuple[frozenset[int], dict[str, Any]]:
    """The recent event ids in scope and the counts now, in one short session."""
    with opener() as session:
        ids = scoped_recent_ids(session, scope, top) if top else known
        counts = service.counts(session, scope, service.Clock(datetime.now(UTC), tz))
    return ids, counts


@dataclass(frozen=True)
class StreamTimes:
    poll_seconds: float
    heartbeat_seconds: float
    max_seconds: float
    refresh_seconds: float = REFRESH_SECONDS


async def dashboard_events(
    request: Request,
    *,
    scope: Scope,
    tz: ZoneInfo,
    opener: SessionOpener,
    state: StreamState,
    times: StreamTimes,
) -> AsyncIterator[str]:
    """The SSE body: ``summary`` at once, then ``changed`` on changes, heartbeats between."""
    _count(+1)
    try:
        yield f"retry: {RETRY_MS}\n\n"
        yield event("summary", _payload(state), state.marker.top)
        opened = time.monotonic()
        while True:
            await anyio.sleep(times.poll_seconds)
            if await request.is_disconnected():
                return
            now = time.monotonic()
            if now - opened >= times.max_seconds:
                yield event("reconnect", {"after_ms": RETRY_MS})
                return
            mark = await anyio.to_thread.run_sync(_poll, opener)
            refresh = now - state.refreshed_at >= times.refresh_seconds
            if mark != state.marker or refresh:
                ids, counts = await anyio.to_thread.run_sync(
                    _recheck, opener, scope, tz, mark.top, state.known
                )
                news = bool(ids - state.known)
                changed = news or counts != state.counts
                state.marker, state.known, state.refreshed_at = mark, ids, now
                if changed:
                    state.counts = counts
                    state.sent_at = now
                    yield event("changed", _payload(state), mark.top)
                    continue
            if now - state.sent_at >= times.heartbeat_seconds:
                state.sent_at = now
                yield f": heartbeat {datetime.now(UTC).isoformat()}\n\n"
    finally:
        _count(-1)
