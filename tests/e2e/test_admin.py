"""The admin page (系统管理, /admin) in a real Chromium.

A subclass's time limit edited and saved; a local calendar override added and removed; a user
created with a jurisdiction; a grid's polygon edited on the map by dragging a vertex — shared
vertices move with the neighbours and the edit is saved, while moving it alone into the
neighbours is refused with the server's located overlap shown; the routing preview; every tab
at 1920×1080 and 1280×800 as a screenshot, with the time until usable printed as
``[admin] load``. Every test fails on a console error (except the HTTP errors it provokes on
purpose) and on any request to a host other than this machine.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point
from sqlalchemy import select

from gridgov.db import session_scope
from gridgov.regions.models import Region, UnitGrid
from tests.e2e.conftest import (
    PageLoad,
    _map_page,
    api_call,
    login_token,
    open_shell_page,
    use_session,
)

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

VIEWPORTS = {
    "1920x1080": {"width": 1920, "height": 1080},
    "1280x800": {"width": 1280, "height": 800},
}
TABS = ("grids", "taxonomy", "calendar", "departments", "users")
#: The same point for the editor (the API rounds coordinates to 1e-7°).
SAME = 2e-7


@pytest.fixture
def admin_page(
    browser: Any, demo_server: DemoServer, request: pytest.FixtureRequest
) -> Iterator[Callable[..., MapPage]]:
    """``make(size="1280x800", name=None)`` → a page logged in as admin, with the conftest's
    recorder of console errors and foreign requests; closed after the test."""
    made: list[MapPage] = []

    def make(size: str = "1280x800", name: str | None = None) -> MapPage:
        mp = _map_page(
            browser,
            demo_server,
            name or request.node.name,
            viewport=VIEWPORTS[size],
            locale="zh-CN",
        )
        use_session(mp, demo_server, "admin")
        made.append(mp)
        return mp

    try:
        yield make
    finally:
        for mp in made:
            mp.page.context.close()


def open_admin(mp: MapPage, tab: str) -> PageLoad:
    """Open /admin on ``tab`` and wait until it is fully loaded (the grid tab: its map is idle).
    ``usable_s`` is the shell's readyAt (the page mounted), ``settled_s`` until fully loaded."""
    started = time.perf_counter()
    load = open_shell_page(mp, f"/admin?tab={tab}")
    if tab == "grids":
        mp.page.wait_for_function(
            "() => window.gridgov.map && window.gridgov.map.loaded()", timeout=20_000
        )
    return PageLoad(usable_s=load.usable_s, settled_s=time.perf_counter() - started)


def settled(mp: MapPage) -> None:
    mp.page.wait_for_timeout(100)
    mp.page.wait_for_function("() => window.gridgov.settled()", timeout=20_000)


def admin_api(server: DemoServer, method: str, path: str, body: Any = None) -> Any:
    status, answer = api_call(server, method, path, body, token=login_token(server, "admin"))
    assert status < 300, (status, answer)
    return answer


def success_toast(mp: MapPage, text: str | None = None) -> str:
    toast = mp.page.locator('#toasts .toast[data-kind="success"]', has_text=text).last
    toast.wait_for(timeout=15_000)
    return str(toast.inner_text())


# ---- screenshots and load time ----------------------------------------------------------------


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_tab_at_both_sizes(
    admin_page: Callable[..., MapPage], demo_server: DemoServer, size: str
) -> None:
    mp = admin_page(size, "admin")
    load = open_admin(mp, "grids")
    mount_ms = mp.js("() => window.gridgov.mountMs")
    print(
        f"\n[admin] load at {size} (grid tab): usable {load.usable_s:.2f} s (mount {mount_ms} ms),"
        f" fully loaded (map idle) {load.settled_s:.2f} s"
    )
    for tab in TABS:
        started = time.perf_counter()
        mp.page.locator(f'.admin-tab[data-tab="{tab}"]').click()
        settled(mp)
        assert mp.page.locator(f"#panel-{tab}").is_visible()
        assert mp.page.locator(f'.admin-tab[data-tab="{tab}"]').get_attribute("aria-selected") == (
            "true"
        )
        assert f"tab={tab}" in mp.page.url
        print(f"[admin] tab {tab} at {size}: {time.perf_counter() - started:.2f} s")
        mp.screenshot(f"{tab}-{size}")
    # The tab is in the URL: a reload comes back to it.
    mp.page.reload()
    settled(mp)
    assert mp.page.locator("#panel-users").is_visible()
    mp.assert_clean()


