"""The command centre (指挥中心, /command) in a real Chromium, as the demo dispatcher.

Dispatch a registered case as suggested or to another department, approve an extension, refuse a
return with a reason, a stale version (409) that reloads the board, the overdue and department
boards, the map of open cases coloured by their light (a click opens the case), and the page on a
phone. Every test fails on a console error (except the HTTP errors it provokes on purpose) or a
request to a non-local host, saves screenshots under build-output/screenshots/ and prints how long
the page took to become usable (``[load]`` lines; not asserted tightly).

The set-up (a supervisor's report, 立案, 派遣 …) goes through the HTTP API as the demo users
(tests/e2e/conftest.py: ``api_call``, ``login_token``).

Run: ``pytest -m e2e tests/e2e/test_command.py -s``.
"""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image
from sqlalchemy import select

from gridgov.accounts.models import Jurisdiction, ScopeKind, User
from gridgov.db import session_scope
from gridgov.regions.models import UnitGrid
from tests.e2e.conftest import PageLoad, api_call, login_token, open_shell_page, use_session

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

SUPERVISOR = "jdy0001"
RED, YELLOW, GREEN, NONE = "#dc2626", "#f59e0b", "#16a34a", "#64748b"  # pages/command.js


# ---- set-up through the API (as the other roles would do it) --------------------------------


def jpeg(color: tuple[int, int, int] = (190, 90, 40)) -> bytes:
    """A small generated JPEG photo."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG", quality=85)
    return out.getvalue()


def call(server: DemoServer, username: str, method: str, path: str, body: Any = None) -> Any:
    """One API call as a demo user; it must succeed."""
    status, answer = api_call(server, method, path, body, token=login_token(server, username))
    assert status in (200, 201), (status, answer)
    return answer


def act(server: DemoServer, username: str, case_no: str, action: str, payload: Any = None) -> Any:
    """One workflow action with the current version."""
    version = call(server, username, "GET", f"/api/cases/{case_no}")["version"]
    body = {"action": action, "payload": payload or {}, "expected_version": version}
    return call(server, username, "POST", f"/api/cases/{case_no}/actions", body)


def case_of(server: DemoServer, case_no: str, username: str = "dispatcher") -> Any:
    """The case detail as ``username`` sees it."""
    return call(server, username, "GET", f"/api/cases/{case_no}")


def upload_photo(server: DemoServer, username: str) -> str:
    """POST /api/media with a generated JPEG; returns the photo id."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + jpeg()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(server.base_url + "/api/media", data=body, method="POST")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    req.add_header("Authorization", f"Bearer {login_token(server, username)}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return str(json.loads(resp.read())["id"])


def supervisor_point(server: DemoServer, username: str = SUPERVISOR) -> tuple[float, float]:
    """A point inside the first grid the demo supervisor covers."""
    with session_scope(server.engine) as s:
        uid = s.scalar(select(User.id).where(User.username == username))
        code = s.scalar(
            select(Jurisdiction.code)
            .where(Jurisdiction.user_id == uid, Jurisdiction.scope_kind == ScopeKind.GRID)
            .order_by(Jurisdiction.code)
        )
        grid = s.scalar(select(UnitGrid).where(UnitGrid.code == code, UnitGrid.valid_to.is_(None)))
        assert grid is not None
        p = grid.geom.representative_point()
        return float(p.x), float(p.y)


def registered_case(server: DemoServer, description: str = "路边暴露垃圾（浏览器测试）") -> str:
    """A supervisor's report (with a photo) registered (立案) by the shift lead."""
    lon, lat = supervisor_point(server)
    body = {
        "subclass": "0102",
        "subclass_kind": "event",
        "lon": lon,
        "lat": lat,
        "description": description,
        "photos": [upload_photo(server, SUPERVISOR)],
    }
    case_no = str(call(server, SUPERVISOR, "POST", "/api/cases", body)["case_no"])
    act(server, "shift_lead", case_no, "register")
    return case_no


def open_page(mp: MapPage, server: DemoServer, username: str, path: str, what: str) -> PageLoad:
    """Log ``username`` in, open ``path`` and wait until it is usable; print the times."""
    use_session(mp, server, username)
    load = open_shell_page(mp, path)
    print(f"\n[load] {what}: usable {load.usable_s:.2f} s, settled {load.settled_s:.2f} s")
    assert load.settled_s < 20
    return load


def item(mp: MapPage, board: str, case_no: str) -> Any:
    return mp.page.locator(f'{board} [data-case-no="{case_no}"]')


