"""Screenshots of gridgov's main pages for the README (docs/screenshots/).

Loads the demo district at a small scale with a short case history into a temporary data
directory, serves it with uvicorn in a thread on a free localhost port, logs in as each role and
saves one picture per page with Playwright driving Debian's Chromium (``/usr/bin/chromium``, or
``GRIDGOV_CHROMIUM``; never Playwright's own browser download):

    supervision.png   监督中心, the acceptor's open cases with one open in the side panel
    command.png       指挥中心, the dispatch board and the map of open cases by light
    department.png    专业部门 (城管执法局), my tasks
    mobile.png        监督员 phone app, the report tab with the GPS position and its grid
    report.png        居民 我要上报, filled in on a phone
    track.png         居民 进度查询, a closed case with its result
    leader.png        领导驾驶舱
    admin.png         系统管理
    map.png           网格地图

Desktop pages are 1280×800, phone pages 390×844 (device pixel ratio 2). Each file is a PNG
(re-saved optimised); one that would still be over ``MAX_BYTES`` is written as a JPEG of quality
80 instead (``<page>.jpg``) and the other format's stale file is removed.

Run from the repository root, after the front-end build (``npm --prefix web ci && node
web/build.mjs``):

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--scale 0.25] [--days 7]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
#: The same launch flags as the browser tests (tests/e2e/conftest.py).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-unsafe-swiftshader",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "zh-CN"}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
PASSWORD = "gridgov-demo"
MAX_BYTES = 300_000


# ---- the demo server ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """The demo district in ``data_dir``, served by uvicorn in a thread."""

    def __init__(self, data_dir: Path, scale: float, days: int) -> None:
        import uvicorn

        from gridgov import migrate
        from gridgov.app import create_app
        from gridgov.config import Settings
        from gridgov.db import make_engine
        from gridgov.demo.load import load_demo

        self.settings = Settings(data_dir=data_dir, environment="test")
        self.engine = make_engine(self.settings.db_url)
        migrate.upgrade(self.engine)
        started = time.perf_counter()
        summary = load_demo(
            self.engine, scale=scale, seed=1, settings=self.settings, history_days=days
        )
        print(
            f"demo loaded in {time.perf_counter() - started:.1f} s: {summary.grids} grids, "
            f"{summary.cases} cases",
            flush=True,
        )
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(self.settings, self.engine),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="screenshots", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on {self.base_url}")
            time.sleep(0.05)
        self._tokens: dict[str, str] = {}

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self.engine.dispose()

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        user: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """One JSON call (as ``user`` when given); it must succeed."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if user:
            req.add_header("Authorization", f"Bearer {self.token(user)}")
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from exc

    def token(self, user: str) -> str:
        if user not in self._tokens:
            answer = self.call("POST", "/api/auth/login", {"username": user, "password": PASSWORD})
            self._tokens[user] = answer["token"]
            # The API may answer before its transaction commits: wait until the session works.
            self._wait(lambda: self.call("GET", "/api/auth/me", user=user))
        return self._tokens[user]

    @staticmethod
    def _wait(check: Any, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = check()
                if found:
                    return found
            except RuntimeError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the API's write never became visible")
            time.sleep(0.1)


# ---- what the pages show --------------------------------------------------------------------


def _supervisor_and_point(server: Server) -> tuple[str, str, float, float]:
    """A grid from the middle of the district (away from its edge), its demo supervisor and a
    point inside it."""
    from sqlalchemy import select

    from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
    from gridgov.db import session_scope
    from gridgov.regions.models import UnitGrid

    with session_scope(server.engine) as s:
        covered = s.execute(
            select(Jurisdiction.code, User.username)
            .join(User, Jurisdiction.user_id == User.id)
            .where(
                User.role == Role.SUPERVISOR,
                User.username.like("jdy%"),
                Jurisdiction.scope_kind == ScopeKind.GRID,
            )
            .order_by(Jurisdiction.code)
        ).all()
        if not covered:
            raise RuntimeError("the demo has no supervisors")
        code, username = covered[len(covered) // 2]
        grid = s.scalar(select(UnitGrid).where(UnitGrid.code == code, UnitGrid.valid_to.is_(None)))
        assert grid is not None
        p = grid.geom.representative_point()
        return str(username), str(code), float(p.x), float(p.y)


def _case_to_open(server: Server) -> str:
    """A case near the top of the acceptor's 全部在办 list (so its row is on screen) with
    photos and something the acceptor may do, else the first one with photos."""
    listed = server.call("GET", "/api/cases/board/list?queue=open&limit=12", user="acceptor")
    fallback = None
    for item in listed["items"]:
        detail = server.call("GET", f"/api/cases/{item['case_no']}", user="acceptor")
        if detail["photos"] and detail["allowed_actions"]:
            return str(detail["case_no"])
        if fallback is None and detail["photos"]:
            fallback = str(detail["case_no"])
    if fallback is None and not listed["items"]:
        raise RuntimeError("the demo history left no open case")
    return fallback or str(listed["items"][0]["case_no"])


def _closed_public_case(server: Server) -> tuple[str, str]:
    """A closed case of the history with a result, and its tracking code (查询码)."""
    from sqlalchemy import select

    from gridgov.cases.models import Case
    from gridgov.cases.states import State
    from gridgov.cases.tracking import tracking_code
    from gridgov.db import session_scope

    with session_scope(server.engine) as s:
        numbers = list(
            s.scalars(
                select(Case.case_no)
                .where(Case.state == State.CLOSED)
                .order_by(Case.closed_at.desc())
                .limit(40)
            )
        )
    for no in numbers:
        code = tracking_code(no, server.settings)
        view = server.call("GET", f"/api/public/cases/{no}?code={code}")
        if view.get("result") and view.get("can_rate", True):
            return no, code
    if not numbers:
        raise RuntimeError("the demo history closed no case")
    return numbers[0], tracking_code(numbers[0], server.settings)


# ---- the browser ----------------------------------------------------------------------------


def _settle(page: Any, extra_ms: int = 400) -> None:
    """Mounted, nothing in flight, any map idle; then a moment for animations."""
    page.wait_for_function(
        "() => window.gridgov && window.gridgov.settled && window.gridgov.settled()",
        timeout=30_000,
    )
    page.wait_for_function(
        "() => { const m = window.gridgov && window.gridgov.map;"
        " return !m || !m.loaded || (m.loaded() && m.areTilesLoaded() && !m.isMoving()); }",
        timeout=30_000,
    )
    page.wait_for_timeout(extra_ms)
    page.wait_for_function(
        "() => window.gridgov && window.gridgov.settled && window.gridgov.settled()",
        timeout=30_000,
    )


def _save(page: Any, out: Path, name: str) -> Path:
    """``<name>.png`` (optimised); ``<name>.jpg`` at quality 80 when the PNG is too big."""
    from PIL import Image

    png = page.screenshot(type="png")
    buf = io.BytesIO()
    Image.open(io.BytesIO(png)).save(buf, "PNG", optimize=True)
    data, ext = buf.getvalue(), "png"
    if len(data) > MAX_BYTES:
        data, ext = page.screenshot(type="jpeg", quality=80), "jpg"
    path = out / f"{name}.{ext}"
    stale = out / f"{name}.{'jpg' if ext == 'png' else 'png'}"
    stale.unlink(missing_ok=True)
    path.write_bytes(data)
    print(
        f"  {path.relative_to(REPO) if path.is_relative_to(REPO) else path}: "
        f"{len(data) // 1024} KB",
        flush=True,
    )
    return path


class Shooter:
    def __init__(self, browser: Any, server: Server, out: Path) -> None:
        self.browser = browser
        self.server = server
        self.out = out
        self.problems: list[str] = []

    def page(self, user: str | None, phone: bool = False, gps: tuple[float, float] | None = None):
        context = self.browser.new_context(**(PHONE if phone else DESKTOP))
        if user:
            host = self.server.base_url.split("//", 1)[1].split(":", 1)[0]
            context.add_cookies(
                [
                    {
                        "name": "gridgov_session",
                        "value": self.server.token(user),
                        "domain": host,
                        "path": "/",
                    }
                ]
            )
        if gps:
            context.grant_permissions(["geolocation"], origin=self.server.base_url)
            context.set_geolocation({"longitude": gps[0], "latitude": gps[1], "accuracy": 8})
        page = context.new_page()
        page.on(
            "console",
            lambda msg: (
                self.problems.append(f"{page.url}: {msg.text}") if msg.type == "error" else None
            ),
        )
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: {exc}"))
        return page

    def open(self, page: Any, path: str, extra_ms: int = 400) -> None:
        page.goto(self.server.base_url + path)
        _settle(page, extra_ms)

    def shoot(self, page: Any, name: str) -> None:
        if page.locator("#page .notice-page.placeholder").count():
            print(f"  note: {name} still shows the placeholder", flush=True)
        _save(page, self.out, name)
        page.context.close()


def shoot_all(server: Server, out: Path) -> list[str]:
    from playwright.sync_api import sync_playwright

    supervisor, grid_code, lon, lat = _supervisor_and_point(server)
    open_case = _case_to_open(server)
    closed_no, closed_code = _closed_public_case(server)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        s = Shooter(browser, server, out)
        try:
            # 监督中心: the acceptor's list of open cases with one open in the side panel.
            page = s.page("acceptor")
            s.open(page, f"/supervision?queue=open&case={open_case}")
            page.locator(f'#case-panel .case-view[data-case-no="{open_case}"]').wait_for()
            page.wait_for_function(
                "() => document.querySelector('#case-panel .case-map-box canvas')"
            )
            _settle(page, 800)
            s.shoot(page, "supervision")

            # 指挥中心: the dispatch board and the map of open cases.
            page = s.page("dispatcher")
            s.open(page, "/command", 1000)
            s.shoot(page, "command")

            # 专业部门: my tasks.
            page = s.page("dept_cgzf")
            s.open(page, "/department")
            s.shoot(page, "department")

            # 监督员 phone app: the report tab at the supervisor's grid.
            page = s.page(supervisor, phone=True, gps=(lon, lat))
            s.open(page, "/m")
            page.wait_for_function(
                "() => document.querySelector('.m-place-grid')?.dataset.grid", timeout=20_000
            )
            _settle(page, 1000)
            s.shoot(page, "mobile")

            # 居民 我要上报: GPS position, a common problem, a description.
            page = s.page(None, phone=True, gps=(lon, lat))
            s.open(page, "/report")
            form = page.locator("#r-report-form")
            page.locator(".r-gps").click()
            form.locator(".place-picker .picker-grid").wait_for(timeout=20_000)
            form.locator('.r-chip[data-code="0102"]').click()
            form.locator('textarea[name="description"]').fill("小区东门垃圾桶旁堆放大量生活垃圾")
            _settle(page)
            page.evaluate("() => window.scrollTo(0, 0)")
            s.shoot(page, "report")

            # 居民 进度查询: a closed case with its result.
            page = s.page(None, phone=True)
            s.open(page, f"/track?case={closed_no}&code={closed_code}")
            page.locator(".r-case").wait_for()
            _settle(page)
            page.locator(".r-case").evaluate("el => window.scrollTo(0, el.offsetTop - 60)")
            page.wait_for_timeout(200)
            s.shoot(page, "track")

            # 领导驾驶舱 (big screen: map, live counts, rankings, charts).
            page = s.page("leader")
            s.open(page, "/leader", 1500)
            s.shoot(page, "leader")

            # 系统管理.
            page = s.page("admin")
            s.open(page, "/admin", 800)
            s.shoot(page, "admin")

            # 网格地图: a grid found by its code, identified in the side panel.
            page = s.page(None)
            s.open(page, "/map", 400)
            page.fill("#search-input", grid_code)
            page.press("#search-input", "Enter")
            page.locator("#panel:not([hidden])").wait_for(timeout=20_000)
            _settle(page, 1200)
            s.shoot(page, "map")
        finally:
            browser.close()
    return s.problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--scale", type=float, default=0.25, help="demo district scale")
    parser.add_argument("--days", type=int, default=7, help="days of demo case history")
    args = parser.parse_args(argv)

    from gridgov.web import pages

    missing = pages.missing_vendor_files()
    if missing:
        print(f"the front-end is not built; run: {pages.BUILD_COMMAND}", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="gridgov-shots-") as tmp:
        server = Server(Path(tmp), args.scale, args.days)
        try:
            problems = shoot_all(server, args.out.resolve())
        finally:
            server.stop()
    for p in problems:
        print(f"console: {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