# ---- the top bar ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewport", "lang"), [("desktop", "en"), ("phone", "zh-CN"), ("phone", "en")]
)
def test_top_bar_keeps_every_page_name_whole(
    page_factory: Callable[..., MapPage], demo_server: DemoServer, viewport: str, lang: str
) -> None:
    """The admin has the most links: in English at 1280 px they wrap onto a row of their own
    (nothing cut), on a phone that row scrolls with the current page in view; page layouts get
    the bar's real height as --bar-h."""
    mp = page_factory(f"topbar-{viewport}-{lang}", viewport=viewport)
    use_session(mp, demo_server, "admin")
    host = demo_server.base_url.split("//")[1].split(":")[0]
    mp.page.context.add_cookies(
        [{"name": "gridgov_lang", "value": lang, "domain": host, "path": "/"}]
    )
    open_shell_page(mp, "/admin?tab=users")
    box = mp.js(
        """() => {
            const r = (el) => el.getBoundingClientRect();
            const nav = r(document.getElementById("nav"));
            const links = [...document.querySelectorAll("#nav a")].map((a) => ({
                left: r(a).left, right: r(a).right, current: a.hasAttribute("aria-current"),
            }));
            const css = getComputedStyle(document.documentElement).getPropertyValue("--bar-h");
            return {
                nav: [nav.left, nav.right], links, bar: r(document.querySelector(".topbar")).height,
                css: parseFloat(css), page: document.documentElement.scrollWidth, vw: innerWidth,
            };
        }"""
    )
    inside = [
        box["nav"][0] - 0.5 <= a["left"] and a["right"] <= box["nav"][1] + 0.5 for a in box["links"]
    ]
    current = [ok for ok, a in zip(inside, box["links"], strict=True) if a["current"]]
    assert current == [True], box
    if viewport == "desktop":
        assert all(inside), box
    assert box["css"] == pytest.approx(box["bar"], abs=1)
    assert box["page"] <= box["vw"]
    mp.screenshot("topbar")
    mp.assert_clean()


# ---- (b) taxonomy and time limits -------------------------------------------------------------


def test_edit_a_time_limit(admin_page: Callable[..., MapPage], demo_server: DemoServer) -> None:
    sub = admin_api(demo_server, "GET", "/api/taxonomy/subclasses/0102?kind=event")
    limit = next(t for t in sub["time_limits"] if (t["step"], t["urgency"]) == ("handle", "normal"))
    mp = admin_page(name="admin-time-limit")
    open_admin(mp, "taxonomy")
    mp.page.locator('#class-list .list-node[data-code="01"]').click()
    mp.page.locator('#subclass-list .list-node[data-code="0102"]').click()
    row = mp.page.locator('#limits-table tr[data-limit="handle:normal"]')
    row.locator(".edit-limit").click()
    form = row.locator("form")
    value = form.locator('input[name="value"]')
    assert value.input_value() == str(limit["value"])

    # Checked in the browser first: nothing is sent for 0.
    requests_before = mp.js("() => window.gridgov.stats.requests")
    value.fill("0")
    form.locator('button[type="submit"]').click()
    assert form.locator(".field-error").is_visible()
    assert mp.js("() => window.gridgov.stats.requests") == requests_before

    new_value = limit["value"] + 3
    value.fill(str(new_value))
    form.locator('select[name="unit"]').select_option("working_hours")
    mp.screenshot("form")
    form.locator('button[type="submit"]').click()
    assert "暴露垃圾" in success_toast(mp)
    cell = mp.page.locator('#limits-table tr[data-limit="handle:normal"] .limit-value')
    assert cell.inner_text() == f"{new_value} 工作时"
    saved = admin_api(demo_server, "GET", "/api/taxonomy/subclasses/0102?kind=event")
    after = next(
        t for t in saved["time_limits"] if (t["step"], t["urgency"]) == ("handle", "normal")
    )
    assert (after["value"], after["unit"]) == (new_value, "working_hours")
    mp.assert_clean()
    # Put the demo's number back for the other tests.
    admin_api(
        demo_server,
        "PUT",
        "/api/taxonomy/subclasses/0102/time-limits",
        {
            "kind": "event",
            "step": "handle",
            "urgency": "normal",
            **{k: limit[k] for k in ("value", "unit")},
        },
    )