def wait_toast(mp: MapPage, kind: str, text: str | None = None) -> Any:
    """The newest toast of ``kind`` (holding ``text``), once it is shown."""
    toast = mp.page.locator(f'#toasts .toast[data-kind="{kind}"]', has_text=text).last
    toast.wait_for(timeout=15_000)
    return toast


# ---- tests ------------------------------------------------------------------------------------


def test_dispatcher_dispatches_as_suggested(map_page: MapPage, demo_server: DemoServer) -> None:
    case_no = registered_case(demo_server)
    suggestion = call(demo_server, "dispatcher", "GET", f"/api/cases/{case_no}/routing")
    assert suggestion["department_code"], suggestion
    open_page(map_page, demo_server, "dispatcher", "/command", "/command desktop (dispatch)")

    assert map_page.page.title().startswith("指挥中心")
    row = item(map_page, "#dispatch-list", case_no)
    row.wait_for()
    box = row.locator(".cmd-suggestion")
    assert box.get_attribute("data-department") == suggestion["department_code"]
    assert suggestion["reason"] in box.inner_text()
    assert "建议派遣" in box.inner_text()
    row.scroll_into_view_if_needed()
    map_page.screenshot("command-dispatch-board")

    row.locator('[data-act="dispatch-suggested"]').click()
    wait_toast(map_page, "success", "已派遣")
    map_page.wait_settled()
    item(map_page, "#cmd-board", case_no).wait_for(state="detached")  # gone from the board
    detail = case_of(demo_server, case_no)
    assert detail["state"] == "dispatched"
    assert detail["department_code"] == suggestion["department_code"]
    map_page.assert_clean()


def test_dispatcher_chooses_another_department(map_page: MapPage, demo_server: DemoServer) -> None:
    case_no = registered_case(demo_server)
    open_page(map_page, demo_server, "dispatcher", "/command?tab=dispatch", "/command (choose)")
    row = item(map_page, "#dispatch-list", case_no)
    row.locator('[data-act="choose"]').click()
    row.locator(".cmd-choose select").select_option("QCGZFJ")
    row.locator('[data-act="dispatch-chosen"]').click()
    wait_toast(map_page, "success")
    map_page.wait_settled()
    detail = case_of(demo_server, case_no)
    assert detail["state"] == "dispatched" and detail["department_code"] == "QCGZFJ"
    map_page.assert_clean()


def test_stale_version_is_told_and_the_board_reloads(
    map_page: MapPage, demo_server: DemoServer
) -> None:
    case_no = registered_case(demo_server)
    open_page(map_page, demo_server, "dispatcher", "/command", "/command desktop (409)")
    row = item(map_page, "#dispatch-list", case_no)
    row.wait_for()
    # Someone else dispatches it while the board still shows it.
    act(demo_server, "dispatcher", case_no, "dispatch", {"department_code": "QCGZFJ"})
    row.locator('[data-act="dispatch-suggested"]').click()
    toast = wait_toast(map_page, "error")
    assert toast.get_attribute("data-code") == "version_conflict"
    assert "案件已被他人处理" in toast.inner_text() and "派遣" in toast.inner_text()
    map_page.wait_settled()
    map_page.page.wait_for_function(
        '(no) => !document.querySelector(`#cmd-board [data-case-no="${no}"]`)', arg=case_no
    )
    map_page.assert_clean(allow_console=("status of 409",))


def test_dispatcher_approves_an_extension(map_page: MapPage, demo_server: DemoServer) -> None:
    case_no = registered_case(demo_server, "店外经营（延期测试）")
    act(demo_server, "dispatcher", case_no, "dispatch", {"department_code": "QCGZFJ"})
    act(demo_server, "dept_cgzf", case_no, "accept")
    wanted = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    payload = {"reason": "需协调物业配合", "due_at": wanted.isoformat()}
    act(demo_server, "dept_cgzf", case_no, "request_extension", payload)

    open_page(map_page, demo_server, "dispatcher", "/command?tab=approvals", "/command (approvals)")
    row = item(map_page, "#approval-list", case_no)
    row.wait_for()
    assert row.get_attribute("data-kind") == "extension"
    text = row.inner_text()
    assert "延期申请" in text and "需协调物业配合" in text and "申请延至" in text
    assert row.locator(".cmd-asked-due").get_attribute("data-due")
    row.scroll_into_view_if_needed()
    map_page.screenshot("command-approvals")

    row.locator('[data-act="approve_extension"]').click()
    wait_toast(map_page, "success", "已同意延期")
    map_page.wait_settled()
    detail = case_of(demo_server, case_no)
    assert detail["state"] == "handling"
    handle = [d for d in detail["deadlines"] if d["step"] == "handle" and not d["stopped_at"]]
    assert handle and datetime.fromisoformat(handle[0]["due_at"]) == wanted
    item(map_page, "#cmd-board", case_no).wait_for(state="detached")  # gone from the board
    map_page.assert_clean()


