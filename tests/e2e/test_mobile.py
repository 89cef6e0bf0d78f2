"""The supervisor's phone app (/m) in a real Chromium on a phone viewport with GPS.

A supervisor reports a problem with a photo from the camera input and the GPS position (the grid
is found, the case appears); the offline queue keeps a report made without network, shows it as
waiting and sends it exactly once when the network is back — also when the first attempt reached
the server and only the answer was lost; 核实 and 核查 tasks are listed by distance, drawn on the
map with a line from the supervisor, and answered from the phone; a patrol starts, sends its
positions in batches and stops.

Every test fails on a console error (except the network failures it provokes on purpose, which
Chromium logs as errors) and on any request to a host other than this machine. Screenshots go to
``build-output/screenshots/``; load times are printed as ``[e2e page loads]`` (run with ``-s``).
"""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image
from sqlalchemy import select

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.db import session_scope
from tests.e2e.conftest import api_call, login_token, open_shell_page, use_session

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

#: What Chromium logs when a request fails because the test took the network away or cut it.
OFFLINE_CONSOLE = ("net::ERR_INTERNET_DISCONNECTED", "net::ERR_CONNECTION_RESET")
DEPARTMENT = "QCGZFJ"  # the demo department of the dept_cgzf login


# ---- data and users -------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    username: str


def supervisor_of(server: DemoServer, grid_code: str) -> Person:
    """The demo supervisor (jdy…) whose responsibility grid holds ``grid_code``."""
    with session_scope(server.engine) as s:
        row = s.execute(
            select(User.id, User.username)
            .join(Jurisdiction, Jurisdiction.user_id == User.id)
            .where(
                User.role == Role.SUPERVISOR,
                User.username.like("jdy%"),
                Jurisdiction.scope_kind == ScopeKind.GRID,
                Jurisdiction.code == grid_code,
            )
            .limit(1)
        ).one()
    return Person(int(row[0]), str(row[1]))


def user_named(server: DemoServer, username: str) -> Person:
    with session_scope(server.engine) as s:
        uid = s.scalar(select(User.id).where(User.username == username))
    assert uid is not None, username
    return Person(int(uid), username)


def jpeg_bytes(color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 64), color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def jpeg_file(
    tmp_path: Path, name: str = "photo.jpg", color: tuple[int, int, int] = (200, 80, 40)
) -> Path:
    """A small real JPEG, as the camera input would give it."""
    path = tmp_path / name
    path.write_bytes(jpeg_bytes(color))
    return path


def upload_photo(server: DemoServer, token: str | None) -> str:
    import urllib.request

    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + jpeg_bytes((40, 120, 200))
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(server.base_url + "/api/media", data=body, method="POST")
    req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return str(json.loads(resp.read())["id"])


def get_case(server: DemoServer, no: str, username: str = "acceptor") -> dict[str, Any]:
    token = login_token(server, username)
    status, body = api_call(server, "GET", f"/api/cases/{no}", token=token)
    assert status == 200, body
    return body


