"""Benchmark: the map's layers with a district's ~160,000 components (城市部件).

Per backend (SQLite, PostgreSQL), on a fresh database holding the demo district (``--scale``,
no case history) and ``--per-grid`` generated components in every unit grid
(:func:`generate_components`; ~1,600 grids × 100 ≈ 160,000 at scale 1), with
``uvicorn gridgov.asgi:app`` in a subprocess on a free 127.0.0.1 port, over HTTP as a logged-in
leader (领导), each request ``--repeat`` times (the first, cold one reported apart):

1. ``grids_district_zoom``: ``GET /api/grids.geojson?bbox=<district>&zoom=<district zoom>`` —
   the first grid data of a map fitting the district (unit grids from zoom 13, else one
   simplified outline per community with its grid count), at the zoom of the /map page and
   (``grids_leader_<size>_zoom``) of the leader cockpit's smaller map canvas
   (:data:`LEADER_CANVAS`), against the same-run baseline ``grids``:
   ``GET /api/grids.geojson?bbox=<district>`` without a zoom — every unit grid of the district
   (what the leader map used to load);
2. ``aggregated``: ``GET /api/map/components.geojson?bbox=<district>&zoom=<district zoom>`` —
   the components layer as the map asks for it at district zoom (counts per community);
3. ``aggregated_grid``: the same bbox at ``level=grid`` (counts per unit grid: ~1,600 circles);
4. ``points``: ``…?bbox=<street block>&zoom=18`` — the individual components of a ~300 m block;
5. ``revalidate``: the aggregated request again with ``If-None-Match`` (the browser's reload);
6. **baseline**, same run: every component as one GeoJSON FeatureCollection of points, the naive
   alternative — ``GET /api/components`` pages of 5,000 (the existing list API, all pages)
   and the same rows written as one GeoJSON document on the server (``naive_geojson_*``).

Each measure reports raw bytes, gzipped bytes (what went over the wire: the app's gzip
middleware) and the median/min time. With ``--browser``, Chromium (Playwright, Debian's
``/usr/bin/chromium``) opens ``/map`` logged in and waits until the map is idle with the
components layer drawn at district zoom.

    python bench/map_layers.py                        # rich table + JSON line
    python bench/map_layers.py --json                 # JSON object on the last line only
    python bench/map_layers.py --backends sqlite --scale 0.2 --browser
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from gridgov.benchmarks.intake import Backend, fresh_backend, server
from gridgov.demo.components import generate_components

PASSWORD = "gridgov-demo"
LEADER = "leader"
#: Share of the components per major class (城市部件大类) and per state (部件状态).
BLOCK_M = 300.0  # side of the street block of the points measure
#: The leader cockpit's map canvas (CSS px, measured in Chromium) at the screen's design size
#: (1920×1080) and at 1280×800; the /map page's is :func:`district_view`'s default.
LEADER_CANVAS = {"leader_1920": (940, 813), "leader_1280": (599, 548)}


# ------------------------------------------------------------------------------------ the data


# ----------------------------------------------------------------------------- the naive layer


def naive_app() -> Any:
    """The baseline: every component as one GeoJSON FeatureCollection of points with the same
    properties as the layer's points (id, subclass, subclass name, major class, state), written
    with gridgov's own GeoJSON writer and gzipped by the same middleware. Not part of the product.

        uvicorn gridgov.benchmarks.map_layers:naive_app --factory
    """
    from fastapi import FastAPI, Response
    from fastapi.middleware.gzip import GZipMiddleware

    from gridgov.components.models import Component
    from gridgov.config import get_settings
    from gridgov.db import get_engine, session_factory
    from gridgov.geo.geojson import feature_collection
    from gridgov.taxonomy.models import Kind, Subclass

    engine = get_engine(get_settings())
    make = session_factory(engine)
    app = FastAPI()
    app.add_middleware(GZipMiddleware, minimum_size=2048)

    @app.get("/naive/components.geojson")
    def everything() -> Response:
        with make() as session:
            names = dict(
                session.execute(
                    select(Subclass.code, Subclass.name).where(Subclass.kind == Kind.COMPONENT)
                ).all()
            )
            rows = session.execute(
                select(Component.id, Component.subclass_code, Component.state, Component.geom)
            ).all()
        props = [
            {
                "id": cid,
                "subclass": sub,
                "subclass_name": names.get(sub, ""),
                "major": sub[:2],
                "state": state.value,
            }
            for cid, sub, state, _ in rows
        ]
        body = feature_collection([r[3] for r in rows], props)
        return Response(
            body,
            media_type="application/geo+json",
            headers={"Access-Control-Allow-Origin": "*"},  # the browser measure fetches it
        )

    return app


# -------------------------------------------------------------------------------- measuring


def fetch(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """One GET: status, bytes on the wire (gzipped when the server did), bytes of the body,
    seconds until the last byte."""
    started = time.perf_counter()
    with client.stream("GET", path, headers={"Accept-Encoding": "gzip"} | (headers or {})) as r:
        wire = b"".join(r.iter_raw())
        seconds = time.perf_counter() - started
        gzipped = r.headers.get("content-encoding") == "gzip"
        etag = r.headers.get("etag")
        status = r.status_code
    body = gzip.decompress(wire) if gzipped else wire
    return {
        "status": status,
        "wire": len(wire),
        "raw": len(body),
        "seconds": seconds,
        "body": body,
        "etag": etag,
    }


def measure(
    client: httpx.Client,
    path: str,
    repeat: int,
    headers: dict[str, str] | None = None,
    before: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """``path`` fetched ``repeat`` times: the first (cold) and the median of the others (warm),
    with its sizes and, for GeoJSON, the level and the number of features."""
    runs = []
    for _ in range(max(repeat, 2)):
        if before is not None:
            before()
        runs.append(fetch(client, path, headers))
    first = runs[0]
    if first["status"] not in (200, 304):
        raise RuntimeError(f"GET {path}: {first['status']} {first['body'][:300]!r}")
    out: dict[str, Any] = {
        "raw_bytes": first["raw"],
        "gzip_bytes": first["wire"],
        "cold_ms": round(first["seconds"] * 1e3, 1),
        "warm_ms": round(statistics.median(r["seconds"] for r in runs[1:]) * 1e3, 1),
        "min_ms": round(min(r["seconds"] for r in runs) * 1e3, 1),
    }
    if first["status"] == 200 and first["body"][:1] == b"{":
        doc = json.loads(first["body"])
        out["features"] = len(doc.get("features", []))
        for key in ("level", "total", "truncated"):
            if key in doc:
                out[key] = doc[key]
    return out


def district_view(extent: list[float], width: int = 1280, height: int = 744) -> dict[str, Any]:
    """The zoom at which the map page fits the district (Web Mercator, 512-px tiles, the page's
    24-px padding) and that view's centre."""
    minx, miny, maxx, maxy = extent

    def merc_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    zx = math.log2((width - 48) / ((maxx - minx) / 360 * 512))
    zy = math.log2((height - 48) / ((merc_y(maxy) - merc_y(miny)) / (2 * math.pi) * 512))
    return {"zoom": round(min(zx, zy), 2), "center": [(minx + maxx) / 2, (miny + maxy) / 2]}