def test_dispatcher_refuses_a_return_with_a_reason(
    map_page: MapPage, demo_server: DemoServer
) -> None:
    case_no = registered_case(demo_server)
    act(demo_server, "dispatcher", case_no, "dispatch", {"department_code": "QCGZFJ"})
    act(demo_server, "dept_cgzf", case_no, "request_return", {"reason": "非本单位职责"})
    path = "/command?tab=approvals&kind=return"
    open_page(map_page, demo_server, "dispatcher", path, "/command desktop (return)")
    row = item(map_page, "#approval-list", case_no)
    row.locator('[data-act="deny_return"]').click()
    form = row.locator('form[data-action="deny_return"]')
    form.locator('button[type="submit"]').click()  # no reason: refused in the browser
    assert form.locator(".field-error").count() == 1
    form.locator("textarea[name=reason]").fill("属城管执法职责，请继续处置")
    form.locator('button[type="submit"]').click()
    wait_toast(map_page, "success")
    map_page.wait_settled()
    assert case_of(demo_server, case_no)["state"] == ("dispatched")
    map_page.assert_clean()


def _pixels(png: bytes, color: str, tolerance: int = 18) -> int:
    want = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    img = Image.open(io.BytesIO(png)).convert("RGB")
    colours = img.getcolors(img.width * img.height) or []
    return sum(
        n
        for n, px in colours
        if all(abs(a - b) <= tolerance for a, b in zip(px, want, strict=True))
    )


def test_map_shows_cases_coloured_by_light(map_page: MapPage, demo_server: DemoServer) -> None:
    open_page(map_page, demo_server, "dispatcher", "/command?tab=overdue", "/command (map)")
    # The map is built after the boards are usable: wait until it has drawn the cases.
    map_page.page.wait_for_function(
        "() => window.gridgov.map && window.gridgov.map.loaded() && "
        "window.gridgov.map.queryRenderedFeatures({layers: ['case-point']}).length > 20",
        timeout=30_000,
    )
    lights = map_page.js(
        "() => window.gridgov.map.queryRenderedFeatures({layers: ['case-point']})"
        ".map(f => f.properties.light || 'none')"
    )
    assert len(lights) > 20, lights
    counts = {x: lights.count(x) for x in set(lights)}
    assert set(counts) <= {"red", "yellow", "green", "none"}
    assert counts.get("red", 0) > 0, counts  # the demo has overdue cases
    legend = {
        light: int(map_page.page.locator(f'#cmd-legend [data-count="{light}"]').inner_text())
        for light in ("red", "yellow", "green", "none")
    }
    assert sum(legend.values()) == map_page.js(
        "() => window.gridgov.command.cases().features.length"
    )
    # The points are drawn in their light's colour.
    png = map_page.page.locator("#cmd-map canvas").screenshot()
    colours = {"red": RED, "yellow": YELLOW, "green": GREEN, "none": NONE}
    for light, n in counts.items():
        if n >= 3:
            assert _pixels(png, colours[light]) > 10, f"no {light} points drawn ({n} features)"
    map_page.screenshot("command-map")

    # A click on a point opens that case in the side panel.
    target = map_page.js(
        """() => {
            const m = window.gridgov.map;
            const fs = m.queryRenderedFeatures({layers: ['case-point']});
            const r = m.getContainer().getBoundingClientRect();
            for (const f of fs) {
                const p = m.project(f.geometry.coordinates);
                if (p.x > 30 && p.y > 30 && p.x < r.width - 60 && p.y < r.height - 30) {
                    const near = m.queryRenderedFeatures(p, {layers: ['case-point']});
                    return {x: r.left + p.x, y: r.top + p.y,
                            nos: near.map(n => n.properties.case_no)};
                }
            }
            return null;
        }"""
    )
    assert target, "no case point inside the map view"
    map_page.page.mouse.click(target["x"], target["y"])
    panel = map_page.page.locator("#case-panel .case-view[data-case-no]")
    panel.wait_for(timeout=15_000)
    assert panel.get_attribute("data-case-no") in target["nos"]
    assert "case=" in map_page.page.url
    map_page.wait_settled()
    map_page.screenshot("command-map-case")
    map_page.assert_clean()