def act(
    server: DemoServer, no: str, username: str, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """One workflow action through the API as ``username`` (with the case's current version)."""
    token = login_token(server, username)
    version = get_case(server, no, username)["version"]
    status, body = api_call(
        server,
        "POST",
        f"/api/cases/{no}/actions",
        {"action": action, "payload": payload, "expected_version": version},
        token=token,
    )
    assert status == 200, (action, body)
    return body


def hotline_case(server: DemoServer, lon: float, lat: float, description: str) -> dict[str, Any]:
    """A hotline report filed by the acceptor (needs 核实 on site before 立案)."""
    status, case = api_call(
        server,
        "POST",
        "/api/cases",
        {
            "channel": "hotline",
            "subclass": "0102",
            "subclass_kind": "event",
            "lon": lon,
            "lat": lat,
            "description": description,
            "contact": {"name": "赵先生", "phone": "13700001111"},
        },
        token=login_token(server, "acceptor"),
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, case
    return case


def verified_to_handled(server: DemoServer, no: str, verifier: Person) -> None:
    """From 核实中 to 处置反馈: verified on site, registered, dispatched, handled."""
    photo = upload_photo(server, login_token(server, verifier.username))
    act(server, no, verifier.username, "verify", {"photos": [photo]})
    act(server, no, "shift_lead", "register", {})
    act(server, no, "dispatcher", "dispatch", {"department_code": DEPARTMENT})
    act(server, no, "dept_cgzf", "accept", {})
    dept_photo = upload_photo(server, login_token(server, "dept_cgzf"))
    act(
        server,
        no,
        "dept_cgzf",
        "report_back",
        {"result": "垃圾已清运，现场已冲洗", "photos": [dept_photo]},
    )


def cases_described(
    server: DemoServer, username: str, grid_code: str, description: str
) -> list[dict[str, Any]]:
    status, body = api_call(
        server,
        "GET",
        f"/api/cases?grid_code={grid_code}&limit=500",
        token=login_token(server, username),
    )
    assert status == 200, body
    return [c for c in body["items"] if c["description"] == description]


# ---- the phone ------------------------------------------------------------------------------


def phone_at(page_factory: Any, server: DemoServer, name: str, lon: float, lat: float) -> MapPage:
    """A phone-sized page whose GPS says (lon, lat), permission granted."""
    mp: MapPage = page_factory(name, viewport="phone")
    context = mp.page.context
    context.grant_permissions(["geolocation"], origin=server.base_url)
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 8})
    return mp


def open_app(mp: MapPage, server: DemoServer, who: Person, label: str) -> None:
    use_session(mp, server, who.username)
    load = open_shell_page(mp, "/m")
    print(
        f"\n[e2e page loads] /m {label}: usable {load.usable_s:.2f} s, "
        f"settled {load.settled_s:.2f} s (maps and first data included)"
    )
    assert mp.page.title().startswith("监督员")


def wait_grid(mp: MapPage, code: str) -> None:
    mp.page.wait_for_function(
        "(code) => document.querySelector('.m-place-grid')?.dataset.grid === code",
        arg=code,
        timeout=15_000,
    )


def pick_subclass(mp: MapPage, search: str = "bllj", code: str = "0102") -> None:
    form = mp.page.locator("#m-report-form")
    form.locator(".subclass-picker .picker-search").fill(search)  # pinyin initials of 暴露垃圾
    option = form.locator(f'.subclass-picker .picker-option[data-code="{code}"]')
    option.wait_for()
    option.click()
    form.locator(".subclass-picker .picker-chosen").wait_for()


def outbox_count(mp: MapPage) -> int:
    return int(mp.page.locator(".m-outbox").get_attribute("data-count") or "0")


def wait_submitted(mp: MapPage) -> str:
    """Wait until the report form has finished submitting; the note above it says how it went."""
    mp.page.wait_for_function(
        """() => {
            const form = document.querySelector('#m-report-form');
            const note = document.querySelector('.m-last-report');
            return form.getAttribute('aria-busy') === 'false' && note && !note.hidden;
        }""",
        timeout=20_000,
    )
    return str(mp.page.locator(".m-last-report").inner_text())


def wait_offline_ready(mp: MapPage) -> None:
    """Wait until the app's service worker (pages/mobile/sw.js) has kept the app and controls
    the page: from now on /m opens without network."""
    mp.page.wait_for_function(
        """async () => {
            const sw = navigator.serviceWorker;
            if (!sw || !sw.controller || window.gridgov.offline?.state !== 'ready') return false;
            const names = await caches.keys();
            for (const name of names.filter((n) => n.startsWith('gridgov-m-'))) {
                const cache = await caches.open(name);
                if (await cache.match('/m')) return true;
            }
            return false;
        }""",
        timeout=20_000,
    )


