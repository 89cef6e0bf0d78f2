"""Browser-test fixtures: a demo district served by uvicorn and a real headless Chromium.

The server runs in a thread on a free localhost port over a temporary SQLite database loaded with
``load_demo(scale=0.05, seed=1)``. Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright
(never Playwright's own browser download). Each test gets a fresh browser context and a
:class:`MapPage` that records console errors and every request to a host other than localhost.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from sqlalchemy import Engine, select

from gridgov import migrate
from gridgov.config import Settings
from gridgov.db import make_engine, session_scope
from gridgov.web import pages

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # WebGL on the CPU (SwiftShader): the explicit opt-in newer Chromium wants for it.
    "--enable-unsafe-swiftshader",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "build-output" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Schemes that never leave the browser (MapLibre starts its worker from a blob: URL).
LOCAL_SCHEMES = {"data", "blob", "about"}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class KnownGrid:
    """A grid of the demo district with a point inside it, for clicks and searches."""

    code: str
    name: str
    lon: float
    lat: float
    bbox: tuple[float, float, float, float]
    community_code: str
    community_name: str
    street_name: str


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    engine: Engine
    grid: KnownGrid
    address: str
    grid_count: int
    load_seconds: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _known_grid(engine: Engine) -> tuple[KnownGrid, str, int]:
    from gridgov.gazetteer.models import GazetteerEntry
    from gridgov.regions.models import Region, UnitGrid

    with session_scope(engine) as s:
        grids = list(
            s.scalars(select(UnitGrid).where(UnitGrid.valid_to.is_(None)).order_by(UnitGrid.code))
        )
        if not grids:
            raise RuntimeError("the demo loaded no grids")
        # A grid from the middle of the list: away from the district's edge.
        g = grids[len(grids) // 2]
        community = s.get(Region, g.community_id)
        assert community is not None and community.parent_id is not None
        street = s.get(Region, community.parent_id)
        assert street is not None
        point = g.geom.representative_point()
        address = s.scalar(select(GazetteerEntry.address).order_by(GazetteerEntry.id).limit(1))
        known = KnownGrid(
            code=g.code,
            name=g.name,
            lon=point.x,
            lat=point.y,
            bbox=(g.minx, g.miny, g.maxx, g.maxy),
            community_code=community.code,
            community_name=community.name,
            street_name=street.name,
        )
        return known, address or "", len(grids)


@pytest.fixture(scope="session")
def vendor_built() -> None:
    missing = pages.missing_vendor_files()
    if missing:
        pytest.fail(
            f"the front-end is not built (missing gridgov/web/static/vendor/{', '.join(missing)}); "
            f"run from the repository root: {pages.BUILD_COMMAND}",
            pytrace=False,
        )


def _overdue_whatever_the_hour(engine: Engine, count: int = 5) -> None:
    """Put a few cases the departments hold past their due time.

    One day of history leaves overdue cases to the hour the tests run: at night in Shanghai,
    yesterday's working-hour limits have not run out yet, and the red boards would be empty.
    Each chosen step falls due halfway between its start and now.
    """
    from gridgov.cases.models import Case, CaseStepDeadline
    from gridgov.cases.workflow import State

    now = datetime.now(UTC)
    with session_scope(engine) as session:
        running = session.scalars(
            select(CaseStepDeadline)
            .join(Case, Case.id == CaseStepDeadline.case_id)
            .where(
                CaseStepDeadline.stopped_at.is_(None),
                Case.state.in_([State.DISPATCHED, State.HANDLING]),
            )
            .order_by(CaseStepDeadline.due_at, CaseStepDeadline.id)
            .limit(count)
        ).all()
        assert running, "the demo history holds no case at a department"
        for row in running:
            row.due_at = min(row.due_at or now, row.started_at + (now - row.started_at) / 2)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """A demo district (scale 0.05, seed 1) served by uvicorn on a free localhost port."""
    from gridgov.app import create_app
    from gridgov.demo.load import load_demo

    data_dir = tmp_path_factory.mktemp("e2e-data")
    settings = Settings(data_dir=data_dir, environment="test")
    engine = make_engine(settings.db_url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    load_demo(engine, scale=0.05, seed=1, settings=settings, history_days=1)
    load_seconds = time.perf_counter() - started
    _overdue_whatever_the_hour(engine)
    grid, address, grid_count = _known_grid(engine)

    port = _free_port()
    app = create_app(settings, engine)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="e2e-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield DemoServer(
            base_url=f"http://127.0.0.1:{port}",
            engine=engine,
            grid=grid,
            address=address,
            grid_count=grid_count,
            load_seconds=load_seconds,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture(scope="session")
def browser(vendor_built: None) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set GRIDGOV_CHROMIUM)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@dataclass
class MapPage:
    """A page on the demo server plus what it did that a test must check."""

    page: Any
    base_url: str
    name: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def open(self, path: str = "/map") -> float:
        """Navigate and wait until the map has settled; return the seconds that took."""
        started = time.perf_counter()
        self.page.goto(self.base_url + path)
        self.wait_settled()
        return time.perf_counter() - started

    def wait_settled(self, timeout_ms: int = 20_000) -> None:
        """Wait until no request is in flight, the camera is still and every tile is drawn."""
        self.page.wait_for_function(
            "() => window.gridgov && window.gridgov.settled()", timeout=timeout_ms
        )
        # settled() can be true for one frame between a moveend and the reload it triggers.
        self.page.wait_for_timeout(200)
        self.page.wait_for_function(
            "() => window.gridgov && window.gridgov.settled()", timeout=timeout_ms
        )

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def jump(self, lon: float, lat: float, zoom: float) -> None:
        self.js("([c, z]) => window.gridgov.map.jumpTo({center: c, zoom: z})", [[lon, lat], zoom])
        self.wait_settled()

    def click_lonlat(self, lon: float, lat: float) -> None:
        """Click the map at a geographic point (projected to page pixels by the map itself)."""
        x, y = self.js(
            """([lon, lat]) => {
                const m = window.gridgov.map;
                const p = m.project([lon, lat]);
                const r = m.getContainer().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y];
            }""",
            [lon, lat],
        )
        self.page.mouse.click(x, y)

    def field(self, name: str) -> str:
        return str(self.page.locator(f'#panel dd[data-field="{name}"]').inner_text())

    def screenshot(self, state: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{state}.png"
        self.page.screenshot(path=str(path))
        return path

    def assert_clean(self, allow_console: tuple[str, ...] = ()) -> None:
        """No console error (except ones matching ``allow_console``) and no non-local request."""
        errors = [e for e in self.console_errors if not any(a in e for a in allow_console)]
        assert not errors, f"console errors: {errors}"
        assert not self.foreign_requests, f"requests to non-local hosts: {self.foreign_requests}"


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_HOSTS


def _map_page(browser: Any, server: DemoServer, name: str, **context_options: Any) -> MapPage:
    context = browser.new_context(**context_options)
    page = context.new_page()
    mp = MapPage(page=page, base_url=server.base_url, name=name)
    page.on(
        "console",
        lambda msg: mp.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    page.on("pageerror", lambda exc: mp.console_errors.append(f"pageerror: {exc}"))
    page.on(
        "request",
        lambda req: None if _is_local(req.url) else mp.foreign_requests.append(req.url),
    )
    return mp


@pytest.fixture
def map_page(
    browser: Any, demo_server: DemoServer, request: pytest.FixtureRequest
) -> Iterator[MapPage]:
    """A desktop-sized page (1280×800)."""
    mp = _map_page(browser, demo_server, request.node.name, viewport=DESKTOP, locale="zh-CN")
    try:
        yield mp
    finally:
        mp.page.context.close()


@pytest.fixture
def phone_page(
    browser: Any, demo_server: DemoServer, request: pytest.FixtureRequest
) -> Iterator[MapPage]:
    """A phone-sized page (390×844, touch, mobile)."""
    mp = _map_page(
        browser,
        demo_server,
        request.node.name,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    try:
        yield mp
    finally:
        mp.page.context.close()


# ---------------------------------------------------------------------------------------------
# Logged-in pages of the shell (gridgov/web/pages.py): log in through the API, put the session
# cookie in a fresh browser context, and call the API as a user from the test itself.

DEMO_PASSWORD = "gridgov-demo"


def api_call(
    server: DemoServer,
    method: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One JSON call to the demo server; returns (status, parsed body or None)."""
    import json
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(server.base_url + path, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


_tokens: dict[str, str] = {}


def login_token(server: DemoServer, username: str) -> str:
    """A session token for a demo login (one login per user and worker: argon2 is slow)."""
    key = f"{server.base_url}:{username}"
    if key not in _tokens:
        status, body = api_call(
            server, "POST", "/api/auth/login", {"username": username, "password": DEMO_PASSWORD}
        )
        assert status == 200, body
        _tokens[key] = body["token"]
    return _tokens[key]


def use_session(mp: MapPage, server: DemoServer, username: str) -> str:
    """Put ``username``'s session cookie into the page's browser context; returns the token."""
    token = login_token(server, username)
    host = urlsplit(server.base_url).hostname or "127.0.0.1"
    mp.page.context.add_cookies(
        [{"name": "gridgov_session", "value": token, "domain": host, "path": "/"}]
    )
    return token


@dataclass(frozen=True)
class PageLoad:
    """How long a shell page took: ``usable_s`` from the navigation's start to the page's
    ``mount()`` resolving (the browser's own clock), ``settled_s`` until nothing was in flight
    (maps and their first data included, measured by the test)."""

    usable_s: float
    settled_s: float

    def as_json(self) -> dict[str, float]:
        return {"usable_s": round(self.usable_s, 3), "settled_s": round(self.settled_s, 3)}


def open_shell_page(mp: MapPage, path: str) -> PageLoad:
    """Open a shell page and wait until its module has mounted and no request is in flight."""
    started = time.perf_counter()
    mp.page.goto(mp.base_url + path)
    mp.page.wait_for_function(
        "() => window.gridgov && window.gridgov.settled && window.gridgov.settled()",
        timeout=20_000,
    )
    settled = time.perf_counter() - started
    ready_ms = mp.js("() => window.gridgov.readyAt")
    return PageLoad(usable_s=(ready_ms or 0) / 1000, settled_s=settled)


@pytest.fixture
def page_factory(
    browser: Any, demo_server: DemoServer, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """``make(name, viewport="desktop"|"phone")`` → a fresh :class:`MapPage` (own context,
    console errors and foreign requests recorded); all are closed after the test."""
    made: list[MapPage] = []

    def make(name: str | None = None, viewport: str = "desktop") -> MapPage:
        options: dict[str, Any] = {"viewport": DESKTOP, "locale": "zh-CN"}
        if viewport == "phone":
            options = {
                "viewport": PHONE,
                "device_scale_factor": 2,
                "is_mobile": True,
                "has_touch": True,
                "locale": "zh-CN",
            }
        mp = _map_page(browser, demo_server, name or request.node.name, **options)
        made.append(mp)
        return mp

    try:
        yield make
    finally:
        for mp in made:
            mp.page.context.close()
