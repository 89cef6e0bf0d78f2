"""The whole closed loop in a real Chromium, across roles and viewports, through the UI only.

上报 → 受理/核实派发 → 核实 → 立案 → 派遣 → 签收 → 处置反馈 → 核查派发 → 核查 → 结案 → 查询与评价:

1. a resident (anonymous, phone 390×844 with GPS) reports 无证掘路 on /report with a photo, their
   position and the subclass, and gets the case number and tracking code (查询码);
2. the acceptor (desktop) finds it in 待受理 on /supervision and sends it to the grid's supervisor
   to verify (核实);
3. that supervisor verifies it on /m (phone, touch, GPS) with a photo;
4. the shift lead registers it (立案) on /supervision;
5. the dispatcher dispatches it (派遣) on /command to the suggested department;
6. the department user accepts it (签收) and reports back (处置反馈) with a photo on /department;
7. the acceptor assigns the check (核查) to the supervisor, who passes it (核查通过) on /m;
8. the shift lead closes it (结案);
9. the resident looks it up on /track with the number and code, sees the result and rates it.

Which department: the subclass is the event 0305 无证掘路 because the default responsibility
matrix (gridgov/departments/data/default.json) has an exact-subclass row for it naming 城管执法局
(``QCGZFJ``), and exact-subclass rows win over the 2-digit 属地 (street office) rows, so the
routing suggestion is the department of the demo login ``dept_cgzf``. The test asserts the
suggestion (read through the API) is that department before the dispatcher follows it.

Every step is done by clicking and typing in the role's page; the API is only read, to assert
the state after each step. A screenshot of every step goes to
``build-output/screenshots/loop-NN-<step>.png`` and each step's time is printed (run with ``-s``).
Every page fails the test on a console error or a request to a non-local host.
"""

from __future__ import annotations

import io
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from PIL import Image
from sqlalchemy import select

from gridgov.accounts.models import Jurisdiction, Role, ScopeKind, User
from gridgov.db import session_scope
from tests.e2e.conftest import api_call, login_token, open_shell_page, use_session

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

#: 无证掘路 (event 0305): routed to 城管执法局 (QCGZFJ), the department of the dept_cgzf login.
SUBCLASS_KIND, SUBCLASS_CODE, SUBCLASS_NAME = "event", "0305", "无证掘路"
DEPARTMENT, DEPARTMENT_USER = "QCGZFJ", "dept_cgzf"
RESULT_TEXT = "已责令停止施工，路面已恢复并补办掘路手续"


# ---- small helpers (also used by test_jurisdiction.py) --------------------------------------


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
            .order_by(User.username)
            .limit(1)
        ).one()
    return Person(int(row[0]), str(row[1]))


def jpeg(color: tuple[int, int, int] = (150, 110, 70)) -> bytes:
    """A small real JPEG, as a phone camera would give it."""
    buf = io.BytesIO()
    Image.new("RGB", (96, 64), color).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def photo_file(name: str, color: tuple[int, int, int] = (150, 110, 70)) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg(color)}


def phone_at(page_factory: Any, server: DemoServer, name: str, lon: float, lat: float) -> MapPage:
    """A phone page (390×844, touch, mobile) whose GPS says (lon, lat), permission granted."""
    mp: MapPage = page_factory(name, viewport="phone")
    context = mp.page.context
    context.grant_permissions(["geolocation"], origin=server.base_url)
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 8})
    return mp


def read_case(server: DemoServer, no: str, username: str = "acceptor") -> tuple[int, Any]:
    return api_call(server, "GET", f"/api/cases/{no}", token=login_token(server, username))


def wait_case(
    server: DemoServer, no: str, state: str, username: str = "acceptor", timeout: float = 15.0
) -> dict[str, Any]:
    """The case detail once the API shows it in ``state`` (writes commit after the answer)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = read_case(server, no, username)
        if status == 200 and body["state"] == state:
            return body
        assert time.monotonic() < deadline, f"case {no} never reached {state}: {status} {body}"
        time.sleep(0.1)


def settled(mp: MapPage) -> None:
    mp.page.wait_for_function(
        "() => window.gridgov && window.gridgov.settled && window.gridgov.settled()",
        timeout=20_000,
    )


def shot(mp: MapPage, n: int, step: str) -> None:
    """``build-output/screenshots/loop-NN-<step>.png`` once nothing is in flight."""
    settled(mp)
    mp.page.wait_for_timeout(150)
    settled(mp)
    mp.screenshot(f"{n:02d}-{step}")


def toast(mp: MapPage, kind: str, text: str | None = None) -> Any:
    found = mp.page.locator(f'#toasts .toast[data-kind="{kind}"]', has_text=text).last
    found.wait_for(timeout=15_000)
    return found


# ---- the pages, as each role works them -----------------------------------------------------


def open_in_board(mp: MapPage, queue: str, grid_code: str, no: str) -> Any:
    """/supervision: pick the queue, narrow it to the case's grid by typing the code into the
    grid filter, and open the case's row in the side panel."""
    open_shell_page(mp, "/supervision")
    page = mp.page
    page.locator(f'.queue[data-queue="{queue}"]').click()
    page.wait_for_function(
        "(q) => document.querySelector('.queue.active')?.dataset.queue === q", arg=queue
    )
    page.locator('#filters input[name="grid"]').fill(grid_code)
    # The filter applies after a short pause (it is then in the URL) and reloads the list.
    page.wait_for_function(
        "(g) => new URLSearchParams(location.search).get('grid') === g", arg=grid_code
    )
    settled(mp)
    row = page.locator(f'tr[data-case-no="{no}"]')
    row.wait_for(timeout=15_000)
    settled(mp)
    row.click()
    panel = page.locator("#case-panel")
    panel.locator(f'.case-view[data-case-no="{no}"]').wait_for(timeout=15_000)
    return panel