def wait_outbox(mp: MapPage, n: int, timeout: int = 20_000) -> None:
    mp.page.wait_for_function(
        "(n) => document.querySelector('.m-outbox')?.dataset.count === String(n)",
        arg=n,
        timeout=timeout,
    )


# ---- tests ----------------------------------------------------------------------------------


def test_supervisor_reports_with_photo_and_gps(
    page_factory: Any, demo_server: DemoServer, tmp_path: Path
) -> None:
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    mp = phone_at(page_factory, demo_server, "mobile-report", g.lon, g.lat)
    open_app(mp, demo_server, sup, "(supervisor, report tab)")
    page = mp.page
    form = page.locator("#m-report-form")
    assert page.locator(".m-tab.active").get_attribute("data-tab") == "report"
    assert form.locator('input[type="file"]').get_attribute("capture") == "environment"

    # GPS → the grid, its community, the nearest known address (the gazetteer's door plates
    # and buildings within 100 m, GET /api/gazetteer/reverse); the small map draws our own layers.
    wait_grid(mp, g.code)
    assert g.community_name in page.locator(".m-place-grid").inner_text()
    status, where = api_call(
        demo_server,
        "GET",
        f"/api/gazetteer/reverse?lon={g.lon}&lat={g.lat}&radius_m=100&limit=1",
        token=login_token(demo_server, sup.username),
    )
    assert status == 200 and where["grid"]["code"] == g.code, where
    if where["results"]:
        nearest = where["results"][0]["address"]
        page.wait_for_function(
            "(a) => document.querySelector('.m-place-address')?.dataset.address === a",
            arg=nearest,
            timeout=15_000,
        )
        assert page.locator(".m-place-address .m-address").inner_text() == nearest
    page.wait_for_function("() => document.querySelector('.m-report-map canvas')")

    # Nothing is sent while required fields are missing.
    form.locator('button[type="submit"]').click()
    assert form.locator(".form-error").is_visible()
    assert form.locator(".field-error").count() >= 3

    form.locator('input[type="file"]').set_input_files(str(jpeg_file(tmp_path)))
    form.locator(".m-photo-list li.uploaded").wait_for()
    pick_subclass(mp)
    assert form.locator('select[name="urgency"] option').count() >= 2  # 0102: normal, urgent
    form.locator('select[name="urgency"]').select_option("urgent")
    text = f"人行道上有生活垃圾散落（手机上报 {uuid.uuid4().hex[:6]}）"
    form.locator('textarea[name="description"]').fill(text)
    mp.screenshot("filled")
    form.locator('button[type="submit"]').click()
    wait_submitted(mp)
    note = page.locator(".m-last-report")
    no = note.get_attribute("data-case-no")
    assert no and no in note.inner_text()
    assert outbox_count(mp) == 0
    case = get_case(demo_server, no, sup.username)
    assert case["description"] == text
    assert case["channel"] == "supervisor" and case["state"] == "reported"
    assert case["grid_code"] == g.code
    assert case["urgency"] == "urgent" and case["subclass_code"] == "0102"
    assert len(case["photos"]) == 1
    assert abs(case["lon"] - g.lon) < 1e-5 and abs(case["lat"] - g.lat) < 1e-5
    # The form is empty again, the report is listed on the phone, the subclass is one tap away.
    assert form.locator('textarea[name="description"]').input_value() == ""
    page.locator(f'.m-recent li[data-case-no="{no}"]').wait_for()
    assert page.locator('.m-usual-chip[data-code="0102"]').count() == 1
    mp.wait_settled()
    mp.screenshot("sent")
    mp.assert_clean()


