"""Reading and writing GIS files: formats, encodings, CRS and coordinate-order checks."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio import raw
from pyproj import Transformer
from shapely.geometry import LineString, box

from gridgov.errors import ImportRejected, ValidationError
from gridgov.geo.files import read_features, write_features
from gridgov.geo.importing import FieldSpec, Tick, convert, map_fields

NAMES = ["东华门街道", "景山街道", "和平里"]
BOXES = [box(116.40 + 0.01 * i, 39.90, 116.41 + 0.01 * i, 39.91) for i in range(3)]


def _write_gbk_shapefile(path: Path, *, keep_cpg: bool) -> None:
    raw.write(
        path,
        shapely.to_wkb(np.array(BOXES, dtype=object)),
        [np.array(NAMES, dtype=object), np.array([1, 2, 3], dtype="int64")],
        ["name", "n"],
        geometry_type="Polygon",
        crs="EPSG:4326",
        encoding="GBK",
    )
    if not keep_cpg:
        path.with_suffix(".cpg").unlink()


def _geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    fc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        fc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(fc, ensure_ascii=False), encoding="utf-8")
    return path


def _feature(geom, **props) -> dict:  # type: ignore[no-untyped-def]
    return {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}


@pytest.mark.parametrize("suffix", [".geojson", ".shp", ".gpkg"])
def test_write_then_read_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"layer{suffix}"
    n = write_features(
        path,
        BOXES,
        {"code": ["a", "b", None], "name": NAMES, "floors": [3, None, 5], "area": [1.5, 2.0, 3.25]},
    )
    table = read_features(path)
    assert n == 3 and table.count == 3
    assert table.columns["name"] == NAMES
    assert table.columns["code"][:2] == ["a", "b"]
    assert table.columns["floors"][0] == 3 and table.columns["floors"][2] == 5
    assert table.columns["area"] == [1.5, 2.0, 3.25]
    for got, want in zip(table.geoms, BOXES, strict=True):  # GeoJSON keeps 15 digits
        assert shapely.equals_exact(shapely.normalize(got), shapely.normalize(want), 1e-9)
    assert table.crs_note == "WGS84 lon/lat"
    if suffix == ".shp":
        assert path.with_suffix(".cpg").read_text().strip().upper().replace("-", "") == "UTF8"


def test_shapefile_long_field_names_are_cut_to_ten_characters(tmp_path: Path) -> None:
    path = tmp_path / "grids.shp"
    write_features(path, BOXES[:1], {"community_code": ["110188001001"], "community_name": ["x"]})
    assert list(read_features(path).columns) == ["community_", "communit_1"]


@pytest.mark.parametrize("keep_cpg", [True, False])
def test_gbk_shapefile_reads_chinese_names(tmp_path: Path, keep_cpg: bool) -> None:
    path = tmp_path / "gbk.shp"
    _write_gbk_shapefile(path, keep_cpg=keep_cpg)
    table = read_features(path)
    assert table.columns["name"] == NAMES
    assert table.encoding_used == ("GBK" if keep_cpg else "GB18030")


def test_zipped_gbk_shapefile_without_cpg(tmp_path: Path) -> None:
    _write_gbk_shapefile(tmp_path / "gbk.shp", keep_cpg=False)
    zpath = tmp_path / "gbk.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            z.write(tmp_path / f"gbk{suffix}", f"gbk{suffix}")
    assert read_features(zpath).columns["name"] == NAMES


def test_gbk_geojson_falls_back_to_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "gbk.geojson"
    fc = {"type": "FeatureCollection", "features": [_feature(BOXES[0], name="东城区")]}
    path.write_bytes(json.dumps(fc, ensure_ascii=False).encode("gbk"))
    assert read_features(path).columns["name"] == ["东城区"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"nope\.geojson: file not found") as e:
        read_features(tmp_path / "nope.geojson")
    assert e.value.where["file"].endswith("nope.geojson")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
        ("table.csv", "code,name\n110188,东华区\n".encode()),
        ("empty.geojson", b""),
        ("broken.geojson", b'{"type": "FeatureCollection", "features": ['),
    ],
)
def test_not_a_gis_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError) as e:
        read_features(path)
    assert f"{name} is not a GeoJSON, Shapefile or GeoPackage file GDAL can read" in e.value.message
    assert e.value.code == "unreadable_file"


def test_geopackage_with_several_layers_needs_a_choice(tmp_path: Path) -> None:
    path = tmp_path / "city.gpkg"
    write_features(path, BOXES, {"name": NAMES}, layer="communities")
    raw.write(
        path,
        shapely.to_wkb(np.array([LineString([(116.4, 39.9), (116.5, 39.9)])], dtype=object)),
        [np.array(["长安街"], dtype=object)],
        ["name"],
        layer="roads",
        geometry_type="LineString",
        crs="EPSG:4326",
        append=True,
    )
    with pytest.raises(ValidationError, match="2 layers; choose one of: communities, roads"):
        read_features(path)
    assert read_features(path, layer="roads").columns["name"] == ["长安街"]
    with pytest.raises(ValidationError, match="no layer 'grids'"):
        read_features(path, layer="grids")


def test_projected_file_is_reprojected(tmp_path: Path) -> None:
    to_gk = Transformer.from_crs(4326, 4547, always_xy=True)
    projected = [
        shapely.transform(b, lambda xy: np.column_stack(to_gk.transform(*xy.T))) for b in BOXES
    ]
    path = tmp_path / "gk.shp"
    raw.write(
        path,
        shapely.to_wkb(np.array(projected, dtype=object)),
        [np.array(NAMES, dtype=object)],
        ["name"],
        geometry_type="Polygon",
        crs="EPSG:4547",
    )
    table = read_features(path)
    assert "EPSG:4547" in table.crs_note
    for got, want in zip(table.geoms, BOXES, strict=True):
        assert shapely.equals_exact(shapely.normalize(got), shapely.normalize(want), tolerance=1e-7)


def test_projected_coordinates_without_crs_are_refused(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "metres.geojson", [_feature(box(500000, 4400000, 500100, 4400100))])
    with pytest.raises(ValidationError, match="look projected") as e:
        read_features(path)
    assert e.value.where["feature"] == 1


@pytest.mark.parametrize(
    "geom",
    [
        box(39.90, 116.40, 39.91, 116.41),  # y > 90: only the swapped order fits
        box(39.90, 75.40, 39.91, 75.41),  # in range, but Chinese data with x and y swapped
    ],
)
def test_swapped_lat_lon_is_named(tmp_path: Path, geom) -> None:  # type: ignore[no-untyped-def]
    path = _geojson(tmp_path / "swapped.geojson", [_feature(geom, name="x")])
    with pytest.raises(ValidationError, match=r"lat/lon order\?"):
        read_features(path)


def test_helsinki_coordinates_are_not_mistaken_for_swapped(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "hki.geojson", [_feature(box(24.93, 60.16, 24.94, 60.17))])
    assert read_features(path).count == 1


def test_map_fields_uses_aliases_options_and_reports_missing(tmp_path: Path) -> None:
    path = _geojson(tmp_path / "a.geojson", [_feature(BOXES[0], 编码="110188", MC="东华区")])
    table = read_features(path)
    specs = [FieldSpec("code", ("编码",), "code", True), FieldSpec("name", ("mc",), "str", True)]
    assert map_fields(table, specs, {}) == {"code": "编码", "name": "MC"}
    with pytest.raises(ImportRejected) as e:
        map_fields(table, specs, {"name_field": "名称"})
    assert e.value.problems[0]["field"] == "name"
    assert "no column '名称'" in e.value.problems[0]["reason"]
    with pytest.raises(ValidationError, match="unknown options colour_field"):
        map_fields(table, specs, {"colour_field": "x"})


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (110188001001.0, "code", ("110188001001", None)),
        ("11018800100A", "code", ("11018800100A", None)),
        ("7", "int", (7, None)),
        (7.0, "int", (7, None)),
        ("seven", "int", (None, "expected a whole number, got 'seven'")),
        ("2.5", "float", (2.5, None)),
        ("  ", "str", (None, None)),
    ],
)
def test_convert(value, kind, expected) -> None:  # type: ignore[no-untyped-def]
    assert convert(value, FieldSpec("f", kind=kind)) == expected


def test_tick_reports_progress_up_to_total() -> None:
    calls: list[tuple[int, int]] = []
    tick = Tick(lambda d, t: calls.append((d, t)), 1000)
    for _ in range(1000):
        tick.advance()
    assert calls[0] == (0, 1000) and calls[-1] == (1000, 1000)
    assert len(calls) <= 202