def panel_action(mp: MapPage, action: str) -> Any:
    """Press an action button of the case panel; the action's form."""
    panel = mp.page.locator("#case-panel")
    panel.locator(f'.action-buttons button[data-action="{action}"]').click()
    form = panel.locator("form.action-form")
    form.wait_for()
    return form


def wait_panel_state(mp: MapPage, state: str) -> None:
    mp.page.wait_for_function(
        "(s) => document.querySelector('#case-panel .case-view')?.dataset.state === s",
        arg=state,
        timeout=15_000,
    )


def choose_person(mp: MapPage, form: Any, name: str, person: Person) -> None:
    """Pick a supervisor in the verifier/checker select (its options come from the API)."""
    mp.page.wait_for_function(
        "(n) => document.querySelector(`#case-panel select[name=${n}]`)?.options.length > 1",
        arg=name,
        timeout=15_000,
    )
    form.locator(f'select[name="{name}"]').select_option(str(person.id))


def phone_task(mp: MapPage, no: str, kind: str) -> Any:
    """/m, tab 任务: the case's task (核实 or 核查) opened; its result form."""
    open_shell_page(mp, "/m")
    page = mp.page
    page.locator('.m-tab[data-tab="tasks"]').click()
    item = page.locator(f'.m-task[data-case-no="{no}"]')
    item.wait_for(timeout=20_000)
    assert item.get_attribute("data-kind") == kind
    settled(mp)
    item.locator(".m-task-open").click()
    form = page.locator(f"#m-task-{no}")
    form.wait_for()
    return form


# ---- the test -------------------------------------------------------------------------------


