"""The components layer (城市部件) of the map page in a real Chromium: the toggle, count circles
at low zoom, the components themselves when zoomed in, a click showing one in the side panel.

The demo loads ``PER_GRID`` components into every unit grid; the module works in the grids
farthest from the grid other tests use (``demo_server.grid``). There are more than the server
sends as points for a whole view, so low zoom shows counts.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from gridgov.db import session_scope
from gridgov.demo.components import PER_GRID
from tests.e2e.conftest import use_session

if TYPE_CHECKING:  # fixtures' types; pytest itself imports conftest.py
    from tests.e2e.conftest import DemoServer

pytestmark = pytest.mark.e2e

GRIDS = 12


@pytest.fixture(scope="module")
def components(demo_server: DemoServer) -> list[dict[str, Any]]:
    """The demo's components (``PER_GRID`` a grid) in the 12 grids farthest from
    ``demo_server.grid``."""
    from gridgov.components.models import Component
    from gridgov.regions.models import UnitGrid

    g = demo_server.grid
    with session_scope(demo_server.engine) as s:
        grids = s.execute(
            select(UnitGrid.code, UnitGrid.minx, UnitGrid.miny, UnitGrid.maxx, UnitGrid.maxy).where(
                UnitGrid.valid_to.is_(None)
            )
        ).all()
        far = sorted(
            grids,
            key=lambda r: -math.hypot((r[1] + r[3]) / 2 - g.lon, (r[2] + r[4]) / 2 - g.lat),
        )
        codes = [r[0] for r in far[:GRIDS]]
        assert g.code not in codes
    with session_scope(demo_server.engine) as s:
        rows = s.execute(
            select(
                Component.id,
                Component.grid_code,
                Component.state,
                Component.owner_dept_code,
                Component.minx,
                Component.miny,
            ).where(Component.grid_code.in_(codes), Component.data_source == "demo")
        ).all()
    assert len(rows) == GRIDS * PER_GRID
    return [
        {
            "id": r[0],
            "grid_code": r[1],
            "state": r[2].value,
            "owner": r[3],
            "lon": r[4],
            "lat": r[5],
        }
        for r in rows
    ]


def _toggle(mp: Any) -> Any:
    return mp.page.locator('#layers-list input[data-layer="component"]')


def _layer(mp: Any) -> dict[str, Any]:
    return mp.js("() => window.gridgov.components()")  # type: ignore[no-any-return]


def _isolated(components: list[dict[str, Any]]) -> dict[str, Any]:
    """A component with no other within 2 m (a click at zoom 20 lands on it alone)."""
    for c in components:
        if all(
            o is c
            or math.hypot((o["lon"] - c["lon"]) * 85_000, (o["lat"] - c["lat"]) * 111_000) > 2
            for o in components
            if o["grid_code"] == c["grid_code"]
        ):
            return c
    raise AssertionError("no isolated component")


def test_components_layer_counts_then_points_then_panel(
    map_page: Any, demo_server: DemoServer, components: list[dict[str, Any]]
) -> None:
    mp = map_page
    use_session(mp, demo_server, "leader")
    load_s = mp.open("/map")
    toggle = _toggle(mp)
    assert toggle.is_checked()
    assert mp.page.get_by_label("城市部件").is_checked()

    # The whole district in view: counts, not components one by one.
    assert _layer(mp)["level"] in ("street", "community", "grid"), _layer(mp)
    figures = {
        "page_load_to_idle_s": round(load_s, 2),
        "initial_level": _layer(mp)["level"],
        "features": _layer(mp)["features"],
        "component_fetch_ms": mp.js("() => window.gridgov.stats.lastComponentMs"),
    }
    # Low zoom: counts per community, drawn as circles with count labels.
    center = mp.js("() => window.gridgov.map.getCenter().toArray()")
    mp.jump(center[0], center[1], 13)
    layer = _layer(mp)
    assert layer["level"] == "community", layer
    assert layer["total"] >= len(components) and layer["rendered"] > 0
    assert layer["countLabels"] > 0
    legend = mp.page.locator("#component-legend")
    assert legend.is_visible() and "圆圈大小" in legend.inner_text()
    assert "城市部件" in mp.page.locator("#status").inner_text()
    mp.screenshot("components-counts")

    # Off and on again.
    toggle.uncheck()
    assert mp.js("() => window.gridgov.map.getLayoutProperty('component-group', 'visibility')") == (
        "none"
    )
    mp.page.wait_for_function("() => window.gridgov.components().rendered === 0")
    assert _layer(mp)["countLabels"] == 0 and mp.page.locator("#component-legend").is_hidden()
    toggle.check()
    mp.wait_settled()
    assert _layer(mp)["rendered"] > 0

    # A unit grid's zoom: counts per grid; a click on a circle shows the grid's counts.
    target = _isolated(components)
    in_grid = [c for c in components if c["grid_code"] == target["grid_code"]]
    mp.jump(target["lon"], target["lat"], 15.5)
    layer = _layer(mp)
    assert layer["level"] == "grid", layer
    feature = mp.js(
        """(code) => window.gridgov.data.component.features.find(
            (f) => f.properties.code === code)""",
        target["grid_code"],
    )
    assert feature["properties"]["count"] == len(in_grid)
    mp.click_lonlat(*feature["geometry"]["coordinates"])
    mp.page.wait_for_function(
        """(code) => document.querySelector('#panel[data-kind="component-group"] h2')
            ?.textContent.includes(code)""",
        arg=target["grid_code"],
        timeout=15_000,
    )
    assert mp.field("count") == str(len(in_grid))
    mp.screenshot("components-grid")

    # Zoomed in: the components themselves, coloured by class, ringed by state.
    mp.jump(target["lon"], target["lat"], 20)
    layer = _layer(mp)
    assert layer["level"] == "points" and layer["rendered"] > 0, layer
    shown = mp.js("() => window.gridgov.data.component.features.map((f) => f.properties.id)")
    assert target["id"] in shown

    # A click on a component shows it in the side panel.
    mp.click_lonlat(target["lon"], target["lat"])
    mp.page.wait_for_function(
        """(id) => {
            const dd = document.querySelector('#panel dd[data-field="component_id"]');
            return dd && dd.textContent.trim() === id;
        }""",
        arg=target["id"],
        timeout=15_000,
    )
    state_label = {
        "intact": "完好",
        "damaged": "破损",
        "lost": "丢失",
        "occupied": "占用",
        "abandoned": "废弃",
    }[target["state"]]
    assert mp.field("state") == state_label
    assert target["id"][6:10] in mp.field("subclass")
    owner = mp.field("owner")
    if target["owner"]:
        assert target["owner"] in owner and len(owner) > len(target["owner"])  # name + code
    assert mp.field("grid") == target["grid_code"]
    assert mp.js("() => window.gridgov.components().selected") == target["id"]
    mp.wait_settled()
    mp.screenshot("components-point")
    print("\n[e2e figures components] " + json.dumps(figures, ensure_ascii=False))
    mp.assert_clean()


def test_anonymous_map_has_no_components_layer(
    map_page: Any, demo_server: DemoServer, components: list[dict[str, Any]]
) -> None:
    requests: list[str] = []
    map_page.page.on("request", lambda r: requests.append(r.url))
    map_page.open("/map")
    assert _toggle(map_page).count() == 0
    assert not any("/api/map/components" in u for u in requests)
    map_page.assert_clean()
