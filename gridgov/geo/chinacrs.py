"""Conversion between WGS84 and the Chinese map coordinate systems GCJ-02 and BD-09.

Phones using Chinese map SDKs report GCJ-02 (国测局坐标, "Mars coordinates": Amap/Gaode, Tencent)
or BD-09 (百度坐标: Baidu) positions; gridgov stores WGS84 (DESIGN §3.10) and converts on the way
in. GCJ-02 is WGS84 plus a deliberate, position-dependent offset of a few hundred metres, applied
only inside China; BD-09 is GCJ-02 plus Baidu's further shift and rotation.

The forward formulas are the widely published public ones. Their inverses have no closed form, so
they are solved by fixed-point iteration on the forward function to better than 1e-9 degree (about
0.1 mm), far tighter than the crude one-step inverse (errors of metres).

All functions take scalars or numpy arrays (broadcast together) and return the same kind.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

__all__ = ["Crs", "bd09_to_gcj02", "from_wgs84", "gcj02_to_bd09", "to_wgs84", "wgs84_to_gcj02"]

Crs = Literal["wgs84", "gcj02", "bd09"]

# Krasovsky 1940 ellipsoid, which the GCJ-02 formula is built on.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# Rough bounds of China used by the public implementations: outside them GCJ-02 equals WGS84.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271
_TOL = 1e-9  # degrees
_MAX_ITER = 30

ArrayLike = float | np.ndarray


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 at a WGS84 position, in degrees (zero outside China)."""
    x, y = lon - 105.0, lat - 35.0
    sx6, sx2 = np.sin(6.0 * x * np.pi), np.sin(2.0 * x * np.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * sx6 + 20.0 * sx2) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * sx6 + 20.0 * sx2) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The offset varies slowly with position (gradient about 1e-3), so each fixed-point step
    # w <- w - (f(w) - target) gains about three digits: four steps reach 1e-9 degree.
    wlon, wlat = lon, lat
    for _ in range(_MAX_ITER):
        glon, glat = _wgs_to_gcj(wlon, wlat)
        elon, elat = glon - lon, glat - lat
        wlon, wlat = wlon - elon, wlat - elat
        if _converged(elon, elat):
            break
    return wlon, wlat


def _converged(elon: np.ndarray, elat: np.ndarray) -> bool:
    # Written so that NaN input counts as converged instead of spinning to _MAX_ITER.
    return not (np.any(np.abs(elon) >= _TOL) or np.any(np.abs(elat) >= _TOL))


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Start from Baidu's published approximate inverse, then refine on the forward function.
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_MAX_ITER):
        blon, blat = _gcj_to_bd(glon, glat)
        elon, elat = blon - lon, blat - lat
        glon, glat = glon - elon, glat - elat
        if _converged(elon, elat):
            break
    return glon, glat


def _prepare(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x, y, x.ndim == 0


def _finish(x: np.ndarray, y: np.ndarray, scalar: bool) -> tuple[ArrayLike, ArrayLike]:
    if scalar:
        return float(x), float(y)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """WGS84 → GCJ-02 (unchanged outside China)."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_wgs_to_gcj(x, y), scalar)


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """GCJ-02 → WGS84, iterated to 1e-9 degree (unchanged outside China)."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_to_wgs(x, y), scalar)


@overload
def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """GCJ-02 → BD-09."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_gcj_to_bd(x, y), scalar)


@overload
def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[ArrayLike, ArrayLike]:
    """BD-09 → GCJ-02, iterated to 1e-9 degree."""
    x, y, scalar = _prepare(lon, lat)
    return _finish(*_bd_to_gcj(x, y), scalar)


@overload
def to_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]: ...
@overload
def to_wgs84(lon: np.ndarray, lat: np.ndarray, crs: Crs) -> tuple[np.ndarray, np.ndarray]: ...
def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: Crs) -> tuple[ArrayLike, ArrayLike]:
    """Convert a position given in ``crs`` to WGS84 lon/lat."""
    x, y, scalar = _prepare(lon, lat)
    if crs == "wgs84":
        pass
    elif crs == "gcj02":
        x, y = _gcj_to_wgs(x, y)
    elif crs == "bd09":
        x, y = _gcj_to_wgs(*_bd_to_gcj(x, y))
    else:
        raise ValueError(f"unknown coordinate system {crs!r}; expected wgs84, gcj02 or bd09")
    return _finish(x, y, scalar)


@overload
def from_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]: ...
@overload
def from_wgs84(lon: np.ndarray, lat: np.ndarray, crs: Crs) -> tuple[np.ndarray, np.ndarray]: ...
def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: Crs) -> tuple[ArrayLike, ArrayLike]:
    """Convert a WGS84 lon/lat position to ``crs``."""
    x, y, scalar = _prepare(lon, lat)
    if crs == "wgs84":
        pass
    elif crs == "gcj02":
        x, y = _wgs_to_gcj(x, y)
    elif crs == "bd09":
        x, y = _gcj_to_bd(*_wgs_to_gcj(x, y))
    else:
        raise ValueError(f"unknown coordinate system {crs!r}; expected wgs84, gcj02 or bd09")
    return _finish(x, y, scalar)
