"""The map page in a real Chromium: layers, identify by click, search, language, phone.

Run: ``pytest -m e2e tests/e2e -s`` (``-s`` shows the measured load figures). Needs the vendor
build (``npm --prefix web ci && node web/build.mjs``) and ``/usr/bin/chromium``. Screenshots of
each state go to ``build-output/screenshots/``.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer, MapPage

pytestmark = pytest.mark.e2e

GRID_ZOOM = 16  # comfortably above the page's grid threshold (13)
NOT_FOUND_CONSOLE = ("status of 404",)  # Chromium logs failed fetches; expected where a test asks


def _panel_shows_grid(mp: MapPage, code: str) -> None:
    mp.page.wait_for_function(
        """(code) => {
            const dd = document.querySelector('#panel dd[data-field="code"]');
            return dd && dd.textContent.trim() === code;
        }""",
        arg=code,
        timeout=15_000,
    )


def _get(url: str) -> tuple[bytes, float]:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as resp:
        body = resp.read()
    return body, time.perf_counter() - started


def test_page_loads_draws_grids_and_stays_local(map_page: MapPage, demo_server: DemoServer) -> None:
    load_s = map_page.open("/map")  # public; / goes to the login page or the role's home
    assert map_page.page.url.endswith("/map")
    assert map_page.page.title() == "网格地图 · 网格化城市治理平台"  # in the shell
    assert map_page.page.locator(".topbar #lang-select").is_visible()
    assert map_page.page.locator('.topbar a.login-link[href^="/login"]').is_visible()
    initial_zoom = map_page.js("() => window.gridgov.map.getZoom()")
    map_page.screenshot("initial")

    # At district zoom: one outline per community with its grid count, not the grids.
    if initial_zoom < 13:
        layer = map_page.js("() => window.gridgov.grids()")
        assert layer["level"] in ("community", "street"), layer
        total = map_page.js(
            "() => window.gridgov.data.gridarea.features"
            ".reduce((n, f) => n + f.properties.grids, 0)"
        )
        assert total == demo_server.grid_count
    # Regions are drawn at every zoom; grids appear from zoom 13.
    sources = map_page.js(
        "() => ['district', 'street', 'community'].map("
        "s => window.gridgov.map.querySourceFeatures(s).length)"
    )
    assert all(n > 0 for n in sources), sources
    if initial_zoom < 13:
        g = demo_server.grid
        map_page.jump(g.lon, g.lat, 14)
    rendered = map_page.js("() => window.gridgov.renderedGridCount()")
    stats = map_page.js("() => window.gridgov.stats")
    assert rendered > 0
    assert stats["gridFeatures"] > 0
    map_page.screenshot("grids")

    # Measured figures (printed; not asserted beyond sanity: this is not a benchmark).
    extent = json.loads(_get(demo_server.base_url + "/api/map/extent")[0])
    bbox = ",".join(f"{v:.6f}" for v in extent["bbox"])
    body, grids_s = _get(f"{demo_server.base_url}/api/grids.geojson?bbox={bbox}")
    area, area_s = _get(f"{demo_server.base_url}/api/grids.geojson?bbox={bbox}&zoom=12")
    features = len(json.loads(body)["features"])
    assert features == demo_server.grid_count
    print(
        "\n[e2e figures] "
        + json.dumps(
            {
                "demo_load_s": round(demo_server.load_seconds, 2),
                "grids_in_demo": demo_server.grid_count,
                "page_load_to_idle_s": round(load_s, 2),
                "initial_zoom": round(initial_zoom, 2),
                "grids_loaded_by_page": stats["gridFeatures"],
                "page_grid_fetch_ms": stats["lastGridMs"],
                "full_extent_grids_geojson_bytes": len(body),
                "full_extent_grids_geojson_s": round(grids_s, 3),
                "full_extent_grids_features": features,
                "district_zoom_communities_bytes": len(area),
                "district_zoom_communities_s": round(area_s, 3),
            },
            ensure_ascii=False,
        )
    )
    map_page.assert_clean()


def test_layers_follow_zoom_and_toggles(map_page: MapPage, demo_server: DemoServer) -> None:
    map_page.open()
    g = demo_server.grid
    map_page.jump(g.lon, g.lat, 11)
    assert "放大地图以显示单元网格" in map_page.page.locator("#status").inner_text()
    map_page.jump(g.lon, g.lat, GRID_ZOOM)
    counts = map_page.js(
        "() => ['road', 'building'].map(s => window.gridgov.data[s].features.length)"
    )
    assert counts[0] > 0 and counts[1] > 0, counts
    # Unticking "单元网格" hides both grid layers.
    map_page.page.get_by_label("单元网格").uncheck()
    vis = map_page.js(
        "() => ['grid-fill', 'grid-line'].map("
        "id => window.gridgov.map.getLayoutProperty(id, 'visibility'))"
    )
    assert vis == ["none", "none"]
    map_page.screenshot("grids-off")
    map_page.assert_clean()


def test_click_identifies_grid(map_page: MapPage, demo_server: DemoServer) -> None:
    g = demo_server.grid
    map_page.open()
    map_page.jump(g.lon, g.lat, GRID_ZOOM)
    map_page.click_lonlat(g.lon, g.lat)
    _panel_shows_grid(map_page, g.code)
    assert g.community_name in map_page.field("community")
    assert g.street_name in map_page.field("street")
    assert map_page.field("area").endswith("m²")
    supervisor = map_page.field("supervisor")
    assert supervisor  # a name, or 未分配
    assert map_page.field("valid_from")
    map_page.wait_settled()
    assert map_page.js("() => window.gridgov.highlightedCode()") == g.code
    map_page.screenshot("identify")
    map_page.assert_clean()


def test_search_by_grid_code_flies_there(map_page: MapPage, demo_server: DemoServer) -> None:
    g = demo_server.grid
    map_page.open()
    map_page.page.fill("#search-input", g.code)
    map_page.page.press("#search-input", "Enter")
    _panel_shows_grid(map_page, g.code)
    map_page.wait_settled()
    # The whole grid is in view (the map keeps it clear of the side panel, so not centred).
    west, south, east, north = map_page.js("() => window.gridgov.map.getBounds().toArray().flat()")
    minx, miny, maxx, maxy = g.bbox
    assert west <= minx and east >= maxx and south <= miny and north >= maxy, g.bbox
    assert map_page.js("() => window.gridgov.map.getZoom()") >= 13
    assert map_page.js("() => window.gridgov.highlightedCode()") == g.code
    map_page.screenshot("search-grid")
    map_page.assert_clean()


def test_search_by_region_code(map_page: MapPage, demo_server: DemoServer) -> None:
    g = demo_server.grid
    map_page.open()
    map_page.page.fill("#search-input", g.community_code)
    map_page.page.press("#search-input", "Enter")
    title = map_page.page.locator('#panel [data-field="title"]')
    title.wait_for()
    assert title.inner_text() == g.community_name
    assert map_page.field("level") == "社区"
    map_page.wait_settled()
    assert map_page.js("() => window.gridgov.highlightedCode()") == g.community_code
    map_page.assert_clean()


def test_address_search_lists_results_and_identifies(
    map_page: MapPage, demo_server: DemoServer
) -> None:
    assert demo_server.address, "the demo has no gazetteer entries"
    map_page.open()
    map_page.page.fill("#search-input", demo_server.address)
    map_page.page.press("#search-input", "Enter")
    results = map_page.page.locator("#search-results .result")
    results.first.wait_for()
    assert 1 <= results.count() <= 8
    assert demo_server.address in results.first.inner_text()
    map_page.screenshot("address-results")
    results.first.click()
    map_page.page.locator('#panel dd[data-field="address"]').wait_for()
    assert map_page.field("address") == demo_server.address
    assert map_page.field("code")  # the grid the address lies in
    map_page.wait_settled()
    map_page.screenshot("address-identify")
    map_page.assert_clean()


def test_server_error_is_shown(map_page: MapPage, demo_server: DemoServer) -> None:
    map_page.open()
    missing = demo_server.grid.community_code + "99"
    map_page.page.fill("#search-input", missing)
    map_page.page.press("#search-input", "Enter")
    toast = map_page.page.locator("#toasts .toast-error")
    toast.wait_for()
    assert toast.get_attribute("data-code") == "unknown_grid"
    text = toast.inner_text()
    assert "没有这个网格编码" in text  # the translated headline
    assert f"grid {missing} does not exist" in text  # and the server's own message
    map_page.screenshot("error")
    map_page.assert_clean(allow_console=NOT_FOUND_CONSOLE)


def test_english_switch_changes_labels_and_is_remembered(
    map_page: MapPage, demo_server: DemoServer
) -> None:
    g = demo_server.grid
    map_page.open()
    assert map_page.page.locator("#search button[type=submit]").inner_text() == "搜索"
    map_page.page.select_option("#lang-select", "en")
    map_page.page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert map_page.page.locator("#search button[type=submit]").inner_text() == "Search"
    assert map_page.page.get_by_label("Unit grids").is_visible()
    assert map_page.page.title() == "Grid map · gridgov · Grid governance"

    map_page.page.reload()
    map_page.wait_settled()
    assert map_page.page.locator("#lang-select").input_value() == "en"
    map_page.jump(g.lon, g.lat, GRID_ZOOM)
    map_page.click_lonlat(g.lon, g.lat)
    _panel_shows_grid(map_page, g.code)
    labels = map_page.page.locator("#panel dt").all_inner_texts()
    assert "Community" in labels and "Supervisor" in labels
    map_page.screenshot("english")
    map_page.assert_clean()


def test_phone_viewport(phone_page: MapPage, demo_server: DemoServer) -> None:
    g = demo_server.grid
    phone_page.open()
    # The layer list is folded behind a button on a phone.
    assert not phone_page.page.get_by_label("单元网格").is_visible()
    phone_page.page.click("#layers-toggle")
    assert phone_page.page.get_by_label("单元网格").is_visible()
    phone_page.page.click("#layers-toggle")
    phone_page.screenshot("initial")

    phone_page.jump(g.lon, g.lat, GRID_ZOOM)
    phone_page.click_lonlat(g.lon, g.lat)
    _panel_shows_grid(phone_page, g.code)
    box = phone_page.page.locator("#panel").bounding_box()
    assert box is not None
    # A bottom sheet: full width, inside the screen, at most about half its height.
    assert box["x"] == 0 and abs(box["width"] - 390) < 1
    assert box["y"] + box["height"] <= 844 + 1
    assert box["height"] <= 844 * 0.5
    width = phone_page.js("() => document.documentElement.scrollWidth")
    assert width <= 390  # nothing overflows sideways
    phone_page.screenshot("identify")
    phone_page.assert_clean()