# ---- (c) calendar -----------------------------------------------------------------------------


def test_add_and_remove_a_calendar_override(
    admin_page: Callable[..., MapPage], demo_server: DemoServer
) -> None:
    year = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).year
    next_year = admin_api(demo_server, "GET", f"/api/calendar/status?year={year + 1}")
    mp = admin_page(name="admin-calendar-override")
    open_admin(mp, "calendar")
    banner = mp.page.locator("#calendar-warning")
    assert banner.is_visible() == (not next_year["covered"])
    if not next_year["covered"]:
        assert str(year + 1) in banner.inner_text()

    day = f"{year}-12-13"
    form = mp.page.locator("#override-form")
    form.locator('input[name="day"]').fill(day)
    form.locator('select[name="kind"]').select_option("holiday")
    form.locator('input[name="note"]').fill("e2e 区政府通知放假")
    form.locator('button[type="submit"]').click()
    success_toast(mp, day)
    row = mp.page.locator(f'#calendar-rules tr[data-date="{day}"][data-source="override"]')
    row.wait_for()
    assert "e2e 区政府通知放假" in row.inner_text()
    rules = admin_api(demo_server, "GET", f"/api/calendar/rules?year={year}")
    assert any(
        r["date"] == day and r["source"] == "override" and r["kind"] == "holiday" for r in rules
    )
    mp.screenshot("added")

    mp.page.once("dialog", lambda dialog: dialog.accept())
    row.locator(".remove-override").click()
    success_toast(mp, f"已删除 {day}")
    row.wait_for(state="detached")
    rules = admin_api(demo_server, "GET", f"/api/calendar/rules?year={year}")
    assert not any(r["date"] == day and r["source"] == "override" for r in rules)
    mp.assert_clean()


# ---- (e) users --------------------------------------------------------------------------------


def test_create_a_user_with_a_jurisdiction(
    admin_page: Callable[..., MapPage], demo_server: DemoServer
) -> None:
    username = f"e2e_{uuid.uuid4().hex[:8]}"
    community = demo_server.grid.community_code
    mp = admin_page(name="admin-user-create")
    open_admin(mp, "users")
    mp.page.locator("#user-new").click()
    form = mp.page.locator("#user-create-form")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="name"]').fill("测试监督员")
    form.locator('select[name="role"]').select_option("supervisor")
    form.locator('input[name="password"]').fill("short")
    form.locator(".jurisdictions select").select_option("region")
    form.locator(".jur-code").fill(community)
    form.locator(".jur-add").click()
    chip = form.locator(f'.chip[data-kind="region"][data-code="{community}"]')
    assert chip.is_visible()
    assert demo_server.grid.community_name in chip.inner_text()

    # Too short a password is refused in the browser, and nothing typed is lost.
    form.locator('button[type="submit"]').click()
    assert "至少 8 位" in form.locator(".field-error").first.inner_text()
    assert form.locator('input[name="username"]').input_value() == username
    status, _ = api_call(
        demo_server, "GET", f"/api/users/{username}", token=login_token(demo_server, "admin")
    )
    assert status == 404

    form.locator('input[name="password"]').fill("e2e-password-1")
    mp.screenshot("form")
    form.locator('button[type="submit"]').click()
    success_toast(mp, username)
    user = admin_api(demo_server, "GET", f"/api/users/{username}")
    assert user["role"] == "supervisor" and user["active"] is True
    assert user["jurisdictions"] == [{"kind": "region", "code": community}]
    assert mp.page.locator(f'#user-table tr[data-username="{username}"]').is_visible()

    # The new user opens for editing: deactivate.
    edit = mp.page.locator("#user-edit-form")
    edit.wait_for()
    edit.locator('input[name="active"]').uncheck()
    edit.locator('button[type="submit"]').click()
    success_toast(mp, f"用户 {username} 已保存")
    assert admin_api(demo_server, "GET", f"/api/users/{username}")["active"] is False
    mp.assert_clean()