def test_report_links_a_nearby_component(
    page_factory: Any, demo_server: DemoServer, tmp_path: Path
) -> None:
    """A component (城市部件) near the supervisor is listed; picking it fills the subclass and
    links the case to it."""
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    status, comp = api_call(
        demo_server,
        "POST",
        "/api/components",
        {
            "subclass_code": "0101",
            "lon": g.lon + 0.0001,
            "lat": g.lat,
            "name": "上水井盖（界面测试）",
        },
        token=login_token(demo_server, "admin"),
    )
    assert status == 201, comp
    mp = phone_at(page_factory, demo_server, "mobile-component", g.lon, g.lat)
    open_app(mp, demo_server, sup, "(supervisor, component)")
    page = mp.page
    form = page.locator("#m-report-form")
    wait_grid(mp, g.code)
    button = form.locator(f'.m-component[data-component="{comp["id"]}"]')
    button.wait_for(timeout=15_000)
    assert "上水井盖（界面测试）" in button.inner_text()
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    chosen = form.locator(".subclass-picker .picker-chosen")
    chosen.wait_for()
    assert "上水井盖" in chosen.inner_text()
    assert form.locator('select[name="urgency"] option').count() == 3  # normal, urgent, critical
    form.locator('input[type="file"]').set_input_files(str(jpeg_file(tmp_path)))
    form.locator(".m-photo-list li.uploaded").wait_for()
    text = f"井盖破损下沉（关联部件 {uuid.uuid4().hex[:6]}）"
    form.locator('textarea[name="description"]').fill(text)
    mp.screenshot("chosen")
    form.locator('button[type="submit"]').click()
    wait_submitted(mp)
    no = page.locator(".m-last-report").get_attribute("data-case-no")
    assert no
    case = get_case(demo_server, no, sup.username)
    assert case["component_id"] == comp["id"]
    assert (case["subclass_kind"], case["subclass_code"]) == ("component", "0101")
    assert case["description"] == text
    mp.assert_clean()


def test_offline_report_is_queued_and_sent_exactly_once(
    page_factory: Any, demo_server: DemoServer, tmp_path: Path
) -> None:
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    mp = phone_at(page_factory, demo_server, "mobile-offline", g.lon, g.lat)
    open_app(mp, demo_server, sup, "(supervisor, offline queue)")
    page = mp.page
    context = page.context
    form = page.locator("#m-report-form")
    wait_grid(mp, g.code)
    wait_offline_ready(mp)
    pick_subclass(mp)
    keys: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key", ""))
            if r.method == "POST" and r.url.endswith("/api/cases")
            else None
        ),
    )

    # The signal is gone: the photo cannot be uploaded and is kept; the report is queued.
    context.set_offline(True)
    page.wait_for_function("() => document.querySelector('.m-net')?.dataset.online === 'false'")
    form.locator('input[type="file"]').set_input_files(
        str(jpeg_file(tmp_path, color=(30, 160, 90)))
    )
    form.locator(".m-photo-list li.pending").wait_for()
    text = f"井边堆放杂物（离线上报 {uuid.uuid4().hex[:6]}）"
    form.locator('textarea[name="description"]').fill(text)
    form.locator('button[type="submit"]').click()
    assert "网络不可用" in wait_submitted(mp)
    wait_outbox(mp, 1)
    assert "待发送 1 条" in page.locator(".m-outbox-count").inner_text()
    assert page.locator(".m-resend").is_visible()
    page.locator(".m-outbox-details summary").click()
    item = page.locator('.m-outbox-item[data-kind="report"]')
    assert text[:20] in item.inner_text()
    assert "网络不可用" in page.locator(".m-last-report").inner_text()
    assert cases_described(demo_server, sup.username, g.code, text) == []
    mp.screenshot("queued")

    # A manual resend while still offline changes nothing.
    page.locator(".m-resend").click()
    page.wait_for_timeout(300)
    assert outbox_count(mp) == 1

    # Reloaded without network, the app still opens (its service worker kept the page, the
    # modules, the labels and the styles) with the report form and the queue; the map waits.
    page.reload()
    page.wait_for_function("() => window.gridgov && window.gridgov.settled()", timeout=20_000)
    assert page.title().startswith("监督员")
    assert form.is_visible() and form.locator('button[type="submit"]').is_visible()
    assert page.locator(".m-net").get_attribute("data-online") == "false"
    wait_outbox(mp, 1)
    assert page.locator(".m-map-offline").is_visible()
    assert mp.js("() => navigator.serviceWorker.controller !== null")
    mp.screenshot("offline-start")
    assert cases_described(demo_server, sup.username, g.code, text) == []

    # The network is back: `online` sends it, with the key made when submit was pressed.
    context.set_offline(False)
    wait_outbox(mp, 0)
    page.locator(".m-recent li[data-case-no]").first.wait_for()
    found = cases_described(demo_server, sup.username, g.code, text)
    assert len(found) == 1, found
    assert len(found[0]["photos"]) == 1  # the queued photo went up first
    assert found[0]["grid_code"] == g.code
    # Another resend (nothing waits now) and a reload never file it twice.
    page.locator(".m-resend").evaluate("b => b.click()")
    open_shell_page(mp, "/m")
    assert outbox_count(mp) == 0
    assert len(cases_described(demo_server, sup.username, g.code, text)) == 1
    assert len(set(keys)) == 1 and keys[0], keys  # every attempt carried the same key
    mp.wait_settled()
    mp.screenshot("sent")
    mp.assert_clean(allow_console=OFFLINE_CONSOLE)


