"""The command line on a real SQLite data directory: clear messages, exit 2, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridgov.cli import app
from gridgov.config import get_settings
from gridgov.db import session_scope
from gridgov.geo.files import write_features
from tests.factories.regions import COMMUNITIES, X0, Y0, D, community_box, region_items

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("GRIDGOV_DATABASE_URL", "GRIDGOV_CONFIG", "GRIDGOV_GRID_SEQ_DIGITS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GRIDGOV_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def _regions_file(tmp_path: Path) -> Path:
    items = region_items()
    path = tmp_path / "regions.geojson"
    write_features(
        path,
        [i.geom for i in items],
        {
            "code": [i.code for i in items],
            "name": [i.name for i in items],
            "level": [i.level or "" for i in items],
            "parent_code": [i.parent_code or "" for i in items],
        },
    )
    return path


def test_import_divide_validate_geocode(data_dir: Path, tmp_path: Path) -> None:
    code, out = run("import", "regions", str(_regions_file(tmp_path)))
    assert code == 0, out
    # a north-south road through the middle of the first community
    mid = X0 + D
    roads = tmp_path / "roads.geojson"
    from shapely.geometry import LineString

    write_features(
        roads, [LineString([(mid, Y0 - D), (mid, Y0 + 3 * D)])], {"name": ["东四北大街"]}
    )
    code, out = run(
        "grids",
        "divide",
        "--community",
        COMMUNITIES[0],
        "--lines",
        str(roads),
        "--target-area",
        "9000",
    )
    assert code == 0, out
    assert "unit grids" in out and "saved as grid revision" in out
    code, out = run("grids", "validate")
    assert code == 0 and "valid" in out
    code, out = run("geocode", str(X0 + 0.5 * D), str(Y0 + 0.5 * D))
    assert code == 0, out
    body = json.loads(out)
    assert body["community"]["code"] == COMMUNITIES[0]
    assert body["grid"]["code"].startswith(COMMUNITIES[0])
    # the division respects the road: no grid crosses it
    from gridgov.regions.service import list_grids

    with session_scope() as session:
        grids = list_grids(session, region_code=COMMUNITIES[0])
        assert len(grids) >= 4
        # Division snaps shared edges to a 1 cm grid in metres: up to 1.2e-7° of longitude at 40°N.
        tol = 2e-7
        assert all(g.maxx <= mid + tol or g.minx >= mid - tol for g in grids)
        assert community_box(0).area == pytest.approx(sum(g.geom.area for g in grids), rel=1e-6)


def test_bad_file_is_a_clear_message_not_a_traceback(data_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "grids.geojson"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    code, out = run("import", "grids", str(png))
    assert code == 2
    assert "Traceback" not in out and "grids.geojson" in out


def test_unknown_layer_and_community(data_dir: Path, tmp_path: Path) -> None:
    code, out = run("import", "planets", str(tmp_path / "x.geojson"))
    assert code == 2 and "unknown layer" in out
    code, out = run("grids", "divide", "--community", "110188009009")
    assert code == 2 and "does not exist" in out


def test_geocode_outside_every_grid(data_dir: Path) -> None:
    code, out = run("geocode", "116.0", "39.0")
    assert code == 2 and "no unit grid" in out
