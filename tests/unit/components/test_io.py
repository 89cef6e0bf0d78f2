"""Component import from CSV and GeoJSON: geocoding, generated ids, all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridgov.components import service
from gridgov.components.io import import_components_file
from gridgov.components.models import Component, ComponentState, ComponentStateEvent
from gridgov.errors import ImportRejected


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_csv_import_generates_and_keeps_ids(district: Session, tmp_path: Path) -> None:
    path = tmp_path / "bj.csv"
    path.write_text(
        "部件编码,小类编码,名称,状态,经度,纬度,权属单位,初始日期\n"
        ",0101,上水井盖,完好,116.4005,39.9015,SW01,2020-05-01\n"
        "1101880101000007,0101,上水井盖,破损,116.4015,39.9015,SW01,\n"
        ",0101,上水井盖,,116.4035,39.9005,,\n"
        ",0102,污水井盖,lost,116.4045,39.9005,,\n",
        encoding="utf-8-sig",
    )
    summary = import_components_file(district, path, source="2024普查")
    assert (summary.features, summary.created) == (4, 4)
    rows = service.list_components(district)
    assert [(c.id, c.grid_code, c.state) for c in rows] == [
        ("1101880101000007", "11018800100102", ComponentState.DAMAGED),
        ("1101880101000008", "11018800100101", ComponentState.INTACT),
        ("1101880101000009", "11018800100204", ComponentState.INTACT),
        ("1101880102000001", "11018800200103", ComponentState.LOST),
    ]
    first = service.get_component(district, "1101880101000008")
    assert first.owner_dept_code == "SW01" and str(first.installed_on) == "2020-05-01"
    assert first.data_source == "2024普查"
    assert _count(district, ComponentStateEvent) == 4


def test_bad_rows_refuse_the_whole_file(district: Session, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "id,subclass,lon,lat,state\n"
        ",0101,116.4005,39.9015,\n"
        ",0101,116.3000,39.9015,\n"
        ",0999,116.4015,39.9015,\n"
        "1101880102000001,0101,116.4015,39.9015,\n"
        ",0101,abc,39.9,\n"
        ",0101,116.4005,39.9015,坏了\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as exc:
        import_components_file(district, path)
    got = [(p["feature"], p["kind"]) for p in exc.value.problems]
    assert sorted(got) == [
        (2, "outside_grids"),
        (3, "unknown_subclass"),
        (4, "bad_id"),
        (5, "bad_value"),
        (6, "bad_value"),
    ]
    outside = next(p for p in exc.value.problems if p["kind"] == "outside_grids")
    assert outside["message"] == "feature 2: geometry: outside every grid"
    assert _count(district, Component) == 0
    assert _count(district, ComponentStateEvent) == 0


def test_geojson_points(district: Session, tmp_path: Path) -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"小类": "0102", "名称": "污水井盖"},
                "geometry": {"type": "Point", "coordinates": [116.4005, 39.9015]},
            },
            {
                "type": "Feature",
                "properties": {"小类": "0102", "名称": "污水井盖"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[116.4005, 39.9015], [116.4006, 39.9016]],
                },
            },
        ],
    }
    path = tmp_path / "c.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ImportRejected) as exc:
        import_components_file(district, path)
    assert [(p["feature"], p["kind"]) for p in exc.value.problems] == [(2, "bad_geometry")]
    doc["features"] = doc["features"][:1]
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert import_components_file(district, path).created == 1
    assert [c.id for c in service.list_components(district)] == ["1101880102000001"]