def test_lost_answer_is_resent_with_the_same_key(
    page_factory: Any, demo_server: DemoServer, tmp_path: Path
) -> None:
    """The server files the report but the phone never hears back: the resend with the same
    Idempotency-Key gets the same case, not a second one."""
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    mp = phone_at(page_factory, demo_server, "mobile-lost-answer", g.lon, g.lat)
    open_app(mp, demo_server, sup, "(supervisor, lost answer)")
    page = mp.page
    form = page.locator("#m-report-form")
    wait_grid(mp, g.code)
    keys: list[str] = []

    def cut_answer(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key", ""))
        route.fetch()  # the server gets it and files the case …
        route.abort("connectionreset")  # … and the answer is lost on the way back

    page.route(
        "**/api/cases",
        lambda route: cut_answer(route) if route.request.method == "POST" else route.fallback(),
    )
    form.locator('input[type="file"]').set_input_files(str(jpeg_file(tmp_path)))
    form.locator(".m-photo-list li.uploaded").wait_for()
    pick_subclass(mp)
    text = f"路面有积水（应答丢失 {uuid.uuid4().hex[:6]}）"
    form.locator('textarea[name="description"]').fill(text)
    form.locator('button[type="submit"]').click()
    assert "网络不可用" in wait_submitted(mp)
    wait_outbox(mp, 1)
    assert len(cases_described(demo_server, sup.username, g.code, text)) == 1  # filed already

    page.unroute("**/api/cases")
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key", ""))
            if r.method == "POST" and r.url.endswith("/api/cases")
            else None
        ),
    )
    page.locator(".m-resend").click()
    wait_outbox(mp, 0)
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0], keys
    found = cases_described(demo_server, sup.username, g.code, text)
    assert len(found) == 1, found
    page.locator(f'.m-recent li[data-case-no="{found[0]["case_no"]}"]').wait_for()
    mp.assert_clean(allow_console=OFFLINE_CONSOLE)


