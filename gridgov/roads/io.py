"""Import and export road centre lines as GIS files.

A road's class comes from a ``road_class`` column (our values or Chinese words) or from OSM
``highway`` / Geofabrik ``fclass`` values; anything unknown is ``other``. Roads are appended or
replace the whole layer; nothing is written unless every feature passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gridgov.config import Settings
from gridgov.geo.files import Mode, ProgressFn, read_features, write_features
from gridgov.geo.importing import (
    FieldSpec,
    ImportSummary,
    Problems,
    Tick,
    check_mode,
    layer_rows,
    map_fields,
    read_rows,
    store_layer,
)
from gridgov.regions.service import BBox, get_region
from gridgov.roads.models import Road, RoadClass

ROAD_FIELDS = (
    FieldSpec("name", ("名称", "道路名称", "路名", "mc"), "str", False, 100),
    FieldSpec("road_class", ("class", "等级", "道路等级", "道路类型", "fclass", "highway", "type")),
    FieldSpec("width_m", ("width", "宽度", "路宽", "kd"), "float"),
)
OSM_CLASSES = {
    RoadClass.MAIN: ("motorway", "trunk", "primary"),
    RoadClass.SECONDARY: ("secondary", "tertiary"),
    RoadClass.MINOR: ("residential", "service", "unclassified", "living_street"),
    RoadClass.PATH: ("footway", "path", "pedestrian", "cycleway"),
}
CHINESE_CLASSES = {
    RoadClass.MAIN: ("主干道", "主干路", "快速路", "高速公路"),
    RoadClass.SECONDARY: ("次干道", "次干路"),
    RoadClass.MINOR: ("支路", "胡同", "小区路", "街巷"),
    RoadClass.PATH: ("步行道", "人行道", "绿道", "自行车道"),
    RoadClass.OTHER: ("其他", "其它"),
}
_CLASS_OF = {
    word: cls
    for table in (OSM_CLASSES, CHINESE_CLASSES)
    for cls, words in table.items()
    for word in words
} | {cls.value: cls for cls in RoadClass}


def road_class_of(value: str | None) -> RoadClass:
    """Our class for a class word: ``main``, ``主干道``, OSM ``primary`` or ``primary_link``."""
    if not value:
        return RoadClass.OTHER
    word = value.strip().lower()
    return _CLASS_OF.get(word) or _CLASS_OF.get(word.removesuffix("_link"), RoadClass.OTHER)


def import_roads_file(
    session: Session,
    path: str | Path,
    *,
    settings: Settings,
    progress: ProgressFn | None = None,
    mode: Mode = "append",
    layer: str | None = None,
    encoding: str | None = None,
    source: str = "import",
    **field_options: str,
) -> ImportSummary:
    """Append road lines from a file, or replace every stored road (``mode="replace"``).

    Field options: ``name_field``, ``road_class_field``, ``width_m_field``. ``progress(done,
    total)`` counts features checked, then stored (total = 2 × features).
    """
    check_mode(mode)
    table = read_features(path, layer=layer, encoding=encoding)
    columns = map_fields(table, ROAD_FIELDS, field_options)
    tick = Tick(progress, 2 * table.count)
    problems = Problems(table.file)
    rows = read_rows(table, ROAD_FIELDS, columns, problems, tick)
    for i, geom in enumerate(table.geoms):
        why = _line_problem(geom)
        if why:
            problems.add("bad_geometry", why, feature=i + 1, field="geometry")
        width = rows[i]["width_m"]
        if width is not None and not 0 < width < 200:
            problems.add(
                "bad_value",
                f"width {width} m is not between 0 and 200",
                feature=i + 1,
                field=columns["width_m"],
            )
    problems.raise_if_any()
    records = [
        {
            "name": row["name"] or "",
            "road_class": road_class_of(row["road_class"]),
            "width_m": row["width_m"],
            "source": source,
        }
        for row in rows
    ]
    return store_layer(session, Road, "roads", table, records, mode, tick)


def _line_problem(geom: Any) -> str | None:
    if geom is None or geom.is_empty:
        return "geometry is empty"
    if geom.geom_type not in ("LineString", "MultiLineString"):
        return f"expected a LineString or MultiLineString, got {geom.geom_type}"
    if geom.length == 0:
        return "the line has zero length"
    return None


def export_roads_file(
    session: Session, path: str | Path, *, region_code: str | None = None, bbox: BBox | None = None
) -> int:
    """Write road lines with name, road_class and width_m; return the number written."""
    within = get_region(session, region_code).geom if region_code else None
    roads = layer_rows(session, Road, bbox=bbox, within=within)
    return write_features(
        path,
        [r.geom for r in roads],
        {
            "name": [r.name for r in roads],
            "road_class": [r.road_class.value for r in roads],
            "width_m": [r.width_m for r in roads],
        },
        geometry_type=None if roads else "LineString",
    )