def test_overdue_and_department_boards(map_page: MapPage, demo_server: DemoServer) -> None:
    open_page(map_page, demo_server, "dispatcher", "/command?tab=overdue", "/command (overdue)")
    rows = map_page.page.locator("#overdue-table tbody tr")
    assert rows.count() > 0
    overdue = [
        int(x)
        for x in map_page.js(
            "() => [...document.querySelectorAll('#overdue-table td.cmd-overdue')]"
            ".map(td => td.dataset.overdue)"
        )
    ]
    assert overdue == sorted(overdue, reverse=True)  # longest overdue first
    map_page.screenshot("command-overdue")
    rows.first.click()
    map_page.page.locator("#case-panel .case-view[data-case-no]").wait_for()
    map_page.page.locator("#cmd-tab-departments").click()
    map_page.page.locator("#department-load tbody tr").first.wait_for()
    assert "departments" in map_page.page.url
    map_page.wait_settled()
    map_page.screenshot("command-departments")
    map_page.page.locator("#cmd-tab-coordination").click()
    map_page.wait_settled()
    assert map_page.page.locator("#cmd-board").inner_text().strip()
    map_page.assert_clean()


def test_command_on_a_phone(phone_page: MapPage, demo_server: DemoServer) -> None:
    case_no = registered_case(demo_server)
    open_page(phone_page, demo_server, "dispatcher", "/command", "/command phone")
    row = item(phone_page, "#dispatch-list", case_no)
    row.wait_for()
    width = phone_page.js("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    phone_page.screenshot("command-phone")
    row.locator(".case-link").click()
    panel = phone_page.page.locator("#case-panel")
    phone_page.page.locator("#case-panel .case-view[data-case-no]").wait_for()
    box = panel.bounding_box()
    assert box and box["width"] >= 380  # the panel covers the page
    phone_page.wait_settled()
    phone_page.screenshot("command-phone-case")
    phone_page.page.locator("#case-panel .case-close").click()
    assert panel.is_hidden()
    # English: the boards relabel themselves.
    phone_page.page.locator("#lang-select").select_option("en")
    phone_page.page.wait_for_function(
        "() => document.querySelector('#cmd-tab-dispatch .cmd-tab-name').textContent"
        " === 'To dispatch'"
    )
    assert "Dispatch as suggested" in row.inner_text()
    phone_page.assert_clean()


def test_dispatch_board_pages_with_more(map_page: MapPage, demo_server: DemoServer) -> None:
    """待派遣 beyond one page: "加载更多" appends the next page by key (the page size is cut to
    2 here by rewriting the board's requests)."""
    for n in range(3):
        registered_case(demo_server, f"分页测试 {n}")
    everything = call(demo_server, "dispatcher", "GET", "/api/command/dispatch?limit=500")
    total = everything["total"]
    assert total >= 3 and len(everything["items"]) == total
    order = [c["case_no"] for c in everything["items"]]

    def small(route: Any) -> None:
        url = route.request.url.replace("limit=50&", "limit=2&").replace("limit=50", "limit=2")
        route.continue_(url=url)

    map_page.page.route("**/api/command/dispatch?*", small)
    open_page(map_page, demo_server, "dispatcher", "/command?tab=dispatch", "/command (paged)")
    # The page's modules (split into several files) are all preloaded by the shell.
    preloaded = map_page.page.locator("link[rel=modulepreload]").evaluate_all(
        "els => els.map(e => new URL(e.href).pathname)"
    )
    for name in ("command_kit", "command_boards", "command_approvals", "command_map"):
        assert f"/static/pages/{name}.js" in preloaded, name
    for name in ("case_view", "case_actions", "case_fields", "case_parts"):
        assert f"/static/lib/{name}.js" in preloaded, name
    rows = map_page.page.locator("#dispatch-list > li")
    assert rows.evaluate_all("els => els.map(e => e.dataset.caseNo)") == order[:2]
    foot = map_page.page.locator("#dispatch-foot")
    assert foot.locator("[data-total]").inner_text() == f"显示 2 / {total} 件"
    foot.locator('[data-act="more"]').click()
    map_page.page.wait_for_function(
        "() => document.querySelectorAll('#dispatch-list > li').length > 2"
    )
    assert rows.evaluate_all("els => els.map(e => e.dataset.caseNo)") == order[:4]
    assert map_page.js("() => window.gridgov.command.data.dispatch.items.length") == min(4, total)
    map_page.screenshot("command-dispatch-more")
    map_page.assert_clean()