def test_verify_and_check_tasks_by_distance(
    page_factory: Any, demo_server: DemoServer, tmp_path: Path
) -> None:
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    tag = uuid.uuid4().hex[:6]
    # A 核实 task and a 核查 task for this supervisor, both at the known grid's point.
    to_verify = hotline_case(demo_server, g.lon, g.lat, f"热线：垃圾桶满溢（核实任务 {tag}）")
    act(demo_server, to_verify["case_no"], "acceptor", "assign_verify", {"verifier_id": sup.id})
    to_check = hotline_case(demo_server, g.lon, g.lat, f"热线：道路不洁（核查任务 {tag}）")
    act(demo_server, to_check["case_no"], "acceptor", "assign_verify", {"verifier_id": sup.id})
    verified_to_handled(demo_server, to_check["case_no"], sup)
    act(demo_server, to_check["case_no"], "acceptor", "assign_check", {"checker_id": sup.id})

    # The supervisor stands about 150 m east of the point.
    here = (g.lon + 0.00175, g.lat)
    mp = phone_at(page_factory, demo_server, "mobile-tasks", *here)
    open_app(mp, demo_server, sup, "(supervisor, tasks)")
    page = mp.page
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.url) if "/api/cases" in r.url else None)
    page.locator('.m-tab[data-tab="tasks"]').click()
    mp.wait_settled()
    verify_item = page.locator(f'.m-task[data-case-no="{to_verify["case_no"]}"]')
    check_item = page.locator(f'.m-task[data-case-no="{to_check["case_no"]}"]')
    verify_item.wait_for(timeout=20_000)
    assert verify_item.get_attribute("data-kind") == "verify"
    assert check_item.get_attribute("data-kind") == "check"
    # One request lists my own tasks: no detail read per candidate case.
    listed = [u for u in calls if "/api/cases/board/list" in u]
    assert listed and all("assigned_to_me=true" in u for u in listed), calls
    assert not [u for u in calls if "/api/cases/board/list" not in u], calls
    metres = int(verify_item.locator(".m-distance").get_attribute("data-m") or "0")
    assert 120 <= metres <= 180, metres
    # Sorted by distance; every task has a line from the supervisor on the map.
    distances = page.locator(".m-task .m-distance").evaluate_all(
        "els => els.map(e => Number(e.dataset.m))"
    )
    assert distances == sorted(distances)
    page.wait_for_function(
        "() => window.gridgov.taskMap && window.gridgov.taskMap.getLayer('task-route')"
    )
    lines = mp.js(
        "() => window.gridgov.mobile.tasks.lineData().features"
        ".filter(f => f.geometry.type === 'LineString').map(f => f.properties.case_no)"
    )
    # The source's tiles are built after the layer exists: wait for the lines to be drawn.
    page.wait_for_function(
        "() => window.gridgov.taskMap.querySourceFeatures('tasks')"
        ".filter(f => f.geometry.type === 'LineString').length >= 2",
        timeout=20_000,
    )
    assert to_verify["case_no"] in lines and to_check["case_no"] in lines
    assert int(page.locator(".m-tab-count").inner_text()) == len(distances)
    mp.screenshot("list")

    # 核实: 属实 with a photo.
    verify_item.locator(".m-task-open").click()
    form = page.locator(f"#m-task-{to_verify['case_no']}")
    form.wait_for()
    form.locator('button[type="submit"]').click()  # nothing chosen yet: refused in the browser
    assert form.locator(".form-error").is_visible()
    form.locator('input[name="result"][value="verify"]').check()
    form.locator('input[type="file"]').set_input_files(str(jpeg_file(tmp_path)))
    form.locator(".m-photo-list li.uploaded").wait_for()
    mp.screenshot("verify-form")
    form.locator('button[type="submit"]').click()
    verify_item.wait_for(state="detached", timeout=15_000)
    after = get_case(demo_server, to_verify["case_no"])
    assert after["state"] == "verified"
    assert after["events"][-1]["action"] == "verify" and after["events"][-1]["payload"]["photos"]

    # 核查: 不通过 needs a reason and photos → 返工.
    check_item.locator(".m-task-open").click()
    form = page.locator(f"#m-task-{to_check['case_no']}")
    form.wait_for()
    form.locator('input[name="result"][value="check_fail"]').check()
    form.locator('input[type="file"]').set_input_files(
        str(jpeg_file(tmp_path, "c.jpg", (90, 90, 90)))
    )
    form.locator(".m-photo-list li.uploaded").wait_for()
    form.locator('button[type="submit"]').click()
    assert form.locator('.field[data-field="note"] .field-error').is_visible()
    form.locator('textarea[name="note"]').fill("路面仍有污渍，未冲洗干净")
    form.locator('button[type="submit"]').click()
    check_item.wait_for(state="detached", timeout=15_000)
    after = get_case(demo_server, to_check["case_no"])
    assert after["state"] == "rework"
    assert after["events"][-1]["payload"]["reason"] == "路面仍有污渍，未冲洗干净"
    mp.wait_settled()
    mp.screenshot("done")
    mp.assert_clean()


