"""GIS file imports and exports of regions, grids, roads and buildings, on SQLite and PostgreSQL.

Every refused file must leave the stored rows exactly as they were.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer
from rich.console import Console
from shapely.geometry import LineString, Polygon, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.errors import ImportRejected, NotFound, ValidationError
from gridgov.geo.files import read_features, write_features
from gridgov.layers import EXPORTERS, IMPORTERS, rich_progress
from gridgov.regions.models import Region, UnitGrid
from gridgov.regions.schemas import RegionIn
from gridgov.registry.models import Building
from gridgov.roads.models import Road, RoadClass
from tests.factories.regions import COMMUNITIES, X0, Y0, D, grid_items, make_district, region_items

FORMATS = [".geojson", ".shp", ".gpkg"]
BOWTIE = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, environment="test", grid_seq_digits=2)


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(count(session, m) for m in (Region, UnitGrid, Road, Building))  # type: ignore[return-value]


def write_regions(path: Path, items: list[RegionIn], **names: str) -> Path:
    """A regions file with our column names, or others given as ``code="编码"`` etc."""
    cols = {
        "code": [i.code for i in items],
        "name": [i.name for i in items],
        "level": [i.level for i in items],
        "parent_code": [i.parent_code for i in items],
    }
    write_features(path, [i.geom for i in items], {names.get(k, k): v for k, v in cols.items()})
    return path


def write_grids(path: Path, geoms: list | None = None) -> Path:  # type: ignore[type-arg]
    items = grid_items()
    geoms = geoms or [g.geom for g in items]
    write_features(path, geoms, {"code": [g.code for g in items], "name": ["" for _ in items]})
    return path


def import_layer(session: Session, layer: str, path: Path, settings: Settings, **kw):  # type: ignore[no-untyped-def]
    return IMPORTERS[layer](session, path, settings=settings, **kw)


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", FORMATS)
def test_export_import_round_trip(
    session: Session, settings: Settings, tmp_path: Path, suffix: str
) -> None:
    first = import_layer(
        session, "regions", write_regions(tmp_path / "r.geojson", region_items()), settings
    )
    assert (first.features, first.created, first.updated) == (8, 8, 0)
    grids = import_layer(session, "grids", write_grids(tmp_path / "g.geojson"), settings)
    assert (grids.created, grids.retired, grids.unchanged) == (16, 0, 0)

    assert EXPORTERS["regions"](session, tmp_path / f"regions{suffix}") == 8
    assert EXPORTERS["grids"](session, tmp_path / f"grids{suffix}") == 16
    table = read_features(tmp_path / f"grids{suffix}")
    first_grid = table.columns["code"].index(COMMUNITIES[0] + "01")
    area = table.columns["area_m2"][first_grid]
    assert area == pytest.approx(85.3 * 111.0, rel=0.01)  # 0.001° × 0.001° at 39.9° N
    assert set(table.columns) == {
        "code",
        "name",
        "community_" if suffix == ".shp" else "community_code",
        "area_m2",
        "valid_from",
    }
    regions = read_features(tmp_path / f"regions{suffix}")
    row = regions.columns["code"].index(COMMUNITIES[0])
    assert regions.columns["name"][row] == "多福巷社区"
    assert regions.columns["level"][row] == "community"

    again = import_layer(session, "regions", tmp_path / f"regions{suffix}", settings)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
    grids_again = import_layer(session, "grids", tmp_path / f"grids{suffix}", settings)
    assert (grids_again.created, grids_again.updated, grids_again.unchanged) == (0, 0, 16)
    assert count(session, UnitGrid) == 16  # nothing re-versioned


def test_export_of_one_street_and_a_bbox(session: Session, tmp_path: Path) -> None:
    make_district(session)
    assert EXPORTERS["grids"](session, tmp_path / "s.gpkg", region_code="110188002") == 8
    assert EXPORTERS["regions"](session, tmp_path / "s.geojson", region_code="110188002") == 3
    bbox = (X0 + 0.1 * D, Y0 + 1.1 * D, X0 + 0.9 * D, Y0 + 1.9 * D)
    assert EXPORTERS["grids"](session, tmp_path / "b.shp", bbox=bbox) >= 1


def test_redrawn_grid_is_a_new_version(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    make_district(session)
    geoms = [g.geom for g in grid_items()]
    # move the border between the first two grids of community 1 east by a quarter grid
    geoms[0] = box(X0, Y0 + D, X0 + 1.25 * D, Y0 + 2 * D)
    geoms[1] = box(X0 + 1.25 * D, Y0 + D, X0 + 2 * D, Y0 + 2 * D)
    summary = import_layer(session, "grids", write_grids(tmp_path / "g.shp", geoms), settings)
    assert (summary.updated, summary.unchanged, summary.created) == (2, 14, 0)
    assert count(session, UnitGrid) == 18


# --------------------------------------------------------------------------- encodings, CRS


def test_gbk_shapefile_without_cpg(session: Session, settings: Settings, tmp_path: Path) -> None:
    items = region_items()
    path = tmp_path / "gbk.shp"
    raw.write(
        path,
        shapely.to_wkb(np.array([i.geom for i in items], dtype=object)),
        [
            np.array([i.code for i in items], dtype=object),
            np.array([i.name for i in items], dtype=object),
        ],
        ["编码", "名称"],
        geometry_type="Polygon",
        crs="EPSG:4326",
        encoding="GBK",
    )
    path.with_suffix(".cpg").unlink()
    summary = import_layer(session, "regions", path, settings)
    assert summary.encoding == "GB18030" and summary.created == 8
    names = session.scalars(select(Region.name).order_by(Region.code))
    assert list(names) == [
        "北京市",
        "东华区",
        "东华门街道",
        "多福巷社区",
        "韶九社区",
        "景山街道",
        "景山东社区",
        "吉祥社区",
    ]


def test_projected_file_is_reprojected_with_right_areas(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    to_gk = Transformer.from_crs(4326, 4547, always_xy=True)
    items = region_items()
    projected = [
        shapely.transform(i.geom, lambda xy: np.column_stack(to_gk.transform(*xy.T))) for i in items
    ]
    path = tmp_path / "gk.gpkg"
    raw.write(
        path,
        shapely.to_wkb(np.array(projected, dtype=object)),
        [
            np.array([i.code for i in items], dtype=object),
            np.array([i.name for i in items], dtype=object),
        ],
        ["code", "name"],
        geometry_type="Polygon",
        crs="EPSG:4547",
    )
    summary = import_layer(session, "regions", path, settings)
    assert "EPSG:4547" in summary.crs_note
    district = session.scalar(select(Region).where(Region.code == "110188"))
    assert district is not None
    assert district.area_m2 == pytest.approx(8 * 2 * 85.3 * 111.0, rel=0.01)
    assert district.minx == pytest.approx(X0, abs=1e-7) and district.maxy == pytest.approx(
        Y0 + 2 * D, abs=1e-7
    )


def test_lat_lon_swapped_is_refused(session: Session, settings: Settings, tmp_path: Path) -> None:
    make_district(session, with_grids=False)
    swapped = [shapely.transform(g.geom, lambda xy: xy[:, ::-1]) for g in grid_items()]
    before = counts(session)
    with pytest.raises(ValidationError, match=r"lat/lon order\?"):
        import_layer(session, "grids", write_grids(tmp_path / "g.geojson", swapped), settings)
    assert counts(session) == before


# --------------------------------------------------------------------------- bad files and rows


@pytest.mark.parametrize("layer", ["regions", "grids", "roads", "buildings"])
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("map.png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        ("grids.csv", b"code,name\n11018800100101,a\n"),
    ],
)
def test_wrong_format_is_refused(
    session: Session, settings: Settings, tmp_path: Path, layer: str, name: str, content: bytes
) -> None:
    make_district(session)
    before = counts(session)
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValidationError, match="is not a GeoJSON, Shapefile or GeoPackage file"):
        import_layer(session, layer, tmp_path / name, settings)
    assert counts(session) == before


def test_one_self_intersecting_building_among_ten(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    geoms = [box(X0 + i * D, Y0, X0 + (i + 0.5) * D, Y0 + 0.5 * D) for i in range(10)]
    geoms.insert(6, BOWTIE)
    path = tmp_path / "b.geojson"
    write_features(path, geoms, {"name": [f"{i}号楼" for i in range(11)]})
    with pytest.raises(ImportRejected) as e:
        import_layer(session, "buildings", path, settings)
    assert [(p["feature"], p["field"], p["kind"]) for p in e.value.problems] == [
        (7, "geometry", "invalid_geometry")
    ]
    assert "feature 7" in e.value.message and "Self-intersection" in e.value.message
    assert e.value.where["file"] == str(path)
    assert count(session, Building) == 0


def test_one_self_intersecting_grid_writes_nothing(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    make_district(session, with_grids=False)
    geoms = [g.geom for g in grid_items()]
    geoms[6] = BOWTIE
    before = counts(session)
    with pytest.raises(ImportRejected) as e:
        import_layer(session, "grids", write_grids(tmp_path / "g.gpkg", geoms), settings)
    assert e.value.problems[0]["feature"] == 7
    assert e.value.problems[0]["field"] == "geometry"
    assert "feature 7" in e.value.message
    assert counts(session) == before == (8, 0, 0, 0)


def test_malformed_code_on_feature_3(session: Session, settings: Settings, tmp_path: Path) -> None:
    items = region_items()
    items[2].code = "11018800A"
    with pytest.raises(ImportRejected) as e:
        import_layer(session, "regions", write_regions(tmp_path / "r.shp", items), settings)
    problem = e.value.problems[0]
    assert (problem["feature"], problem["field"], problem["kind"]) == (3, "code", "bad_code")
    assert "11018800A" in problem["message"]
    assert "feature 3" in e.value.message
    assert count(session, Region) == 0


def test_chinese_column_names_and_levels(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    items = region_items()
    for item in items:
        item.level = {6: "区", 9: "街道", 12: "社区"}[len(item.code)]
    items[0].level = "市"
    path = write_regions(
        tmp_path / "r.gpkg", items, code="编码", name="名称", level="级别", parent_code="上级编码"
    )
    assert import_layer(session, "regions", path, settings).created == 8
    assert session.scalar(select(Region.level).where(Region.code == "110000")) == "city"


def test_every_bad_field_is_reported(session: Session, settings: Settings, tmp_path: Path) -> None:
    items = region_items()
    path = tmp_path / "r.geojson"
    write_features(
        path,
        [i.geom for i in items],
        {
            "code": [i.code for i in items],
            "name": [i.name if n != 1 else "" for n, i in enumerate(items)],
            "level": ["town" if n == 4 else None for n in range(len(items))],
            "population": ["many" if n == 5 else 1000 for n in range(len(items))],
        },
    )
    with pytest.raises(ImportRejected) as e:
        import_layer(session, "regions", path, settings)
    found = sorted((p["feature"], p["field"]) for p in e.value.problems)
    assert found == [(2, "name"), (5, "level"), (6, "population")]
    assert count(session, Region) == 0


def test_missing_required_column(session: Session, settings: Settings, tmp_path: Path) -> None:
    items = region_items()
    path = tmp_path / "r.geojson"
    write_features(path, [i.geom for i in items], {"DM": [i.code for i in items]})
    with pytest.raises(ImportRejected) as e:
        import_layer(session, "regions", path, settings)
    assert [(p["kind"], p["field"]) for p in e.value.problems] == [("missing_field", "name")]
    assert "columns: DM" in e.value.problems[0]["message"]
    # the same file with the column named explicitly still lacks names
    write_features(
        path,
        [i.geom for i in items],
        {"DM": [i.code for i in items], "MC": [i.name for i in items]},
    )
    summary = import_layer(session, "regions", path, settings, code_field="DM", name_field="MC")
    assert summary.created == 8


def test_buildings_fields_and_duplicates(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    geoms = [box(X0 + i * D, Y0, X0 + (i + 0.5) * D, Y0 + 0.5 * D) for i in range(4)]
    path = tmp_path / "b.shp"
    write_features(
        path,
        geoms,
        {
            "编码": ["B1", "B2", "B2", "B4"],
            "地址": ["景山前街4号"] * 4,
            "层数": ["6", "abc", "3", "x"],
        },
    )
    with pytest.raises(ImportRejected) as e:
        import_layer(session, "buildings", path, settings)
    assert sorted((p["feature"], p["field"]) for p in e.value.problems) == [
        (2, "层数"),
        (3, "编码"),
        (4, "层数"),
    ]
    write_features(
        path,
        geoms,
        {"编码": ["B1", "B2", "B3", "B4"], "地址": ["景山前街4号"] * 4, "层数": [6, 2, 3, None]},
    )
    assert import_layer(session, "buildings", path, settings).created == 4
    row = session.scalar(select(Building).where(Building.code == "B1"))
    assert row is not None and (row.address, row.floors) == ("景山前街4号", 6)
    with pytest.raises(ImportRejected, match="B1 already exists"):
        import_layer(session, "buildings", path, settings)
    assert import_layer(session, "buildings", path, settings, mode="replace").retired == 4
    assert count(session, Building) == 4


def test_roads_classes_and_geometry(session: Session, settings: Settings, tmp_path: Path) -> None:
    lines = [LineString([(X0, Y0 + i * D), (X0 + 8 * D, Y0 + i * D)]) for i in range(5)]
    path = tmp_path / "roads.geojson"
    highway = ["primary_link", "tertiary", "living_street", "cycleway", "construction"]
    write_features(
        path,
        lines,
        {
            "name": ["景山前街", "", None, "绿道", "x"],
            "highway": highway,
            "width": [20, None, 4, 2.5, None],
        },
    )
    summary = import_layer(session, "roads", path, settings)
    assert summary.created == 5
    classes = list(session.scalars(select(Road.road_class).order_by(Road.id)))
    assert classes == [
        RoadClass.MAIN,
        RoadClass.SECONDARY,
        RoadClass.MINOR,
        RoadClass.PATH,
        RoadClass.OTHER,
    ]
    make_district(session, with_grids=False)  # lines 4 and 5 run north of the district
    assert EXPORTERS["roads"](session, tmp_path / "out.shp", region_code="110188") == 3
    with pytest.raises(NotFound):
        EXPORTERS["roads"](session, tmp_path / "out.shp", region_code="110199")

    write_features(path, [*lines[:2], BOWTIE], {"name": ["a", "b", "c"]})
    with pytest.raises(ImportRejected) as e:
        import_layer(session, "roads", path, settings, mode="replace")
    assert [(p["feature"], p["field"]) for p in e.value.problems] == [(3, "geometry")]
    assert "expected a LineString" in e.value.message
    assert count(session, Road) == 5


def test_helsinki_roads_and_buildings(
    session: Session, settings: Settings, tmp_path: Path, osm_dir: Path
) -> None:
    pbf = osm_dir / "Helsinki.osm.pbf"
    if not pbf.exists():
        pytest.skip(f"{pbf} is not in the repository")
    from gridgov.geo.osm import read_osm

    roads, buildings = read_osm(pbf)
    assert len(roads) > 100 and len(buildings) > 100
    road_file = tmp_path / "hki_roads.geojson"
    write_features(
        road_file,
        [r[2] for r in roads],
        {"name": [r[0] for r in roads], "highway": [r[1] for r in roads]},
    )
    calls: list[tuple[int, int]] = []
    summary = import_layer(
        session, "roads", road_file, settings, progress=lambda d, t: calls.append((d, t))
    )
    assert summary.created == len(roads) == count(session, Road)
    assert calls[-1] == (2 * len(roads), 2 * len(roads))
    by_class = dict(
        session.execute(select(Road.road_class, func.count()).group_by(Road.road_class)).all()
    )
    assert (
        by_class[RoadClass.MAIN] > 0
        and by_class[RoadClass.MINOR] > 0
        and by_class[RoadClass.PATH] > 0
    )
    named = session.scalar(select(func.count()).where(Road.name == "Mannerheimintie"))
    assert named and named > 0

    building_file = tmp_path / "hki_buildings.gpkg"
    write_features(building_file, buildings, {"name": [""] * len(buildings)})
    assert import_layer(
        session, "buildings", building_file, settings, mode="replace"
    ).created == len(buildings)
    out = tmp_path / "roads_out.shp"
    assert EXPORTERS["roads"](session, out) == len(roads)
    assert read_features(out).count == len(roads)


def test_rich_progress_drives_a_bar(session: Session, settings: Settings, tmp_path: Path) -> None:
    buf = io.StringIO()
    path = tmp_path / "r.geojson"
    with rich_progress(
        "regions", console=Console(file=buf, force_terminal=True, width=80)
    ) as progress:
        summary = import_layer(
            session, "regions", write_regions(path, region_items()), settings, progress=progress
        )
    assert summary.created == 8
    assert "regions" in buf.getvalue() and "16/16" in buf.getvalue()
