"""The dashboard over HTTP on SQLite and PostgreSQL: summary, density, map cases, the change
stream (Server-Sent Events), roles, jurisdiction and bad input."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from gridgov import migrate
from gridgov.accounts.models import User
from gridgov.app import create_app
from gridgov.cases import service
from gridgov.config import Settings
from gridgov.dashboard import stream
from gridgov.dashboard.api import get_session_opener
from gridgov.db import make_engine
from gridgov.deps import get_current_user, get_optional_user, get_session
from gridgov.errors import Unauthorized
from gridgov.regions import geocode
from tests.factories.regions import X0, Y0, D
from tests.unit.cases_db.world import GARBAGE, LAT, LON, World, build


class As:
    user: User | None = None
    session: Session
    lock: threading.Lock


@pytest.fixture
def w(session: Session) -> World:
    return build(session)


@pytest.fixture
def api(client: TestClient, session: Session, w: World) -> Iterator[tuple[TestClient, As]]:
    """The app with the user chosen per request; the stream's polls and the other requests
    take turns on the test's one session (a lock), as separate sessions would in production."""
    who = As()
    lock = threading.Lock()
    app = client.app  # type: ignore[attr-defined]

    def current() -> User:
        if who.user is None:
            raise Unauthorized("please log in")
        return who.user

    def one_session(request: Request) -> Iterator[Session]:
        if request.url.path.endswith("/dashboard/stream"):
            yield session  # the stream's own request reads before any other request starts
            return
        with lock:
            yield session
            session.flush()

    @contextmanager
    def poll_session() -> Iterator[Session]:
        with lock:
            yield session

    app.dependency_overrides[get_current_user] = current
    app.dependency_overrides[get_optional_user] = lambda: who.user
    app.dependency_overrides[get_session] = one_session
    app.dependency_overrides[get_session_opener] = lambda: poll_session
    app.state.settings = app.state.settings.model_copy(
        update={
            "dashboard_poll_seconds": 0.1,
            "dashboard_heartbeat_seconds": 0.3,
            "dashboard_stream_max_seconds": 8.0,
        }
    )
    who.session, who.lock = session, lock
    yield client, who


def _report(c: TestClient, who: As, w: World, lon: float = LON, lat: float = LAT) -> str:
    """A supervisor's report, committed to the test's session while the stream may be polling
    (the photo ids of ``POST /api/cases`` are checked against the media store; the service is
    called directly so the test needs no upload)."""
    with who.lock:
        case = service.create_case(
            who.session,
            actor=w.supervisor if lon < X0 + 4 * D else w.far_supervisor,
            channel="supervisor",
            subclass=GARBAGE,
            subclass_kind="event",
            urgency="normal",
            lon=lon,
            lat=lat,
            description="垃圾",
            photos=["p1"],
            now=datetime.now(UTC),
        )
        who.session.flush()
    return case.case_no


def _events(lines: Iterator[str], until: str, limit: float = 6.0) -> list[dict[str, Any]]:
    """SSE messages read until one named ``until`` (or the time limit)."""
    out: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    deadline = time.monotonic() + limit
    for line in lines:
        if line.startswith(":"):
            out.append({"event": "heartbeat"})
        elif line.startswith("event: "):
            current["event"] = line[7:]
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line == "" and current:
            out.append(current)
            if current.get("event") == until:
                return out
            current = {}
        if time.monotonic() > deadline:
            break
    return out