# ---- (d) routing preview ----------------------------------------------------------------------


def test_routing_preview(admin_page: Callable[..., MapPage], demo_server: DemoServer) -> None:
    grid = demo_server.grid.code
    expected = admin_api(
        demo_server,
        "GET",
        f"/api/routing/preview?kind=event&subclass_code=0102&grid_code={grid}",
    )
    mp = admin_page(name="admin-routing")
    open_admin(mp, "departments")
    form = mp.page.locator("#routing-preview-form")
    form.locator('select[name="kind"]').select_option("event")
    form.locator('input[name="subclass_code"]').fill("0102")
    form.locator('input[name="grid_code"]').fill(grid)
    form.locator('button[type="submit"]').click()
    result = mp.page.locator("#routing-result")
    result.wait_for()
    assert expected["department_code"] in result.inner_text()
    assert expected["reason"] in result.inner_text()
    mp.screenshot("result")
    mp.assert_clean()


# ---- (a) a grid's polygon ---------------------------------------------------------------------


def interior_shared_vertex(server: DemoServer) -> tuple[str, tuple[float, float], list[str]]:
    """A grid and one of its vertices that neighbours share exactly (no T-junction), far from
    the community's boundary and from the grid's other vertices: moving it a little with the
    neighbours keeps the tiling; moving it alone makes an overlap."""
    with session_scope(server.engine) as s:
        grids = list(
            s.scalars(select(UnitGrid).where(UnitGrid.valid_to.is_(None)).order_by(UnitGrid.code))
        )
        start = next(i for i, g in enumerate(grids) if g.code == server.grid.code)
        for g in grids[start:] + grids[:start]:
            community = s.get(Region, g.community_id)
            assert community is not None
            coords = list(g.geom.exterior.coords)[:-1]
            best: tuple[float, tuple[float, float], list[str]] | None = None
            for x, y in coords:
                p = Point(x, y)
                if community.geom.boundary.distance(p) < 3e-4:  # ≈ 30 m
                    continue
                touching = [
                    o for o in grids if o.code != g.code and o.geom.boundary.distance(p) < 1e-7
                ]
                exact = all(
                    any(
                        abs(x - ox) <= 1e-7 and abs(y - oy) <= 1e-7
                        for ox, oy in o.geom.exterior.coords
                    )
                    for o in touching
                )
                if not touching or not exact:
                    continue
                spacing = min(math.hypot(x - ox, y - oy) for ox, oy in coords if (ox, oy) != (x, y))
                if best is None or spacing > best[0]:
                    best = (spacing, (x, y), sorted(o.code for o in touching))
            if best is not None and best[0] > 5e-5:  # ≈ 5 m to the next vertex
                return g.code, best[1], best[2]
    raise AssertionError("the demo has no grid with an interior shared vertex")


def versions(server: DemoServer, code: str) -> int:
    return len(admin_api(server, "GET", f"/api/grids/{code}/versions"))


def start_editing(mp: MapPage, code: str, community: str) -> None:
    street = community[:9]
    tree = mp.page.locator("#region-tree")
    node = tree.locator(f'.street-node[data-code="{street}"]')
    if node.get_attribute("aria-expanded") != "true":
        node.click()
    tree.locator(f'.community-node[data-code="{community}"]').click()
    mp.page.locator(f'#grid-list .grid-node[data-code="{code}"]').click()
    mp.page.locator("#grid-selected .code").filter(has_text=code).wait_for()
    mp.page.locator("#grid-edit-start").click()
    mp.page.locator("#grid-edit-form").wait_for()
    settled(mp)
    mp.page.wait_for_function("() => window.gridgov.map.loaded()")


def handle_at(mp: MapPage, lonlat: tuple[float, float]) -> dict[str, Any]:
    handles = mp.js("() => window.gridgov.admin.tabs.grids.handles()")
    nearest = min(handles, key=lambda h: math.hypot(h["lon"] - lonlat[0], h["lat"] - lonlat[1]))
    assert math.hypot(nearest["lon"] - lonlat[0], nearest["lat"] - lonlat[1]) < 1e-6, nearest
    others = [h for h in handles if h is not nearest]
    gap = min(math.hypot(h["x"] - nearest["x"], h["y"] - nearest["y"]) for h in others)
    assert gap > 12, f"the vertex handle is {gap:.1f} px from the next one: too close to grab"
    return dict(nearest)


