"""WGS84 ↔ GCJ-02 ↔ BD-09 conversion of positions reported by Chinese map SDKs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridgov.geo.chinacrs import (
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)

M_PER_DEG = 111_320.0

# Reference pairs produced by an independent implementation of the public formulas, the PyPI
# package coordtransform 0.2.1 (wgs84_to_gcj02 / wgs84_to_bd09, Krasovsky a = 6378245 m).
# (WGS84 lon, lat) → (GCJ-02 lon, lat), (BD-09 lon, lat)
REFERENCE = [
    (
        (116.404, 39.915),  # Beijing, Tiananmen
        (116.41024449916938, 39.91640428150164),
        (116.41662724378733, 39.922699552216216),
    ),
    (
        (121.4737, 31.2304),  # Shanghai
        (121.47822305927693, 31.22845773757727),
        (121.484781468503, 31.234310593689997),
    ),
    (
        (113.2644, 23.1291),  # Guangzhou
        (113.26972959210308, 23.126423339922844),
        (113.27615075157122, 23.13271125723948),
    ),
]


def _metres(dlon: np.ndarray | float, dlat: np.ndarray | float, lat: float) -> float:
    """Largest ground distance in metres of the given degree differences."""
    dx = np.abs(dlon) * M_PER_DEG * math.cos(math.radians(lat))
    dy = np.abs(dlat) * M_PER_DEG
    return float(np.max(np.hypot(dx, dy)))


@pytest.mark.parametrize(("wgs", "gcj", "bd"), REFERENCE)
def test_forward_matches_reference_pairs(wgs, gcj, bd) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)
    assert from_wgs84(*wgs, "gcj02") == pytest.approx(gcj, abs=1e-9)
    assert from_wgs84(*wgs, "bd09") == pytest.approx(bd, abs=1e-9)
    assert gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj", "bd"), REFERENCE)
def test_inverse_recovers_wgs84_to_a_millimetre(wgs, gcj, bd) -> None:
    lat = wgs[1]
    lon, la = to_wgs84(*gcj, "gcj02")
    assert _metres(lon - wgs[0], la - wgs[1], lat) < 1e-3
    lon, la = to_wgs84(*bd, "bd09")
    assert _metres(lon - wgs[0], la - wgs[1], lat) < 1e-3
    assert bd09_to_gcj02(*bd) == pytest.approx(gcj, abs=1e-8)


def test_beijing_offset_is_the_familiar_few_hundred_metres() -> None:
    # GCJ-02 shifts central Beijing by roughly +0.006° lon and +0.001° lat (≈ 500-600 m).
    glon, glat = wgs84_to_gcj02(116.39, 39.91)
    assert 0.005 < glon - 116.39 < 0.007
    assert 0.0005 < glat - 39.91 < 0.002
    # Baidu adds about another +0.0065° lon, +0.006° lat on top.
    blon, blat = gcj02_to_bd09(glon, glat)
    assert 0.005 < blon - glon < 0.008
    assert 0.005 < blat - glat < 0.008


def test_round_trips_across_china_are_below_a_centimetre() -> None:
    rng = np.random.default_rng(2)
    lon = rng.uniform(74.0, 135.0, 5_000)
    lat = rng.uniform(18.0, 53.0, 5_000)
    for crs in ("gcj02", "bd09"):
        back_lon, back_lat = to_wgs84(*from_wgs84(lon, lat, crs), crs)
        assert _metres(back_lon - lon, back_lat - lat, 0.0) < 0.01, crs
        fwd_lon, fwd_lat = from_wgs84(*to_wgs84(lon, lat, crs), crs)
        assert _metres(fwd_lon - lon, fwd_lat - lat, 0.0) < 0.01, crs


def test_iterated_inverse_beats_the_one_step_inverse() -> None:
    # The crude inverse (subtract the offset computed at the GCJ-02 point) is off by metres;
    # ours must be orders of magnitude better.
    wgs = np.array([116.404]), np.array([39.915])
    glon, glat = wgs84_to_gcj02(*wgs)
    crude_lon = 2 * glon - wgs84_to_gcj02(glon, glat)[0]
    crude_lat = 2 * glat - wgs84_to_gcj02(glon, glat)[1]
    ours_lon, ours_lat = gcj02_to_wgs84(glon, glat)
    assert _metres(crude_lon - wgs[0], crude_lat - wgs[1], 40.0) > 0.1
    assert _metres(ours_lon - wgs[0], ours_lat - wgs[1], 40.0) < 1e-4


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(2.3522, 48.8566), (-74.006, 40.7128), (151.2093, -33.8688), (139.6917, 35.6895)],
)
def test_gcj02_is_wgs84_outside_china(lon, lat) -> None:
    # Paris, New York, Sydney, Tokyo: no offset is applied outside China's rough bounds.
    assert from_wgs84(lon, lat, "gcj02") == (lon, lat)
    assert to_wgs84(lon, lat, "gcj02") == (lon, lat)


def test_wgs84_is_identity() -> None:
    assert to_wgs84(116.4, 39.9, "wgs84") == (116.4, 39.9)
    assert from_wgs84(116.4, 39.9, "wgs84") == (116.4, 39.9)


def test_arrays_and_scalars_agree() -> None:
    lon = np.array([116.404, 121.4737, 2.3522, 113.2644])
    lat = np.array([39.915, 31.2304, 48.8566, 23.1291])
    for crs in ("gcj02", "bd09"):
        for fn in (from_wgs84, to_wgs84):
            alon, alat = fn(lon, lat, crs)
            assert isinstance(alon, np.ndarray) and alon.shape == lon.shape
            for i in range(len(lon)):
                slon, slat = fn(float(lon[i]), float(lat[i]), crs)
                assert isinstance(slon, float)
                assert (slon, slat) == pytest.approx((alon[i], alat[i]), abs=1e-9)


def test_scalar_broadcasts_against_array_and_nan_passes_through() -> None:
    lon, lat = from_wgs84(np.array([116.4, np.nan]), 39.9, "gcj02")
    assert lon.shape == lat.shape == (2,)
    assert math.isnan(lon[1])
    back_lon, _ = to_wgs84(lon, lat, "bd09")
    assert math.isnan(back_lon[1])


def test_unknown_crs_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84(116.4, 39.9, "cgcs2000")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown coordinate system"):
        from_wgs84(116.4, 39.9, "epsg:3857")  # type: ignore[arg-type]
