"""网格划分: divide a stored community into coded unit grids and save them as a new version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from gridgov.codes.admin import Level
from gridgov.config import Settings
from gridgov.errors import ValidationError
from gridgov.geo.division import divide
from gridgov.geo.projection import area_m2
from gridgov.regions import service
from gridgov.regions.schemas import GridIn
from gridgov.registry.models import Building
from gridgov.roads.models import Road


@dataclass
class DivisionOutcome:
    community: str
    grids: list[GridIn]
    areas_m2: list[float]
    buildings: int
    lines: int
    saved_revision: int | None
    output: Path | None

    def summary(self) -> str:
        a = np.array(self.areas_m2)
        where = (
            f"saved as grid revision {self.saved_revision}"
            if self.saved_revision is not None
            else f"written to {self.output}"
        )
        return (
            f"community {self.community}: {len(self.grids)} unit grids "
            f"(area min {a.min():.0f} / median {np.median(a):.0f} / max {a.max():.0f} m²) "
            f"from {self.lines} lines and {self.buildings} buildings; {where}"
        )


def _in_area(session: Session, model: type, area: BaseGeometry) -> list[BaseGeometry]:
    minx, miny, maxx, maxy = area.bounds
    geoms = list(
        session.scalars(
            select(model.geom).where(  # type: ignore[attr-defined]
                model.minx <= maxx,
                model.maxx >= minx,  # type: ignore[attr-defined]
                model.miny <= maxy,
                model.maxy >= miny,  # type: ignore[attr-defined]
            )
        )
    )
    if not geoms:
        return []
    arr = np.asarray(geoms, dtype=object)
    return list(arr[shapely.intersects(arr, area)])


def _from_file(path: Path, kinds: tuple[str, ...]) -> list[BaseGeometry]:
    from gridgov.geo.files import read_features

    table = read_features(path)
    bad = [i + 1 for i, g in enumerate(table.geoms) if g is None or g.geom_type not in kinds]
    if bad:
        raise ValidationError(
            f"{path}: features {bad[:10]} are not {' / '.join(kinds)}", file=str(path)
        )
    return list(table.geoms)


def divide_community(
    session: Session,
    community_code: str,
    *,
    settings: Settings,
    lines_file: Path | None = None,
    buildings_file: Path | None = None,
    use_stored: bool = True,
    target_area_m2: float = 10_000.0,
    balance: float = 0.5,
    output: Path | None = None,
) -> DivisionOutcome:
    """Cut the community along lines into grids near ``target_area_m2``; never cut a building.

    The result goes through the same validation as an import and replaces the community's
    current grids as a new version, or is written to ``output`` for review.
    """
    region = service.get_region(session, community_code)
    if region.level is not Level.COMMUNITY:
        raise ValidationError(
            f"{community_code} is a {region.level}, not a community", field="community"
        )
    if not 100 <= target_area_m2 <= 1_000_000:
        raise ValidationError(
            "target area must be between 100 and 1,000,000 m²", field="target_area"
        )
    area = region.geom
    lines: list[BaseGeometry] = []
    buildings: list[BaseGeometry] = []
    if use_stored:
        lines += _in_area(session, Road, area)
        buildings += _in_area(session, Building, area)
    if lines_file:
        lines += _from_file(
            lines_file, ("LineString", "MultiLineString", "Polygon", "MultiPolygon")
        )
    if buildings_file:
        buildings += _from_file(buildings_file, ("Polygon", "MultiPolygon"))
    obstacles = [b for b in buildings if isinstance(b, Polygon)]
    polys = divide(
        area,
        lines,
        target_area_m2=target_area_m2,
        obstacles=obstacles,
        objects=buildings,
        balance=balance,
    )
    grids = [GridIn(geom=p, community_code=community_code) for p in polys]
    areas = [float(a) for a in area_m2(np.asarray(polys, dtype=object))]
    outcome = DivisionOutcome(
        community_code, grids, areas, len(buildings), len(lines), None, output
    )
    if output is not None:
        _write_preview(session, grids, settings, output)
        return outcome
    change = service.save_grids(
        session,
        grids,
        digits=settings.grid_seq_digits,
        source="divide",
        note=f"divided toward {target_area_m2:.0f} m², balance {balance}",
        tolerance_m2=settings.topology_tolerance_m2,
    )
    outcome.saved_revision = change.revision.id
    return outcome


def _write_preview(session: Session, grids: list[GridIn], settings: Settings, output: Path) -> None:
    """Code the grids in reading order (as saving would) and write them to a file."""
    from gridgov.codes.grid import format_grid_code
    from gridgov.geo.division import reading_order
    from gridgov.geo.files import write_features

    order = reading_order([g.geom for g in grids])  # type: ignore[misc]
    codes = [""] * len(grids)
    for seq, i in enumerate(order, 1):
        codes[i] = format_grid_code(grids[i].community_code, seq, settings.grid_seq_digits)  # type: ignore[arg-type]
    geoms = np.asarray([g.geom for g in grids], dtype=object)
    write_features(
        output, geoms, {"code": codes, "area_m2": [round(float(a), 1) for a in area_m2(geoms)]}
    )


__all__ = ["DivisionOutcome", "divide_community"]