def drag(mp: MapPage, handle: dict[str, Any], dx: float, dy: float) -> None:
    mp.page.mouse.move(handle["x"], handle["y"])
    mp.page.mouse.down()
    mp.page.mouse.move(handle["x"] + dx, handle["y"] + dy, steps=8)
    mp.page.mouse.up()
    mp.page.wait_for_timeout(150)


def test_edit_a_grid_polygon(admin_page: Callable[..., MapPage], demo_server: DemoServer) -> None:
    code, vertex, neighbours = interior_shared_vertex(demo_server)
    community = code[:12]
    before = {c: versions(demo_server, c) for c in [code, *neighbours]}
    mp = admin_page("1920x1080", "admin-grid")
    open_admin(mp, "grids")

    # 1. Move a shared vertex a little: the neighbours follow and the edit is saved.
    start_editing(mp, code, community)
    handle = handle_at(mp, vertex)
    assert set(neighbours) <= set(handle["shared"])
    drag(mp, handle, 4, 3)
    changed = mp.page.locator("#grid-edit .changed-count")
    assert changed.get_attribute("data-count") == str(1 + len(neighbours))
    mp.page.locator('#grid-edit-form textarea[name="note"]').fill("e2e：顶点按实地道路微调")
    mp.screenshot("moved")
    mp.page.locator("#grid-save").click()
    success_toast(mp, f"已保存 {1 + len(neighbours)} 个网格")
    for c, n in before.items():
        assert versions(demo_server, c) == n + 1, c
    mp.page.locator("#grid-edit-start").wait_for()

    # 2. Move it alone, outwards into the neighbours: the server's overlap is shown and located.
    start_editing(mp, code, community)
    mp.page.locator("#grid-linked").uncheck()
    # The vertex is where it was dragged to: 4, 3 px from where it was.
    handles = mp.js("() => window.gridgov.admin.tabs.grids.handles()")
    moved = mp.js(
        "([lon, lat]) => { const p = window.gridgov.map.project([lon, lat]); return [p.x, p.y]; }",
        list(vertex),
    )
    rect = mp.js(
        """() => {
            const r = window.gridgov.map.getContainer().getBoundingClientRect();
            return [r.left, r.top];
        }"""
    )
    target = (rect[0] + moved[0] + 4, rect[1] + moved[1] + 3)
    handle = min(handles, key=lambda h: math.hypot(h["x"] - target[0], h["y"] - target[1]))
    assert math.hypot(handle["x"] - target[0], handle["y"] - target[1]) < 3
    cx = sum(h["x"] for h in handles) / len(handles)
    cy = sum(h["y"] for h in handles) / len(handles)
    length = math.hypot(handle["x"] - cx, handle["y"] - cy)
    drag(mp, handle, 30 * (handle["x"] - cx) / length, 30 * (handle["y"] - cy) / length)
    assert changed.get_attribute("data-count") == "1"
    mp.page.locator("#grid-save").click()
    error = mp.page.locator("#grid-edit-form .form-error")
    error.wait_for()
    assert "overlap" in error.locator(".server-message").inner_text()
    problems = mp.page.locator('#grid-edit .grid-problems li[data-kind="overlap"]')
    assert problems.count() >= 1
    assert "网格重叠" in problems.first.inner_text()
    assert code in problems.first.inner_text()
    marked = mp.js("() => window.gridgov.map.getSource('problem').serialize().data.features.length")
    assert marked >= 1
    mp.screenshot("overlap")
    assert versions(demo_server, code) == before[code] + 1  # nothing more was written
    # What was drawn is kept for a fix; discarding goes back to the saved shape.
    assert changed.get_attribute("data-count") == "1"
    mp.page.locator("#grid-cancel").click()
    mp.page.locator("#grid-edit-start").wait_for()
    mp.assert_clean(allow_console=("status of 422",))
