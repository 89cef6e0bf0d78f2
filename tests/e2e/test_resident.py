"""The resident portal (/report, /track) in a real Chromium on a phone viewport, no login.

A resident reports a problem anonymously (photo, GPS position with its grid, a common problem
in one tap, a description, a contact), gets the case number and tracking code (shown large,
remembered on the device), follows the case on /track; after the case is driven to 结案 through
the API by the staff roles, the result is shown and the resident rates it (once). A wrong code
reads as "not found"; a rate-limit refusal says when to try again; a logged-in resident also sees
the reports of their account.

Every test fails on a console error (except the HTTP errors it provokes on purpose) and on any
request to a host other than this machine. Screenshots go to ``build-output/screenshots/``; load
times are printed as ``[e2e page loads]`` (run with ``-s``).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import api_call, login_token, open_shell_page, use_session
from tests.e2e.test_mobile import (
    DEPARTMENT,
    act,
    get_case,
    jpeg_file,
    phone_at,
    supervisor_of,
    upload_photo,
    user_named,
)

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

RESULT_TEXT = "垃圾已清运，路面已冲洗干净"


def public_view(server: DemoServer, no: str, code: str) -> dict[str, Any]:
    """GET /api/public/cases/{no}?code= without a login."""
    status, body = api_call(server, "GET", f"/api/public/cases/{no}?code={quote(code)}")
    assert status == 200, body
    return body


def drive_to_closed(server: DemoServer, no: str) -> None:
    """The whole closed loop of a public report, each step by its role through the API:
    核实 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案."""
    g = server.grid
    sup = supervisor_of(server, g.code)
    checker = user_named(server, f"hcy{g.community_code[:9]}")
    act(server, no, "acceptor", "assign_verify", {"verifier_id": sup.id})
    act(
        server,
        no,
        sup.username,
        "verify",
        {"photos": [upload_photo(server, login_token(server, sup.username))]},
    )
    act(server, no, "shift_lead", "register", {})
    act(server, no, "dispatcher", "dispatch", {"department_code": DEPARTMENT})
    act(server, no, "dept_cgzf", "accept", {})
    act(
        server,
        no,
        "dept_cgzf",
        "report_back",
        {"result": RESULT_TEXT, "photos": [upload_photo(server, login_token(server, "dept_cgzf"))]},
    )
    act(server, no, "acceptor", "assign_check", {"checker_id": checker.id})
    act(
        server,
        no,
        checker.username,
        "check_pass",
        {"photos": [upload_photo(server, login_token(server, checker.username))]},
    )
    act(server, no, "shift_lead", "close", {})
    assert get_case(server, no)["state"] == "closed"


def open_page(mp: MapPage, path: str, label: str) -> None:
    load = open_shell_page(mp, path)
    print(
        f"\n[e2e page loads] {path.split('?')[0]} {label}: usable {load.usable_s:.2f} s, "
        f"settled {load.settled_s:.2f} s"
    )


def fill_report(mp: MapPage, server: DemoServer, tmp_path: Path | None, text: str) -> None:
    """Fill /report: a photo (when a folder is given), my GPS position, 暴露垃圾 from the
    common problems, the description."""
    page = mp.page
    form = page.locator("#r-report-form")
    if tmp_path is not None:
        form.locator('input[type="file"]').set_input_files(str(jpeg_file(tmp_path)))
        form.locator(".photo-list li").wait_for()
    page.locator(".r-gps").click()
    form.locator(".place-picker .picker-grid").wait_for(timeout=15_000)
    assert server.grid.code in form.locator(".place-picker .picker-grid").inner_text()
    form.locator('.r-chip[data-code="0102"]').click()
    form.locator(".subclass-picker .picker-chosen").wait_for()
    form.locator('textarea[name="description"]').fill(text)


def submitted(mp: MapPage) -> tuple[str, str]:
    """Wait for the answer of /report; the case number and tracking code it shows."""
    done = mp.page.locator(".r-done")
    done.wait_for(timeout=20_000)
    no = done.locator('dd[data-field="case_no"]').inner_text().strip()
    code = done.locator('dd[data-field="tracking_code"]').inner_text().strip()
    assert no.isdigit() and len(code) == 10, (no, code)
    return no, code


# ---- tests ----------------------------------------------------------------------------------


def test_anonymous_report_track_and_rate(
    page_factory: Any, demo_server: DemoServer, tmp_path: Path
) -> None:
    g = demo_server.grid
    mp = phone_at(page_factory, demo_server, "resident", g.lon, g.lat)
    page = mp.page
    open_page(mp, "/report", "(anonymous)")
    assert page.title().startswith("我要上报")
    assert page.locator('.nav a[data-page-link="track"]').count() == 1  # public links in the bar
    # The common problems come from the taxonomy.
    assert page.locator('.r-chip[data-code="0102"]').inner_text() == "暴露垃圾"
    mp.screenshot("report-empty")

    # Required fields are checked first; a bad phone number is refused in the browser.
    form = page.locator("#r-report-form")
    form.locator('button[type="submit"]').click()
    assert form.locator(".field-error").count() >= 3
    text = f"小区门口垃圾桶旁堆放大量生活垃圾（居民上报 {uuid.uuid4().hex[:6]}）"
    fill_report(mp, demo_server, tmp_path, text)
    form.locator('input[name="contact_name"]').fill("张女士")
    form.locator('input[name="contact_phone"]').fill("12")
    form.locator('button[type="submit"]').click()
    assert form.locator('.field[data-field="contact_phone"] .field-error').is_visible()
    form.locator('input[name="contact_phone"]').fill("13800138000")
    mp.screenshot("report-filled")
    form.locator('button[type="submit"]').click()
    no, code = submitted(mp)
    assert page.locator(".r-done .r-copy").count() == 2
    track_link = page.locator(".r-track-link")
    assert track_link.get_attribute("href") == f"/track?case={no}&code={code}"
    mine = mp.js("() => JSON.parse(localStorage.getItem('gridgov.resident.reports'))")
    assert mine[0]["case_no"] == no and mine[0]["code"] == code
    assert page.locator(f'.r-my .r-my-list li[data-case-no="{no}"]').count() == 1
    mp.wait_settled()
    mp.screenshot("report-done")

    # What the server filed: a public report with the photo; the phone is masked for staff.
    view = public_view(demo_server, no, code)
    assert view["stage"] == "received" and view["description"] == text
    assert len(view["photos"]) == 1
    staff_view = get_case(demo_server, no)
    assert staff_view["channel"] == "public" and staff_view["grid_code"] == g.code
    assert staff_view["reporter_phone"] != "13800138000"

    # /track: the progress in plain words.
    track_link.click()
    page.wait_for_function(
        "(no) => document.querySelector('.r-case')?.dataset.caseNo === no", arg=no, timeout=20_000
    )
    mp.wait_settled()
    case = page.locator(".r-case")
    assert case.get_attribute("data-stage") == "received"
    assert "已收到" in case.locator(".r-stage").inner_text()
    assert "已收到您的反映" in case.locator(".r-timeline").inner_text()
    assert case.locator(".r-rating-later").is_visible()
    assert case.locator('.r-steps li[aria-current="step"]').get_attribute("data-step") == "received"
    mp.screenshot("track-received")
    open_page(mp, f"/track?case={no}&code={code}", "(anonymous, lookup from the URL)")

    # The staff roles close the loop; the resident sees the result and rates it.
    drive_to_closed(demo_server, no)
    page.locator(".r-refresh").click()
    page.wait_for_function(
        "() => document.querySelector('.r-case')?.dataset.stage === 'closed'", timeout=15_000
    )
    mp.wait_settled()
    case = page.locator(".r-case")
    assert case.locator(".r-result-text").inner_text() == RESULT_TEXT
    assert case.locator(".r-result-photos img").count() == 1
    timeline = case.locator(".r-timeline").inner_text()
    for words in ("已安排监督员现场核实", "已派遣处置部门", "现场核查通过", "已结案"):
        assert words in timeline, words
    assert case.locator('dd[data-field="handled_by"]').inner_text()  # who handled it
    assert case.locator(".r-steps li.done").count() == 6  # every step done
    rate = page.locator("#r-rate-form")
    rate.wait_for()
    mp.screenshot("track-closed")
    rate.locator('button[type="submit"]').click()  # no score yet: refused in the browser
    assert rate.locator(".form-error").is_visible()
    rate.locator('.r-star[data-n="4"]').click()
    assert rate.locator(".r-star.on").count() == 4
    rate.locator('textarea[name="comment"]').fill("处理很及时，谢谢")
    rate.locator('button[type="submit"]').click()
    page.locator('.r-rating.done[data-score="4"]').wait_for(timeout=15_000)
    assert "处理很及时" in page.locator(".r-rating-comment").inner_text()
    after = public_view(demo_server, no, code)
    assert after["rating"]["score"] == 4 and not after["can_rate"]
    # A second rating is refused by the server.
    status, body = api_call(
        demo_server, "POST", f"/api/public/cases/{no}/rating", {"code": code, "score": 1}
    )
    assert status == 409, body
    mp.wait_settled()
    mp.screenshot("track-rated")
    mp.assert_clean()


def test_wrong_code_reads_as_not_found(page_factory: Any, demo_server: DemoServer) -> None:
    g = demo_server.grid
    status, answer = api_call(
        demo_server,
        "POST",
        "/api/public/reports",
        {
            "subclass": "0104",
            "subclass_kind": "event",
            "lon": g.lon,
            "lat": g.lat,
            "description": "路面不洁（查询码测试）",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, answer
    no = answer["case_no"]
    mp: MapPage = page_factory("resident-wrong-code", viewport="phone")
    open_page(mp, f"/track?case={no}&code=ZZZZZZZZZZ", "(anonymous, wrong code)")
    box = mp.page.locator("#r-track-form .form-error")
    box.wait_for()
    assert box.get_attribute("data-code") == "case_not_found"
    assert mp.page.locator(".r-case").count() == 0
    # The right code (typed with a dash and in lower case) finds it.
    form = mp.page.locator("#r-track-form")
    form.locator('input[name="code"]').fill(
        answer["tracking_code"][:5].lower() + "-" + answer["tracking_code"][5:]
    )
    form.locator('button[type="submit"]').click()
    mp.page.wait_for_function(
        "(no) => document.querySelector('.r-case')?.dataset.caseNo === no", arg=no, timeout=15_000
    )
    mp.screenshot("wrong-code-then-right")
    mp.assert_clean(allow_console=("status of 404",))


def test_rate_limited_report_says_when_to_try_again(
    page_factory: Any, demo_server: DemoServer
) -> None:
    """The refusal the server gives an address over its limit (429, ``Retry-After``, code
    ``rate_limited``, see gridgov/ratelimit.py) is shown next to the form with the wait."""
    g = demo_server.grid
    mp = phone_at(page_factory, demo_server, "resident-rate-limited", g.lon, g.lat)
    page = mp.page
    open_page(mp, "/report", "(anonymous, rate limited)")
    page.route(
        "**/api/public/reports",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "42", "Content-Type": "application/json"},
            body=json.dumps(
                {"code": "rate_limited", "message": "too many requests; at most 10 a minute"}
            ),
        ),
    )
    fill_report(mp, demo_server, None, "乱堆物料（限流测试）")
    page.locator('#r-report-form button[type="submit"]').click()
    box = page.locator("#r-report-form .form-error")
    box.wait_for()
    assert box.get_attribute("data-code") == "rate_limited"
    assert "操作太频繁" in box.inner_text()
    # The wait comes from the Retry-After header (lib/api.js ApiError.retryAfter).
    assert "请于 42 秒后重试" in box.inner_text()
    wait = page.locator(".r-wait")
    wait.wait_for()
    text = wait.inner_text()
    assert "42" in text or "41" in text, text
    assert page.locator(".r-done").is_hidden()
    assert (
        page.locator('#r-report-form textarea[name="description"]').input_value()
        == "乱堆物料（限流测试）"
    )
    mp.screenshot("rate-limited")
    mp.assert_clean(allow_console=("status of 429",))


def test_logged_in_resident_sees_own_reports(page_factory: Any, demo_server: DemoServer) -> None:
    g = demo_server.grid
    mp = phone_at(page_factory, demo_server, "resident-account", g.lon, g.lat)
    use_session(mp, demo_server, "resident")
    page = mp.page
    open_page(mp, "/report", "(resident account)")
    assert page.locator(".r-account").is_visible()
    text = f"楼下路灯不亮（账号上报 {uuid.uuid4().hex[:6]}）"
    fill_report(mp, demo_server, None, text)
    page.locator('#r-report-form button[type="submit"]').click()
    no, code = submitted(mp)
    view = public_view(demo_server, no, code)
    assert view["description"] == text
    open_page(mp, "/track", "(resident account, lists)")
    item = page.locator(f'.r-account-items li[data-case-no="{no}"]')
    item.wait_for()
    assert item.locator("a").get_attribute("href") == f"/case/{no}"
    assert page.locator(f'.r-my .r-my-list li[data-case-no="{no}"]').count() == 1
    mp.screenshot("track-account")
    mp.assert_clean()


def test_gps_fills_in_the_nearest_address_and_the_grid(
    page_factory: Any, demo_server: DemoServer
) -> None:
    """Standing at a door plate of the gazetteer, 使用我现在的位置 names it and its grid
    (GET /api/gazetteer/reverse, anonymous)."""
    from sqlalchemy import select

    from gridgov.db import session_scope
    from gridgov.gazetteer.models import GazetteerEntry
    from gridgov.regions.geocode import geocode

    with session_scope(demo_server.engine) as s:
        entry = s.execute(
            select(GazetteerEntry.address, GazetteerEntry.lon, GazetteerEntry.lat)
            .order_by(GazetteerEntry.id)
            .limit(1)
        ).one()
        grid = geocode(s, entry.lon, entry.lat)["grid"]["code"]
    mp = phone_at(page_factory, demo_server, "resident-near", entry.lon, entry.lat)
    page = mp.page
    open_page(mp, "/report", "(anonymous, nearest address)")
    form = page.locator("#r-report-form")
    page.locator(".r-gps").click()
    near = form.locator(".r-near")
    near.wait_for(timeout=15_000)
    assert near.get_attribute("data-address") == entry.address
    assert form.locator(".place-picker .picker-name").inner_text() == entry.address
    assert grid in form.locator(".place-picker .picker-grid").inner_text()
    assert "约 0 米" in near.inner_text()
    mp.wait_settled()
    mp.screenshot("near")
    mp.assert_clean()


def test_a_resident_signs_up_on_the_login_page(page_factory: Any, demo_server: DemoServer) -> None:
    """居民注册: the sign-up form under the login form makes a resident account and logs in."""
    mp: MapPage = page_factory("resident-signup", viewport="phone")
    open_page(mp, "/login", "(anonymous, sign up)")
    page = mp.page
    page.locator(".login-signup summary").click()
    form = page.locator("#signup-form")
    username = f"jm{uuid.uuid4().hex[:8]}"
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="name"]').fill("李居民")
    form.locator('input[name="password"]').fill("a long password")
    mp.screenshot("filled")
    form.locator('button[type="submit"]').click()
    page.wait_for_url("**/report", timeout=15_000)  # a resident's home page
    me = page.evaluate("() => fetch('/api/auth/me').then((r) => r.json())")
    assert (me["username"], me["role"]) == (username, "resident")
    mp.assert_clean()