def block_bbox(center: list[float], side_m: float = BLOCK_M) -> tuple[float, ...]:
    """A square street block of ``side_m`` metres around ``center``."""
    lon, lat = center
    dlat = side_m / 2 / 111_320
    dlon = dlat / math.cos(math.radians(lat))
    return (lon - dlon, lat - dlat, lon + dlon, lat + dlat)


def _bbox(box: Sequence[float]) -> str:
    return ",".join(f"{v:.6f}" for v in box)


def login(base: str, username: str) -> str:
    r = httpx.post(
        base + "/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=60
    )
    r.raise_for_status()
    return str(r.json()["token"])


def http_measures(base: str, naive_base: str, repeat: int) -> dict[str, Any]:
    """Every HTTP measure against a running product server and the naive server."""
    token = login(base, LEADER)
    admin = login(base, "admin")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=300) as client:
        extent = client.get("/api/map/extent").json()["bbox"]
        view = district_view(extent)
        zoom = view["zoom"]
        district = _bbox(extent)
        layer = f"/api/map/components.geojson?bbox={district}&zoom={math.floor(zoom)}"
        block = _bbox(block_bbox(view["center"]))
        out: dict[str, Any] = {"district_zoom": zoom, "block_m": BLOCK_M}
        out["grids"] = measure(client, f"/api/grids.geojson?bbox={district}", repeat)
        zooms = {"district": zoom} | {
            name: district_view(extent, *size)["zoom"] for name, size in LEADER_CANVAS.items()
        }
        out["grid_zooms"] = zooms
        for name, z in zooms.items():
            out[f"grids_{name}_zoom"] = measure(
                client, f"/api/grids.geojson?bbox={district}&zoom={z}", repeat
            )
        out["aggregated"] = measure(client, layer, repeat)
        out["aggregated_grid"] = measure(
            client, f"/api/map/components.geojson?bbox={district}&level=grid", repeat
        )
        out["points"] = measure(client, f"/api/map/components.geojson?bbox={block}&zoom=18", repeat)
        etag = fetch(client, layer)["etag"] or ""
        out["revalidate_304"] = measure(client, layer, repeat, headers={"If-None-Match": etag})

        # One state change, then the district again: the new history row is applied to the
        # cached counts (no new GROUP BY over the table).
        some = client.get("/api/components", params={"limit": 1}).json()[0]
        states = iter(["damaged", "intact"] * repeat)

        def change() -> None:
            r = httpx.post(
                f"{base}/api/components/{some['id']}/state",
                json={"state": next(states), "note": "bench"},
                headers={"Authorization": f"Bearer {admin}"},
                timeout=60,
            )
            r.raise_for_status()

        out["aggregated_after_change"] = measure(client, layer, repeat, before=change)

        # Baseline 1: the list API, page after page (what a client can do today).
        started = time.perf_counter()
        wire = raw = count = 0
        page = 5000
        while True:
            got = fetch(client, f"/api/components?limit={page}&offset={count}")
            rows = json.loads(got["body"])
            wire, raw, count = wire + got["wire"], raw + got["raw"], count + len(rows)
            if len(rows) < page:
                break
        out["baseline_list_api"] = {
            "raw_bytes": raw,
            "gzip_bytes": wire,
            "ms": round((time.perf_counter() - started) * 1e3, 1),
            "rows": count,
        }
    # Baseline 2: every component as one GeoJSON document.
    with httpx.Client(base_url=naive_base, timeout=300) as naive:
        out["baseline_all_geojson"] = measure(naive, "/naive/components.geojson", repeat)
    out["_token"] = token
    out["_view"] = view
    return out