def test_summary_for_a_leader_and_a_street_lead(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    _report(c, who, w)
    _report(c, who, w, X0 + 4.5 * D, Y0 + 1.5 * D)
    who.user = w.leader
    r = c.get("/api/dashboard/summary")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["today"] == {"reported": 2, "registered": 0, "closed": 0}
    assert data["open"] == 2 and data["open_by_state"] == {"reported": 2}
    assert data["timezone"] == "Asia/Shanghai"
    assert [s["code"] for s in data["streets"]] == ["110188001", "110188002"]
    assert len(data["trend"]) == 14 and data["trend"][-1]["reported"] == 2
    assert data["top_subclasses"]["items"][0] == {
        "kind": "event",
        "code": GARBAGE,
        "name": data["top_subclasses"]["items"][0]["name"],
        "count": 2,
    }
    ranking = data["ranking"]
    assert ranking["formula"] == "按期结案数 / 应结案数" and ranking["definition"]
    assert ranking["items"] == []
    who.user = w.far_lead
    far = c.get("/api/dashboard/summary").json()
    assert far["today"]["reported"] == 1 and [s["code"] for s in far["streets"]] == ["110188002"]


def test_density_and_map_cases(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    first = _report(c, who, w)
    second = _report(c, who, w)
    who.user = w.dispatcher
    density = c.get("/api/dashboard/density", params={"days": 7}).json()
    assert density["days"] == 7
    assert list(density["grids"].values()) == [{"reported": 2, "open": 2, "overdue": 0}]
    r = c.get("/api/dashboard/cases.geojson", params={"limit": 1})
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert (body["count"], body["total"], body["truncated"]) == (1, 2, True)
    assert body["features"][0]["properties"]["case_no"] == second
    props = body["features"][0]["properties"]
    assert {"case_no", "state", "subclass", "subclass_code", "light", "grid_code"} <= set(props)
    full = c.get("/api/dashboard/cases.geojson").json()
    assert [f["properties"]["case_no"] for f in full["features"]] == [second, first]
    assert full["truncated"] is False and full["limit"] == 5000
    boxed = c.get(
        "/api/dashboard/cases.geojson", params={"bbox": f"{X0 + 4 * D},{Y0},{X0 + 8 * D},{Y0 + D}"}
    ).json()
    assert boxed["features"] == []


def test_bad_parameters_are_422_naming_them(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.leader

    def field(r) -> str:  # type: ignore[no-untyped-def]
        body = r.json()
        return (body.get("where") or {}).get("field") or body["problems"][0]["field"]

    r = c.get("/api/dashboard/density", params={"days": 0})
    assert r.status_code == 422 and field(r) == "days"
    r = c.get("/api/dashboard/density", params={"days": "week"})
    assert r.status_code == 422 and field(r) == "days"
    r = c.get("/api/dashboard/cases.geojson", params={"bbox": "1,2,3"})
    assert r.status_code == 422 and field(r) == "bbox"
    r = c.get("/api/dashboard/cases.geojson", params={"bbox": "200,0,201,1"})
    assert r.status_code == 422 and field(r) == "bbox"
    r = c.get("/api/dashboard/cases.geojson", params={"limit": 0})
    assert r.status_code == 422 and field(r) == "limit"


@pytest.mark.parametrize(
    "path",
    [
        "/api/dashboard/summary",
        "/api/dashboard/density",
        "/api/dashboard/cases.geojson",
        "/api/dashboard/stream",
    ],
)
def test_roles(api, w: World, path: str):  # type: ignore[no-untyped-def]
    c, who = api
    assert c.get(path).status_code == 401
    for user in (w.supervisor, w.acceptor, w.department, w.resident):
        who.user = user
        r = c.get(path)
        assert r.status_code == 403 and r.json()["code"] == "forbidden_role", (user.role, path)


def test_stream_pushes_a_change_after_a_case_is_created(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.leader
    with c.stream("GET", "/api/dashboard/stream") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"] == "no-cache"
        lines = r.iter_lines()
        first = _events(lines, "summary")
        summary = first[-1]
        assert summary["event"] == "summary"
        assert summary["data"]["today"]["reported"] == 0 and summary["data"]["open"] == 0
        started = time.monotonic()
        _report(c, who, w)
        seen = _events(lines, "changed")
        elapsed = time.monotonic() - started
        changed = seen[-1]
        assert changed["event"] == "changed", seen
        assert changed["data"]["today"]["reported"] == 1 and changed["data"]["open"] == 1
        assert changed["id"] > summary["id"]
        assert elapsed < 2.0
        assert stream.active_streams() >= 1
    deadline = time.monotonic() + 3
    while stream.active_streams() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stream.active_streams() == 0  # the loop stopped with the client


def test_stream_ignores_changes_outside_the_jurisdiction(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.far_lead
    with c.stream("GET", "/api/dashboard/stream") as r:
        lines = r.iter_lines()
        assert _events(lines, "summary")[-1]["data"]["open"] == 0
        _report(c, who, w)  # in the other street
        seen = _events(lines, "changed", limit=1.5)
        assert [e["event"] for e in seen if e["event"] != "heartbeat"] == []
        assert any(e["event"] == "heartbeat" for e in seen)
        _report(c, who, w, X0 + 4.5 * D, Y0 + 1.5 * D)  # in theirs
        changed = _events(lines, "changed")[-1]
        assert changed["event"] == "changed" and changed["data"]["open"] == 1


def test_stream_ends_and_asks_the_browser_to_reconnect(api, w: World):  # type: ignore[no-untyped-def]
    c, who = api
    who.user = w.leader
    app = c.app  # type: ignore[attr-defined]
    app.state.settings = app.state.settings.model_copy(update={"dashboard_stream_max_seconds": 0.5})
    with c.stream("GET", "/api/dashboard/stream") as r:
        text = "\n".join(r.iter_lines())
    assert text.startswith("retry: 3000")
    # The stream ended by itself (iter_lines returned) after telling the browser to reconnect.
    assert "event: summary" in text and text.rstrip().endswith('data: {"after_ms": 3000}')


# ---- a real server: committed data, separate worker sessions --------------------------------

PG_ADMIN_URL = os.environ.get(
    "GRIDGOV_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def _database(kind: str, tmp_path: Path) -> Iterator[Engine]:
    """A migrated database of this test's own (its rows are committed, not rolled back)."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'served.db'}")
        migrate.upgrade(engine)
        yield engine
        engine.dispose()
        return
    name = f"gridgov_sse_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is not there: as the shared fixtures do
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _serve(app: Any) -> Iterator[str]:
    """The app on a real uvicorn server in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _idle_in_transaction(engine: Engine) -> int:
    """Connections to this database left idle inside a transaction (PostgreSQL)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                        "AND state LIKE 'idle in transaction%'"
                    ),
                    {"db": engine.url.database},
                ).scalar_one()
            )
    finally:
        admin.dispose()


def _settles_without_open_transactions(engine: Engine, seconds: float = 2.0) -> bool:
    """No connection idle inside a transaction at some moment within ``seconds``. A poll caught
    between its statements shows as one for a moment; a transaction left open stays."""
    deadline = time.monotonic() + seconds
    while _idle_in_transaction(engine):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_stream_on_a_real_server_sees_a_committed_case(kind: str, tmp_path: Path) -> None:
    with _database(kind, tmp_path) as engine:
        with Session(engine, expire_on_commit=False) as s:
            w = build(s)
            s.commit()
        settings = Settings(
            data_dir=tmp_path,
            environment="test",
            dashboard_poll_seconds=0.2,
            dashboard_heartbeat_seconds=1.0,
        )
        app = create_app(settings, engine)
        app.dependency_overrides[get_current_user] = lambda: w.leader
        with _serve(app) as base, httpx.Client(base_url=base, timeout=10) as http:
            with http.stream("GET", "/api/dashboard/stream") as r:
                assert r.status_code == 200
                lines = r.iter_lines()
                assert _events(lines, "summary")[-1]["data"]["open"] == 0
                time.sleep(0.6)  # a few polls: none of them may leave a transaction open
                if kind == "postgresql":
                    assert _settles_without_open_transactions(engine)
                started = time.monotonic()
                with Session(engine) as s:
                    service.create_case(
                        s,
                        actor=s.get(User, w.supervisor.id),
                        channel="supervisor",
                        subclass=GARBAGE,
                        subclass_kind="event",
                        urgency="normal",
                        lon=LON,
                        lat=LAT,
                        description="垃圾",
                        photos=["p1"],
                        now=datetime.now(UTC),
                    )
                    s.commit()
                changed = _events(lines, "changed")[-1]
                assert changed["event"] == "changed" and changed["data"]["open"] == 1
                assert time.monotonic() - started < 2.0
            deadline = time.monotonic() + 5
            while stream.active_streams() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert stream.active_streams() == 0
        geocode.invalidate()