def test_patrol_start_positions_stop(page_factory: Any, demo_server: DemoServer) -> None:
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    mp = phone_at(page_factory, demo_server, "mobile-patrol", g.lon, g.lat)
    open_app(mp, demo_server, sup, "(supervisor, patrol)")
    page = mp.page
    context = page.context
    token = login_token(demo_server, sup.username)
    # Stop a patrol an earlier run may have left open.
    status, running = api_call(demo_server, "GET", "/api/patrol/current", token=token)
    if running:
        api_call(demo_server, "POST", f"/api/patrol/{running['id']}/stop", token=token)
        open_shell_page(mp, "/m")
    page.locator('.m-tab[data-tab="patrol"]').click()
    card = page.locator(".m-patrol-card")
    assert card.get_attribute("data-state") == "off"
    mp.js("() => { window.gridgov.page.PATROL.everyMs = 800; }")  # send often in the test

    page.locator(".m-patrol-toggle").click()
    page.wait_for_function("() => document.querySelector('.m-patrol-card')?.dataset.state === 'on'")
    assert page.locator(".m-patrol-toggle").get_attribute("data-action") == "stop"
    # Walk east along the grid; the batches go up while walking.
    for step in range(1, 5):
        context.set_geolocation(
            {"longitude": g.lon + step * 0.00003, "latitude": g.lat, "accuracy": 6}
        )
        page.wait_for_timeout(900)
    page.wait_for_function(
        """() => Number(
            document.querySelector('.m-patrol-facts dd[data-field=points]')?.textContent
        ) >= 3""",
        timeout=15_000,
    )
    status, now = api_call(demo_server, "GET", "/api/patrol/current", token=token)
    assert status == 200 and now and now["running"] and now["point_count"] >= 3
    mp.screenshot("on")

    page.locator(".m-patrol-toggle").click()
    page.wait_for_function(
        "() => document.querySelector('.m-patrol-card')?.dataset.state === 'stopped'"
    )
    wait_outbox(mp, 0)
    status, done = api_call(demo_server, "GET", f"/api/patrol/{now['id']}", token=token)
    assert status == 200 and not done["running"] and done["stopped_at"]
    assert done["point_count"] >= now["point_count"]
    assert done["last"]["grid_code"] == g.code
    status, cover = api_call(demo_server, "GET", f"/api/patrol/{now['id']}/coverage", token=token)
    assert status == 200 and g.code in [x["grid_code"] for x in cover["grids"]]
    status, running = api_call(demo_server, "GET", "/api/patrol/current", token=token)
    assert running is None
    time.sleep(0.2)
    mp.wait_settled()
    mp.screenshot("stopped")
    mp.assert_clean()


def test_english_labels_on_the_phone(page_factory: Any, demo_server: DemoServer) -> None:
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    mp = phone_at(page_factory, demo_server, "mobile-english", g.lon, g.lat)
    open_app(mp, demo_server, sup, "(supervisor, English)")
    page = mp.page
    page.select_option("#lang-select", "en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.locator('.m-tab[data-tab="tasks"]').inner_text().strip() == "Tasks"
    assert page.locator(".m-outbox-count").inner_text() == "Everything sent"
    assert "GPS fix" in page.locator(".m-place-status").inner_text()
    page.locator('.m-tab[data-tab="patrol"]').click()
    assert page.locator(".m-patrol-toggle").inner_text() in ("Start patrol", "End patrol")
    page.select_option("#lang-select", "zh-CN")
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    mp.assert_clean()