# --------------------------------------------------------------------------------- browser

CHROMIUM = os.environ.get("GRIDGOV_CHROMIUM", "/usr/bin/chromium")
#: As tests/e2e/conftest.py: headless, WebGL on the CPU (SwiftShader).
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

_IDLE = "() => window.gridgov && window.gridgov.settled && window.gridgov.settled()"
_NAIVE_JS = """async (url) => {
    const map = window.gridgov.map;
    const started = performance.now();
    const data = await (await fetch(url)).json();
    const fetched = performance.now();
    map.addSource("naive", {type: "geojson", data});
    map.addLayer({id: "naive", type: "circle", source: "naive",
                  paint: {"circle-radius": 2, "circle-color": "#2563eb"}});
    await new Promise((resolve) => map.once("idle", resolve));
    return {fetch_ms: fetched - started, idle_ms: performance.now() - started,
            features: data.features.length};
}"""


def browser_measures(base: str, naive_base: str, token: str) -> dict[str, Any]:
    """/map in Chromium (1280×800): navigation to "map idle" anonymous (no components layer:
    the same-run baseline), logged in with the components layer at district zoom, and the naive
    layer (every component as one GeoJSON source) added to the logged-in map."""
    from urllib.parse import urlsplit

    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        return {"skipped": f"no Chromium at {CHROMIUM}"}
    out: dict[str, Any] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for name, logged_in in (("map_anonymous", False), ("map_with_components", True)):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                if logged_in:
                    host = urlsplit(base).hostname or "127.0.0.1"
                    context.add_cookies(
                        [{"name": "gridgov_session", "value": token, "domain": host, "path": "/"}]
                    )
                page = context.new_page()
                page.goto(base + "/map")
                page.wait_for_function(_IDLE, timeout=120_000)
                page.wait_for_timeout(200)
                page.wait_for_function(_IDLE, timeout=120_000)
                row: dict[str, Any] = {"idle_s": round(page.evaluate("performance.now()") / 1e3, 2)}
                if logged_in:
                    layer = page.evaluate("() => window.gridgov.components()")
                    row.update({k: layer[k] for k in ("level", "features", "rendered")})
                    row["components_fetch_ms"] = page.evaluate(
                        "() => window.gridgov.stats.lastComponentMs"
                    )
                    sizes = page.evaluate(
                        """() => performance.getEntriesByType("resource")
                            .filter((e) => e.name.includes("/api/map/components"))
                            .map((e) => [e.transferSize, e.decodedBodySize])"""
                    )
                    if sizes:
                        row["components_transfer_bytes"], row["components_body_bytes"] = sizes[-1]
                    naive = page.evaluate(_NAIVE_JS, naive_base + "/naive/components.geojson")
                    out["naive_layer_in_map"] = {k: round(v) for k, v in naive.items()}
                out[name] = row
                context.close()
        finally:
            browser.close()
    return out


# ------------------------------------------------------------------------------------ main


