"""Read roads and building footprints from an OpenStreetMap extract (XML or PBF).

A small reader for imports and tests: ways only (multipolygon relations are skipped), with node
locations resolved by osmium. Geometry stays in WGS84 lon/lat.
"""

from __future__ import annotations

from os import PathLike

import osmium
import shapely
from shapely.geometry import LineString, Polygon

Road = tuple[str | None, str, LineString]  # (name, highway class, centre line)


def read_osm(path: str | PathLike[str]) -> tuple[list[Road], list[Polygon]]:
    """Return ``(roads, buildings)`` from the OSM file at ``path``.

    ``roads`` are ways tagged ``highway`` as ``(name, highway_class, LineString)``; ``buildings``
    are closed ways tagged ``building`` as valid polygons (楼栋 footprints). Ways with missing
    nodes or degenerate geometry are skipped rather than raising: real extracts are clipped at
    their edges and always have some.
    """
    roads: list[Road] = []
    buildings: list[Polygon] = []
    # Nodes must be read for the location cache, even though only ways are kept.
    processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
    for obj in processor.with_locations():
        if not isinstance(obj, osmium.osm.Way):
            continue
        tags = obj.tags
        if "highway" in tags:
            line = _way_line(obj)
            if line is not None:
                roads.append((tags.get("name"), tags["highway"], line))
        elif "building" in tags and obj.is_closed():
            footprint = _way_polygon(obj)
            if footprint is not None:
                buildings.append(footprint)
    return roads, buildings


def _way_coords(way: osmium.osm.Way) -> list[tuple[float, float]] | None:
    """The way's lon/lat coordinates, or None if any node lies outside the extract."""
    coords = []
    for node in way.nodes:
        if not node.location.valid():
            return None
        coords.append((node.location.lon, node.location.lat))
    return coords


def _way_line(way: osmium.osm.Way) -> LineString | None:
    coords = _way_coords(way)
    if coords is None or len(set(coords)) < 2:
        return None
    return LineString(coords)


def _way_polygon(way: osmium.osm.Way) -> Polygon | None:
    coords = _way_coords(way)
    if coords is None or len(set(coords)) < 3:
        return None
    polygon = Polygon(coords)
    if not polygon.is_valid:
        # Self-touching outlines are common in OSM; keep the largest valid piece.
        parts = [
            g for g in shapely.get_parts(shapely.make_valid(polygon)) if g.geom_type == "Polygon"
        ]
        if not parts:
            return None
        polygon = max(parts, key=lambda g: g.area)
    return polygon if polygon.area > 0 else None
