"""Projected coordinate systems for areas and distances.

Geometry is stored in WGS84 lon/lat (EPSG:4326). Areas and distances are computed in a local
projected CRS: CGCS2000 3-degree Gauss-Krüger (EPSG:4534–4554) inside China, UTM elsewhere.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = CRS.from_epsg(4326)

# China's rough extent: lon 73–136, lat 3–54. Outside it, UTM.
_CHINA = (73.0, 3.0, 136.0, 54.0)


def local_epsg(lon: float, lat: float) -> int:
    """EPSG code of the projected CRS used for measurements around (lon, lat)."""
    if _CHINA[0] <= lon <= _CHINA[2] and _CHINA[1] <= lat <= _CHINA[3]:
        cm = round(lon / 3.0) * 3  # 3-degree zone central meridian
        cm = min(max(cm, 75), 135)
        return 4534 + (cm - 75) // 3  # CGCS2000 / 3-degree Gauss-Kruger CM {cm}E
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + zone


@lru_cache(maxsize=64)
def _transformers(epsg: int) -> tuple[Transformer, Transformer]:
    proj = CRS.from_epsg(epsg)
    fwd = Transformer.from_crs(WGS84, proj, always_xy=True)
    inv = Transformer.from_crs(proj, WGS84, always_xy=True)
    return fwd, inv


class LocalProjection:
    """Forward/inverse projection for one area, vectorised over shapely arrays."""

    def __init__(self, epsg: int) -> None:
        self.epsg = epsg
        self._fwd, self._inv = _transformers(epsg)

    @classmethod
    def around(cls, geom: BaseGeometry | np.ndarray) -> LocalProjection:
        if isinstance(geom, np.ndarray):
            minx, miny, maxx, maxy = shapely.total_bounds(geom)
        else:
            minx, miny, maxx, maxy = geom.bounds
        return cls(local_epsg((minx + maxx) / 2, (miny + maxy) / 2))

    def project(self, geom):  # type: ignore[no-untyped-def]
        """WGS84 → metres. Accepts a geometry or an array of geometries."""
        return shapely.transform(geom, self._fwd_xy)

    def unproject(self, geom):  # type: ignore[no-untyped-def]
        """Metres → WGS84."""
        return shapely.transform(geom, self._inv_xy)

    def _fwd_xy(self, xy: np.ndarray) -> np.ndarray:
        x, y = self._fwd.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def _inv_xy(self, xy: np.ndarray) -> np.ndarray:
        x, y = self._inv.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])


def area_m2(geom: BaseGeometry | np.ndarray):  # type: ignore[no-untyped-def]
    """Area in m² of a WGS84 geometry (or array of geometries)."""
    return shapely.area(LocalProjection.around(geom).project(geom))


def length_m(geom: BaseGeometry | np.ndarray):  # type: ignore[no-untyped-def]
    return shapely.length(LocalProjection.around(geom).project(geom))