def prepare(backend: Backend, scale: float, per_grid: int) -> tuple[dict[str, Any], Engine]:
    """Migrate, load the demo district (no case history) and the components; counts and times."""
    from gridgov.components.models import Component
    from gridgov.config import Settings
    from gridgov.db import get_engine, session_scope
    from gridgov.demo.load import load_demo
    from gridgov.migrate import upgrade
    from gridgov.regions.models import UnitGrid

    settings = Settings(database_url=backend.url, data_dir=backend.data_dir)
    engine = get_engine(settings)
    upgrade(engine)
    t = time.perf_counter()
    load_demo(engine, scale=scale, settings=settings, history_days=0)
    demo_s = time.perf_counter() - t
    t = time.perf_counter()
    with session_scope(engine) as session:
        generate_components(session, per_grid=per_grid)
    components_s = time.perf_counter() - t
    with Session(engine) as session:
        grids = session.scalar(
            select(func.count()).select_from(UnitGrid).where(UnitGrid.valid_to.is_(None))
        )
        components = session.scalar(select(func.count()).select_from(Component))
    return {
        "grids": grids,
        "components": components,
        "demo_load_s": round(demo_s, 1),
        "components_load_s": round(components_s, 1),
    }, engine


def run_backend(
    name: str, root: Path, *, scale: float, per_grid: int, repeat: int, browser: bool
) -> dict[str, Any]:
    """Every measurement on one backend; returns its result row."""
    with fresh_backend(name, root) as backend:
        row, engine = prepare(backend, scale, per_grid)
        engine.dispose()
        with (
            server("gridgov.asgi:app", backend, 1) as base,
            server(
                "gridgov.benchmarks.map_layers:naive_app", backend, 1, factory=True
            ) as naive_base,
        ):
            measures = http_measures(base, naive_base, repeat)
            token, view = measures.pop("_token"), measures.pop("_view")
            row.update(measures)
            if browser:
                row["browser"] = browser_measures(base, naive_base, token)
        row["district_center"] = [round(v, 5) for v in view["center"]]
        _ratios(row)
        return row


#: Ratio name prefix → (baseline measure, measure): how many times more the baseline costs.
RATIOS = {
    "naive_vs_aggregated": ("baseline_all_geojson", "aggregated"),
    "all_grids_vs_district_zoom": ("grids", "grids_district_zoom"),
    **{f"all_grids_vs_{n}_zoom": ("grids", f"grids_{n}_zoom") for n in LEADER_CANVAS},
}


def _ratios(row: dict[str, Any]) -> None:
    """Baseline ÷ measure: how many times more raw and gzipped bytes and time the baseline
    (every component as one document; every unit grid of the district) costs."""
    row["ratios"] = {}
    for name, (base_key, key) in RATIOS.items():
        base, m = row[base_key], row[key]
        for unit in ("raw_bytes", "gzip_bytes", "warm_ms", "cold_ms"):
            row["ratios"][f"{name}_{unit}"] = round(base[unit] / max(m[unit], 0.1), 1)


def _print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    names = [n for n in ("sqlite", "postgresql") if n in result]
    table = Table(title=f"Map layers ({result['params']})")
    table.add_column("request")
    for n in names:
        table.add_column(f"{n}: gzip / raw", justify="right")
        table.add_column(f"{n}: cold / warm ms", justify="right")
    for key in (
        "grids",
        "grids_district_zoom",
        *(f"grids_{n}_zoom" for n in LEADER_CANVAS),
        "aggregated",
        "aggregated_grid",
        "points",
        "revalidate_304",
        "aggregated_after_change",
        "baseline_all_geojson",
    ):
        cells = []
        for n in names:
            m = result[n][key]
            cells.append(f"{m['gzip_bytes']:,} / {m['raw_bytes']:,}")
            cells.append(f"{m['cold_ms']} / {m['warm_ms']}")
        table.add_row(key, *cells)
    Console().print(table)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--scale", type=float, default=1.0, help="demo district scale")
    parser.add_argument("--per-grid", type=int, default=100, help="components per unit grid")
    parser.add_argument("--repeat", type=int, default=5, help="times each request is made")
    parser.add_argument("--browser", action="store_true", help="also measure /map in Chromium")
    parser.add_argument("--json", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    root = Path(tempfile.mkdtemp(prefix="gridgov-bench-map-"))
    result: dict[str, Any] = {
        "params": {
            "scale": args.scale,
            "per_grid": args.per_grid,
            "repeat": args.repeat,
            "browser": args.browser,
            "cpus": os.cpu_count(),
        }
    }
    try:
        for name in [b.strip() for b in args.backends.split(",") if b.strip()]:
            result[name] = run_backend(
                name,
                root,
                scale=args.scale,
                per_grid=args.per_grid,
                repeat=args.repeat,
                browser=args.browser,
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if not args.json:
        _print_table(result)
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
