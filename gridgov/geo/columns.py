"""Mixin for tables with a geometry column and its bounding box (indexable on any backend)."""

from __future__ import annotations

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Float
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Geometry


class HasGeometry:
    geom: Mapped[BaseGeometry] = mapped_column(Geometry)
    minx: Mapped[float] = mapped_column(Float, index=True)
    miny: Mapped[float] = mapped_column(Float, index=True)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)

    def set_geometry(self, geom: BaseGeometry) -> None:
        self.geom = geom
        self.minx, self.miny, self.maxx, self.maxy = (float(v) for v in geom.bounds)