def test_the_whole_loop_through_the_ui(page_factory: Any, demo_server: DemoServer) -> None:
    g = demo_server.grid
    sup = supervisor_of(demo_server, g.code)
    times: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        times[name] = round(now - clock[0], 2)
        clock[0] = now

    # 1. The resident reports on a phone, anonymously: photo, GPS position, subclass.
    resident = phone_at(page_factory, demo_server, "loop", g.lon, g.lat)
    open_shell_page(resident, "/report")
    page = resident.page
    assert resident.js("() => window.gridgov.config.user") is None  # anonymous
    form = page.locator("#r-report-form")
    form.locator('input[type="file"]').set_input_files(files=[photo_file("dig.jpg")])
    form.locator(".photo-list li[data-media]").wait_for(timeout=15_000)
    page.locator(".r-gps").click()
    grid_shown = form.locator(".place-picker .picker-grid")
    grid_shown.wait_for(timeout=15_000)
    assert g.code in grid_shown.inner_text()
    form.locator(".subclass-picker .picker-search").fill(SUBCLASS_NAME)
    option = form.locator(
        f'.subclass-picker .picker-option[data-code="{SUBCLASS_CODE}"][data-kind="{SUBCLASS_KIND}"]'
    )
    option.wait_for(timeout=15_000)
    option.click()
    assert SUBCLASS_NAME in form.locator(".subclass-picker .picker-chosen").inner_text()
    text = f"小区东门外人行道被挖开，无施工公示（闭环测试 {uuid.uuid4().hex[:6]}）"
    form.locator('textarea[name="description"]').fill(text)
    form.locator('input[name="contact_name"]').fill("孙先生")
    form.locator('input[name="contact_phone"]').fill("13600136000")
    shot(resident, 1, "report-filled")
    form.locator('button[type="submit"]').click()
    done = page.locator(".r-done")
    done.wait_for(timeout=20_000)
    no = done.locator('dd[data-field="case_no"]').inner_text().strip()
    code = done.locator('dd[data-field="tracking_code"]').inner_text().strip()
    assert no.isdigit() and len(code) == 10, (no, code)
    shot(resident, 2, "report-number")
    case = wait_case(demo_server, no, "reported")
    assert case["channel"] == "public" and case["grid_code"] == g.code
    assert (case["subclass_kind"], case["subclass_code"]) == (SUBCLASS_KIND, SUBCLASS_CODE)
    assert case["description"] == text and len(case["photos"]) == 1
    lap("1 report (resident, phone)")

    # 2. The acceptor screens it (待受理, public channel, its grid) and sends it to verify.
    acceptor = page_factory("loop")
    use_session(acceptor, demo_server, "acceptor")
    panel = open_in_board(acceptor, "reported", g.code, no)
    assert panel.locator('[data-field="description"]').inner_text() == text
    assert "孙先生" in panel.locator('dd[data-field="reporter"]').inner_text()
    assert panel.locator('.photo-group[data-group="before"] img').count() == 1
    form = panel_action(acceptor, "assign_verify")
    choose_person(acceptor, form, "verifier_id", sup)
    form.locator('textarea[name="note"]').fill("请现场核实是否无证掘路")
    shot(acceptor, 3, "acceptor-assign-verify")
    form.locator('button[type="submit"]').click()
    wait_panel_state(acceptor, "verifying")
    wait_case(demo_server, no, "verifying")
    shot(acceptor, 4, "acceptor-verifying")
    lap("2 assign verify (acceptor)")

    # 3. The supervisor verifies on the phone, with a photo, about 80 m from the place.
    supervisor = phone_at(page_factory, demo_server, "loop", g.lon + 0.0009, g.lat)
    use_session(supervisor, demo_server, sup.username)
    form = phone_task(supervisor, no, "verify")
    form.locator('input[name="result"][value="verify"]').check()
    form.locator('input[type="file"]').set_input_files(files=[photo_file("onsite.jpg")])
    form.locator(".m-photo-list li.uploaded").wait_for(timeout=15_000)
    shot(supervisor, 5, "supervisor-verify")
    form.locator('button[type="submit"]').click()
    supervisor.page.locator(f'.m-task[data-case-no="{no}"]').wait_for(
        state="detached", timeout=15_000
    )
    verified = wait_case(demo_server, no, "verified")
    last = verified["events"][-1]
    assert last["action"] == "verify" and last["payload"]["photos"]
    lap("3 verify (supervisor, phone)")

    # 4. The shift lead registers it (立案).
    shift_lead = page_factory("loop")
    use_session(shift_lead, demo_server, "shift_lead")
    open_in_board(shift_lead, "to_register", g.code, no)
    form = panel_action(shift_lead, "register")
    form.locator('textarea[name="note"]').fill("经核实属无证掘路，符合立案条件")
    form.locator('button[type="submit"]').click()
    wait_panel_state(shift_lead, "registered")
    wait_case(demo_server, no, "registered")
    shot(shift_lead, 6, "shift-lead-registered")
    lap("4 register (shift lead)")

    # 5. The dispatcher dispatches it as the routing suggests.
    status, suggestion = api_call(
        demo_server, "GET", f"/api/cases/{no}/routing", token=login_token(demo_server, "dispatcher")
    )
    assert status == 200 and suggestion["department_code"] == DEPARTMENT, suggestion
    dispatcher = page_factory("loop")
    use_session(dispatcher, demo_server, "dispatcher")
    open_shell_page(dispatcher, "/command")
    row = dispatcher.page.locator(f'#dispatch-list [data-case-no="{no}"]')
    row.wait_for(timeout=15_000)
    box = row.locator(".cmd-suggestion")
    assert box.get_attribute("data-department") == DEPARTMENT
    assert "建议派遣" in box.inner_text()
    row.scroll_into_view_if_needed()
    shot(dispatcher, 7, "dispatcher-suggestion")
    row.locator('[data-act="dispatch-suggested"]').click()
    toast(dispatcher, "success", "已派遣")
    dispatched = wait_case(demo_server, no, "dispatched")
    assert dispatched["department_code"] == DEPARTMENT
    lap("5 dispatch (dispatcher)")

    # 6. The department accepts (签收) and reports back (处置反馈) with a photo.
    department = page_factory("loop")
    use_session(department, demo_server, DEPARTMENT_USER)
    open_shell_page(department, "/department")
    page = department.page
    row = page.locator(f'#task-table tr[data-case-no="{no}"]')
    row.wait_for(timeout=15_000)
    row.click()
    page.locator(f'#case-panel .case-view[data-case-no="{no}"]').wait_for(timeout=15_000)
    page.locator('#dept-work .dept-actions button[data-action="accept"]').click()
    page.locator("#dept-form-accept button[type=submit]").click()
    toast(department, "success", "已签收")
    wait_case(demo_server, no, "handling", DEPARTMENT_USER)
    shot(department, 8, "department-accepted")
    report = page.locator('#dept-work .dept-actions button[data-action="report_back"]')
    report.wait_for(timeout=15_000)
    report.click()
    form = page.locator("#dept-form-report_back")
    form.locator("textarea[name=result]").fill(RESULT_TEXT)
    form.locator("input.photo-input").set_input_files(
        files=[photo_file("after.jpg", (60, 150, 90))]
    )
    form.locator(".photo-list li[data-media] img").wait_for(timeout=15_000)
    page.wait_for_function(
        "() => { const i = document.querySelector('#dept-form-report_back .photo-list img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    after_photo = form.locator(".photo-list li[data-media]").get_attribute("data-media")
    shot(department, 9, "department-report-back")
    form.locator("button[type=submit]").click()
    toast(department, "success", "已处置反馈")
    handled = wait_case(demo_server, no, "handled", DEPARTMENT_USER)
    back = [e for e in handled["events"] if e["action"] == "report_back"][-1]
    assert back["payload"]["photos"] == [after_photo]
    assert back["payload"]["result"] == RESULT_TEXT
    lap("6 accept + report back (department)")

    # 7. The acceptor assigns the check to the supervisor, who passes it on the phone.
    open_in_board(acceptor, "to_check", g.code, no)
    form = panel_action(acceptor, "assign_check")
    choose_person(acceptor, form, "checker_id", sup)
    form.locator('button[type="submit"]').click()
    wait_panel_state(acceptor, "checking")
    wait_case(demo_server, no, "checking")
    shot(acceptor, 10, "acceptor-assign-check")
    form = phone_task(supervisor, no, "check")
    form.locator('input[name="result"][value="check_pass"]').check()
    form.locator('input[type="file"]').set_input_files(
        files=[photo_file("check.jpg", (70, 140, 200))]
    )
    form.locator(".m-photo-list li.uploaded").wait_for(timeout=15_000)
    shot(supervisor, 11, "supervisor-check-pass")
    form.locator('button[type="submit"]').click()
    supervisor.page.locator(f'.m-task[data-case-no="{no}"]').wait_for(
        state="detached", timeout=15_000
    )
    checked = wait_case(demo_server, no, "checked")
    assert checked["events"][-1]["action"] == "check_pass"
    lap("7 assign check (acceptor) + check (supervisor, phone)")

    # 8. The shift lead closes it (结案).
    open_in_board(shift_lead, "to_close", g.code, no)
    form = panel_action(shift_lead, "close")
    form.locator('button[type="submit"]').click()
    wait_panel_state(shift_lead, "closed")
    closed = wait_case(demo_server, no, "closed")
    shot(shift_lead, 12, "shift-lead-closed")
    actions = [e["action"] for e in closed["events"]]
    for step in (
        "assign_verify",
        "verify",
        "register",
        "dispatch",
        "accept",
        "report_back",
        "assign_check",
        "check_pass",
        "close",
    ):
        assert step in actions, (step, actions)
    lap("8 close (shift lead)")

    # 9. The resident types the number and code into /track, sees the result and rates it.
    open_shell_page(resident, "/track")
    page = resident.page
    track = page.locator("#r-track-form")
    track.locator('input[name="case_no"]').fill(no)
    track.locator('input[name="code"]').fill(code)
    track.locator('button[type="submit"]').click()
    page.wait_for_function(
        "() => document.querySelector('.r-case')?.dataset.stage === 'closed'", timeout=15_000
    )
    shown = page.locator(".r-case")
    assert shown.get_attribute("data-case-no") == no
    assert shown.locator(".r-result-text").inner_text() == RESULT_TEXT
    assert shown.locator(".r-result-photos img").count() == 1
    timeline = shown.locator(".r-timeline").inner_text()
    for words in ("已安排监督员现场核实", "已派遣处置部门", "现场核查通过", "已结案"):
        assert words in timeline, words
    rate = page.locator("#r-rate-form")
    rate.wait_for()
    shot(resident, 13, "track-result")
    rate.locator('.r-star[data-n="5"]').click()
    rate.locator('textarea[name="comment"]').fill("处理及时，路面已恢复")
    rate.locator('button[type="submit"]').click()
    page.locator('.r-rating.done[data-score="5"]').wait_for(timeout=15_000)
    shot(resident, 14, "track-rated")
    status, view = api_call(demo_server, "GET", f"/api/public/cases/{no}?code={quote(code)}")
    assert status == 200 and view["rating"]["score"] == 5 and not view["can_rate"], view
    lap("9 track + rate (resident, phone)")

    print(f"\n[loop] case {no}: " + ", ".join(f"{k}: {v} s" for k, v in times.items()))
    for mp in (resident, acceptor, supervisor, shift_lead, dispatcher, department):
        mp.assert_clean()
