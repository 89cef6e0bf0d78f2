"""Jurisdiction in a real Chromium: what a user outside a case's jurisdiction sees.

- a supervisor of another grid (the neighbouring responsibility grid of the same community when
  there is one) does not get the case's 核实 task on /m, and /case/<no> shows the translated
  refusal (超出管辖范围) with no case facts and no action buttons — while the case's own
  supervisor does get the task;
- a department user of another department (环卫中心 ``QHWZX``; the demo has no login for it, so
  the ``e2e_dept_qhwzx`` user is created through the admin API, ``POST /api/users``) does not
  see a case dispatched to 城管执法局 on /department, is refused it at /department?case=<no>
  (不是本部门的案件) and on /case/<no>;
- a resident (the demo ``resident`` login) cannot open another resident's report
  (``e2e_resident2``, also created through the admin API) on /track without its tracking code:
  without a code the form refuses to look it up, a wrong code reads as "没有这个案件", their own
  list does not have it, /case/<no> is refused; with the right code it is shown.

The set-up (the cases, the extra users, the steps before the one looked at) goes through the
API; what is asserted is what the pages show. Every page fails the test on a console error other
than the refusals provoked on purpose and on a request to a non-local host. Screenshots go to
``build-output/screenshots/jurisdiction-*.png``.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.db import session_scope
from tests.e2e.conftest import DEMO_PASSWORD, api_call, login_token, open_shell_page, use_session
from tests.e2e.test_loop import Person, phone_at, read_case, settled, supervisor_of, wait_case

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

DEPARTMENT = "QCGZFJ"  # 城管执法局, the demo login dept_cgzf
OTHER_DEPARTMENT, OTHER_DEPARTMENT_USER = "QHWZX", "e2e_dept_qhwzx"  # 环卫中心: no demo login
OTHER_RESIDENT = "e2e_resident2"
#: What Chromium logs for the refusals these tests provoke.
REFUSED = ("status of 403", "status of 404")


# ---- set-up through the API -----------------------------------------------------------------


def ensure_user(server: DemoServer, username: str, body: dict[str, Any]) -> None:
    """Create ``username`` through the admin API (password: the demo one) unless it exists."""
    admin = login_token(server, "admin")
    status, _ = api_call(server, "GET", f"/api/users/{username}", token=admin)
    if status == 404:
        payload = {"username": username, "password": DEMO_PASSWORD, **body}
        status, created = api_call(server, "POST", "/api/users", payload, token=admin)
        assert status == 201, created
    else:
        assert status == 200


def act(server: DemoServer, no: str, username: str, action: str, payload: Any = None) -> None:
    """One workflow action as ``username`` with the version it reads; waits until it is seen."""
    token = login_token(server, username)
    for _ in range(40):
        status, case = read_case(server, no, username)
        assert status in (200, 404), case
        if status == 200:
            body = {"action": action, "payload": payload or {}, "expected_version": case["version"]}
            status, done = api_call(server, "POST", f"/api/cases/{no}/actions", body, token=token)
            if status == 200:
                break
            assert status == 409, (action, status, done)
        time.sleep(0.1)
    else:
        raise AssertionError(f"{action} on {no} never went through")
    deadline = time.monotonic() + 10
    while read_case(server, no, username)[1].get("version") != done["version"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def hotline_case(server: DemoServer, subclass: str, description: str) -> str:
    """A hotline report filed by the acceptor at the known grid (needs 核实 before 立案)."""
    g = server.grid
    body = {
        "channel": "hotline",
        "subclass": subclass,
        "subclass_kind": "event",
        "lon": g.lon,
        "lat": g.lat,
        "description": description,
        "contact": {"name": "钱女士", "phone": "13500135000"},
    }
    status, case = api_call(
        server,
        "POST",
        "/api/cases",
        body,
        token=login_token(server, "acceptor"),
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, case
    no = str(case["case_no"])
    wait_case(server, no, "reported")
    return no


def upload_photo(server: DemoServer, username: str) -> str:
    import json
    import urllib.request

    from tests.e2e.test_loop import jpeg

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


def other_supervisor(server: DemoServer, grid_code: str) -> Person:
    """A demo supervisor whose grids do not hold ``grid_code``: one of the same community when
    there is one (the neighbouring responsibility grid), else any other."""
    with session_scope(server.engine) as s:
        rows = s.execute(
            select(User.id, User.username, Jurisdiction.code)
            .join(Jurisdiction, Jurisdiction.user_id == User.id)
            .where(
                User.role == Role.SUPERVISOR,
                User.username.like("jdy%"),
                Jurisdiction.scope_kind == ScopeKind.GRID,
            )
            .order_by(User.username, Jurisdiction.code)
        ).all()
    grids: dict[tuple[int, str], set[str]] = {}
    for uid, name, code in rows:
        grids.setdefault((int(uid), str(name)), set()).add(str(code))
    others = [(k, v) for k, v in grids.items() if grid_code not in v]
    others.sort(key=lambda kv: (not any(c[:12] == grid_code[:12] for c in kv[1]), kv[0][1]))
    (uid, name), _ = others[0]
    return Person(uid, name)


# ---- what a refused page shows --------------------------------------------------------------


def assert_case_page_refused(mp: MapPage, no: str) -> None:
    """/case/<no>: the translated refusal, no facts, no action buttons."""
    open_shell_page(mp, f"/case/{no}")
    page = mp.page
    notice = page.locator('#toasts .toast[data-kind="error"]').first
    notice.wait_for(timeout=15_000)
    assert notice.get_attribute("data-code") == "outside_jurisdiction"
    assert "超出管辖范围" in notice.inner_text()
    assert f"无法加载案件 {no}" in page.locator("#page .page-error").inner_text()
    assert page.locator("#page .case-facts").count() == 0
    assert page.locator("#page .action-buttons button").count() == 0
    assert page.locator("#page .timeline li").count() == 0


# ---- tests ----------------------------------------------------------------------------------


def test_supervisor_of_another_grid_sees_nothing(
    page_factory: Any, demo_server: DemoServer
) -> None:
    g = demo_server.grid
    own = supervisor_of(demo_server, g.code)
    other = other_supervisor(demo_server, g.code)
    no = hotline_case(demo_server, "0102", f"热线：垃圾堆放（管辖测试 {uuid.uuid4().hex[:6]}）")
    act(demo_server, no, "acceptor", "assign_verify", {"verifier_id": own.id})
    status, body = read_case(demo_server, no, other.username)
    assert status == 403 and body["code"] == "outside_jurisdiction", body

    # The case's own supervisor has the 核实 task (so the list below is not empty by accident).
    mine = phone_at(page_factory, demo_server, "jurisdiction-own-supervisor", g.lon, g.lat)
    use_session(mine, demo_server, own.username)
    open_shell_page(mine, "/m")
    mine.page.locator('.m-tab[data-tab="tasks"]').click()
    mine.page.locator(f'.m-task[data-case-no="{no}"][data-kind="verify"]').wait_for(timeout=20_000)

    # The other supervisor, standing at the very same place, has no such task …
    mp = phone_at(page_factory, demo_server, "jurisdiction-other-supervisor", g.lon, g.lat)
    use_session(mp, demo_server, other.username)
    open_shell_page(mp, "/m")
    page = mp.page
    page.locator('.m-tab[data-tab="tasks"]').click()
    page.wait_for_function(  # the list has loaded (共 n 项 … / 目前没有待办任务)
        "() => { const s = document.querySelector('.m-tasks-summary')?.textContent || '';"
        " return s.includes('项') || s.includes('没有'); }",
        timeout=20_000,
    )
    settled(mp)
    assert page.locator(f'.m-task[data-case-no="{no}"]').count() == 0
    assert no not in page.locator("#page").inner_text()
    mp.screenshot("tasks")
    # … and /case/<no> refuses it.
    assert_case_page_refused(mp, no)
    mp.screenshot("case")
    mine.assert_clean()
    mp.assert_clean(allow_console=REFUSED)


def test_department_user_of_another_department_sees_nothing(
    page_factory: Any, demo_server: DemoServer
) -> None:
    ensure_user(
        demo_server,
        OTHER_DEPARTMENT_USER,
        {
            "name": "环卫中心（测试）",
            "role": "department",
            "department_code": OTHER_DEPARTMENT,
            "jurisdictions": [{"kind": "department", "code": OTHER_DEPARTMENT}],
        },
    )
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    no = hotline_case(
        demo_server, "0201", f"热线：非法小广告（部门管辖测试 {uuid.uuid4().hex[:6]}）"
    )
    act(demo_server, no, "acceptor", "assign_verify", {"verifier_id": sup.id})
    act(
        demo_server,
        no,
        sup.username,
        "verify",
        {"photos": [upload_photo(demo_server, sup.username)]},
    )
    act(demo_server, no, "shift_lead", "register")
    act(demo_server, no, "dispatcher", "dispatch", {"department_code": DEPARTMENT})
    assert read_case(demo_server, no, "dept_cgzf")[0] == 200  # its own department reads it
    status, body = read_case(demo_server, no, OTHER_DEPARTMENT_USER)
    assert status == 403 and body["code"] == "outside_jurisdiction", body

    mp: MapPage = page_factory("jurisdiction-other-department")
    use_session(mp, demo_server, OTHER_DEPARTMENT_USER)
    open_shell_page(mp, "/department")
    page = mp.page
    assert mp.js("() => window.gridgov.config.user.department_code") == OTHER_DEPARTMENT
    page.locator("#task-table").wait_for()
    settled(mp)
    groups = page.locator(".dept-groups [data-group]").evaluate_all(
        "els => els.map(e => e.dataset.group)"
    )
    assert "todo" in groups, groups
    for group in groups:  # not in any of its lists (待办, 等待中, 全部 …)
        page.locator(f'.dept-groups [data-group="{group}"]').click()
        settled(mp)
        assert page.locator(f'#task-table tr[data-case-no="{no}"]').count() == 0, group
    assert page.locator("#task-table tr[data-case-no]").count() > 0  # its own cases are listed
    status, listed = api_call(
        demo_server,
        "GET",
        "/api/cases?limit=500",
        token=login_token(demo_server, OTHER_DEPARTMENT_USER),
    )
    assert status == 200 and no not in {c["case_no"] for c in listed["items"]}
    page.locator('.dept-groups [data-group="todo"]').click()
    settled(mp)
    mp.screenshot("tasks")

    open_shell_page(mp, f"/department?case={no}")
    notice = page.locator('#toasts .toast[data-kind="error"]').first
    notice.wait_for(timeout=15_000)
    assert notice.get_attribute("data-code") == "outside_jurisdiction"
    assert "超出管辖范围" in notice.inner_text()
    refused = page.locator(f'#dept-work .dept-refused[data-case-no="{no}"]')
    assert "不是本部门的案件" in refused.inner_text()
    assert page.locator("#case-panel .case-view .case-facts").count() == 0
    assert page.locator("#dept-work .dept-actions button").count() == 0
    mp.screenshot("refused")

    assert_case_page_refused(mp, no)
    mp.screenshot("case")
    mp.assert_clean(allow_console=REFUSED)


def test_resident_cannot_open_another_residents_case_without_the_code(
    page_factory: Any, demo_server: DemoServer
) -> None:
    ensure_user(demo_server, OTHER_RESIDENT, {"name": "另一位居民（测试）", "role": "resident"})
    g = demo_server.grid
    status, report = api_call(
        demo_server,
        "POST",
        "/api/public/reports",
        {
            "subclass": "0104",
            "subclass_kind": "event",
            "lon": g.lon,
            "lat": g.lat,
            "description": f"楼下道路不洁（另一位居民 {uuid.uuid4().hex[:6]}）",
        },
        token=login_token(demo_server, OTHER_RESIDENT),
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, report
    no, code = report["case_no"], report["tracking_code"]
    wait_case(demo_server, no, "reported")
    assert read_case(demo_server, no, OTHER_RESIDENT)[0] == 200  # the reporter's own
    status, body = read_case(demo_server, no, "resident")
    assert status == 403 and body["code"] == "outside_jurisdiction", body
    status, body = api_call(demo_server, "GET", f"/api/public/cases/{no}")
    assert status in (404, 422), body  # no code: nothing to see

    mp: MapPage = page_factory("jurisdiction-resident", viewport="phone")
    use_session(mp, demo_server, "resident")
    open_shell_page(mp, f"/track?case={no}")
    page = mp.page
    form = page.locator("#r-track-form")
    assert form.locator('input[name="case_no"]').input_value() == no
    assert page.locator(".r-case").count() == 0  # nothing looked up without a code
    # The resident's own reports (their account's list) do not include it.
    page.locator(".r-account-list").wait_for()
    assert page.locator(f'.r-account-items li[data-case-no="{no}"]').count() == 0
    # Without a code the form refuses to look it up.
    form.locator('button[type="submit"]').click()
    assert form.locator('.field[data-field="code"] .field-error').is_visible()
    assert page.locator(".r-case").count() == 0
    # A guessed code reads as "no such case".
    form.locator('input[name="code"]').fill("ABCDE23456" if code != "ABCDE23456" else "ZZZZZ99999")
    form.locator('button[type="submit"]').click()
    error = form.locator(".form-error")
    error.wait_for(timeout=15_000)
    assert error.get_attribute("data-code") == "case_not_found"
    assert "没有这个案件" in error.inner_text()
    assert page.locator(".r-case").count() == 0
    assert no not in page.locator(".r-my").inner_text()  # not remembered on this device either
    mp.screenshot("track-refused")

    # Its staff page is refused too.
    assert_case_page_refused(mp, no)
    mp.screenshot("case")

    # With the code its reporter was given, it can be followed (the public view only).
    open_shell_page(mp, f"/track?case={no}")
    form = page.locator("#r-track-form")
    form.locator('input[name="code"]').fill(code)
    form.locator('button[type="submit"]').click()
    page.wait_for_function(
        "(no) => document.querySelector('.r-case')?.dataset.caseNo === no", arg=no, timeout=15_000
    )
    mp.assert_clean(allow_console=REFUSED)
