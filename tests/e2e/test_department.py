"""The department desk (专业部门, /department) in a real Chromium, as the demo user dept_cgzf
(城管执法局, QCGZFJ).

Accept a dispatched case and report back with a photo, ask for an extension in days and hours,
be refused a case of another department (a translated notice), and the page on a phone. Every
test fails on a console error or a request to a non-local host, saves screenshots under
build-output/screenshots/ and prints how long the page took to become usable.

The set-up helpers (a registered case, actions as the other roles) are those of
tests/e2e/test_command.py.

Run: ``pytest -m e2e tests/e2e/test_department.py -s``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.conftest import api_call, login_token
from tests.e2e.test_command import act, case_of, jpeg, open_page, registered_case, wait_toast

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

DEPARTMENT = "QCGZFJ"  # dept_cgzf's department
USER = "dept_cgzf"


def dispatched_case(
    server: DemoServer, department: str = DEPARTMENT, *, accept: bool = False
) -> str:
    """A registered case dispatched to ``department`` (and accepted by dept_cgzf)."""
    case_no = registered_case(server, "店外经营，占道摆放货架（部门测试）")
    act(server, "dispatcher", case_no, "dispatch", {"department_code": department})
    if accept:
        act(server, USER, case_no, "accept")
    return case_no


def work_button(mp: MapPage, action: str) -> Any:
    button = mp.page.locator(f'#dept-work .dept-actions button[data-action="{action}"]')
    button.wait_for(timeout=15_000)
    return button


def test_department_accepts_and_reports_back_with_a_photo(
    map_page: MapPage, demo_server: DemoServer
) -> None:
    case_no = dispatched_case(demo_server)
    open_page(map_page, demo_server, USER, "/department", "/department desktop (my tasks)")
    assert map_page.page.title().startswith("专业部门")

    row = map_page.page.locator(f'#task-table tr[data-case-no="{case_no}"]')
    row.wait_for()
    assert row.get_attribute("data-group") == "todo"
    # Red first, then yellow, then the rest (the server's order, drawn as is).
    ranks = map_page.js(
        """() => [...document.querySelectorAll('#task-table tr[data-case-no] .light')]
            .map(b => ({red: 3, yellow: 2, green: 1}[b.dataset.light] || 0))"""
    )
    assert ranks == sorted(ranks, reverse=True)
    map_page.screenshot("department-tasks")

    row.click()
    map_page.page.locator(f'#case-panel .case-view[data-case-no="{case_no}"]').wait_for()
    assert map_page.page.locator("#case-panel .case-actions").count() == 0
    actions = map_page.js(
        "() => [...document.querySelectorAll('#dept-work .dept-actions button')]"
        ".map(b => b.dataset.action)"
    )
    detail = case_of(demo_server, case_no, USER)
    assert actions == detail["allowed_actions"] == ["accept", "request_return"]

    work_button(map_page, "accept").click()
    map_page.page.locator("#dept-form-accept button[type=submit]").click()
    wait_toast(map_page, "success", "已签收")
    work_button(map_page, "report_back").click()
    form = map_page.page.locator("#dept-form-report_back")
    form.locator("button[type=submit]").click()  # nothing filled in: refused in the browser
    assert form.locator(".field-error").count() == 2
    form.locator("textarea[name=result]").fill("货架已清理，恢复通行")
    form.locator("input.photo-input").set_input_files(
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": jpeg((40, 160, 90))}]
    )
    thumb = form.locator(".photo-list li[data-media] img")
    thumb.wait_for(timeout=15_000)
    map_page.page.wait_for_function(
        "() => { const i = document.querySelector('#dept-form-report_back .photo-list img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    media_id = form.locator(".photo-list li[data-media]").get_attribute("data-media")
    map_page.screenshot("department-report-back")
    form.locator("button[type=submit]").click()
    wait_toast(map_page, "success", "已处置反馈")
    map_page.wait_settled()

    detail = case_of(demo_server, case_no, USER)
    assert detail["state"] == "handled"
    report = [e for e in detail["events"] if e["action"] == "report_back"][-1]
    assert report["payload"]["photos"] == [media_id]
    assert report["payload"]["result"] == "货架已清理，恢复通行"
    panel = map_page.page.locator("#case-panel")
    panel.locator(f'.photo-group[data-group="after"] [data-media="{media_id}"]').wait_for()
    assert "等待监督员核查" in panel.locator("#dept-work").inner_text()
    row.wait_for(state="detached")  # no longer to do: waiting for the check
    map_page.page.locator('.dept-groups [data-group="waiting"]').click()
    map_page.wait_settled()
    assert row.get_attribute("data-group") == "waiting"
    map_page.screenshot("department-handled")
    map_page.assert_clean()


def test_department_asks_for_an_extension(map_page: MapPage, demo_server: DemoServer) -> None:
    case_no = dispatched_case(demo_server, accept=True)
    before = case_of(demo_server, case_no, USER)
    due = next(d["due_at"] for d in before["deadlines"] if d["step"] == "handle")
    path = f"/department?case={case_no}"
    open_page(map_page, demo_server, USER, path, "/department desktop (case in the URL)")
    work_button(map_page, "request_extension").click()
    form = map_page.page.locator("#dept-form-request_extension")
    form.locator("input[name=days]").fill("2")
    form.locator("input[name=hours]").fill("4")
    preview = form.locator("#extension-preview strong[data-due]")
    expected = max(datetime.fromisoformat(due), datetime.now(UTC)) + timedelta(days=2, hours=4)
    shown = datetime.fromisoformat(preview.get_attribute("data-due").replace("Z", "+00:00"))
    assert abs(shown - expected) < timedelta(minutes=2)
    assert "延期后截止" in preview.inner_text()
    form.locator("textarea[name=reason]").fill("需协调产权单位，两天内完成")
    map_page.screenshot("department-extension")
    form.locator("button[type=submit]").click()
    wait_toast(map_page, "success", "已申请延期")
    map_page.wait_settled()

    detail = case_of(demo_server, case_no, USER)
    assert detail["state"] == "extension_requested"
    asked = [e for e in detail["events"] if e["action"] == "request_extension"][-1]
    assert asked["payload"]["reason"] == "需协调产权单位，两天内完成"
    asked_due = datetime.fromisoformat(asked["payload"]["due_at"].replace("Z", "+00:00"))
    assert abs(asked_due - expected) < timedelta(minutes=2)
    assert "延期申请待派遣员审批" in map_page.page.locator("#dept-work").inner_text()
    map_page.assert_clean()


def test_a_case_of_another_department_is_refused(
    map_page: MapPage, demo_server: DemoServer
) -> None:
    case_no = dispatched_case(demo_server, "QHWZX")  # 环卫中心
    status, body = api_call(
        demo_server, "GET", f"/api/cases/{case_no}", token=login_token(demo_server, USER)
    )
    assert status == 403 and body["code"] == "outside_jurisdiction"
    path = f"/department?case={case_no}"
    open_page(map_page, demo_server, USER, path, "/department desktop (refused case)")
    toast = map_page.page.locator('#toasts .toast[data-kind="error"]').first
    toast.wait_for()
    assert toast.get_attribute("data-code") == "outside_jurisdiction"
    assert "超出管辖范围" in toast.inner_text()
    refused = map_page.page.locator(f'#dept-work .dept-refused[data-case-no="{case_no}"]')
    assert "不是本部门的案件" in refused.inner_text()
    assert map_page.page.locator("#case-panel .case-view .case-facts").count() == 0
    assert map_page.page.locator(f'#task-table tr[data-case-no="{case_no}"]').count() == 0
    map_page.screenshot("department-refused")
    map_page.assert_clean(allow_console=("status of 403",))


def test_department_on_a_phone(phone_page: MapPage, demo_server: DemoServer) -> None:
    case_no = dispatched_case(demo_server)
    open_page(phone_page, demo_server, USER, "/department", "/department phone")
    row = phone_page.page.locator(f'#task-table tr[data-case-no="{case_no}"]')
    row.wait_for()
    width = phone_page.js("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    phone_page.screenshot("department-phone")
    row.click()
    phone_page.page.locator(f'#case-panel .case-view[data-case-no="{case_no}"]').wait_for()
    box = phone_page.page.locator("#case-panel").bounding_box()
    assert box and box["width"] >= 380  # the panel covers the page
    work_button(phone_page, "accept")
    phone_page.wait_settled()
    phone_page.screenshot("department-phone-case")
    # English: the page relabels itself.
    phone_page.page.locator("#case-panel .dept-close").click()
    assert phone_page.page.locator("#case-panel").is_hidden()
    phone_page.page.locator("#lang-select").select_option("en")
    phone_page.page.wait_for_function(
        "() => document.querySelector('.dept-top h1').textContent === 'My tasks'"
    )
    assert "To do" in phone_page.page.locator(".dept-groups").inner_text()
    phone_page.assert_clean()


def test_task_list_pages_with_more(map_page: MapPage, demo_server: DemoServer) -> None:
    """More tasks than a page: "加载更多" appends the next page in the server's order (deadline
    first; the page size is cut to 2 here by rewriting the list's requests)."""
    for _ in range(3):
        dispatched_case(demo_server)
    status, everything = api_call(
        demo_server,
        "GET",
        "/api/department/tasks?group=todo&limit=500",
        token=login_token(demo_server, USER),
    )
    assert status == 200 and everything["total"] >= 3
    order = [c["case_no"] for c in everything["items"]]

    def small(route: Any) -> None:
        route.continue_(url=route.request.url.replace("limit=50", "limit=2"))

    map_page.page.route("**/api/department/tasks?*", small)
    open_page(map_page, demo_server, USER, "/department?group=todo", "/department (paged)")
    rows = map_page.page.locator("#task-table tbody tr[data-case-no]")
    assert rows.evaluate_all("els => els.map(e => e.dataset.caseNo)") == order[:2]
    foot = map_page.page.locator(".dept-board .list-foot")
    assert f"显示 2 / {everything['total']} 件" in foot.inner_text()
    foot.locator("#dept-more").click()
    map_page.page.wait_for_function(
        "() => document.querySelectorAll('#task-table tbody tr[data-case-no]').length > 2"
    )
    assert rows.evaluate_all("els => els.map(e => e.dataset.caseNo)") == order[:4]
    map_page.screenshot("department-more")
    map_page.assert_clean()
