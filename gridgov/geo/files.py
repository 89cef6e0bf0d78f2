"""Read and write GIS files: GeoJSON, ESRI Shapefile (``.shp`` or a ``.zip`` of one), GeoPackage.

Everything read comes out in WGS84 lon/lat (EPSG:4326): files in another CRS are reprojected with
pyproj; files without a CRS are assumed to be lon/lat and refused when their coordinates look
projected or swapped. Shapefile text is decoded from the ``.cpg`` when there is one, else UTF-8
with a GB18030 (GBK) fallback, since Chinese shapefiles without a ``.cpg`` are common. Every
problem is a :class:`ValidationError` that names the file; feature numbers are 1-based.

"""

from __future__ import annotations

import math
import warnings
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyogrio
import shapely
from pyogrio import raw
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from gridgov.errors import ValidationError

FORMATS = {"GeoJSON": "GeoJSON", "ESRI Shapefile": "Shapefile", "GPKG": "GeoPackage"}
_WRITE_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "ESRI Shapefile"}
_WRITE_DRIVERS[".gpkg"] = "GPKG"
_SHP_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
_WGS84 = CRS.from_epsg(4326)
ProgressFn = Callable[[int, int], None]
BBox = tuple[float, float, float, float]
Mode = Literal["append", "replace"]
BATCH = 1000


@dataclass
class FeatureTable:
    """The features of one layer: shapely geometries (WGS84) and attribute columns."""

    geoms: np.ndarray
    columns: dict[str, list[Any]]
    crs_note: str
    encoding_used: str | None
    count: int
    file: str = ""
    driver: str = ""
    layer: str | None = None


# --------------------------------------------------------------------------- reading


def read_features(
    path: str | Path, *, layer: str | None = None, encoding: str | None = None
) -> FeatureTable:
    """Read every feature of a GeoJSON, Shapefile or GeoPackage layer into WGS84."""
    p = Path(path)
    if not p.exists():
        raise _file_error(p, f"{p.name}: file not found", "file_not_found")
    driver = _driver_of(p)
    layer = _choose_layer(p, layer)
    meta, wkb, data, used = _read_text_safely(p, layer, encoding, driver)
    geoms = shapely.from_wkb(wkb) if wkb is not None else np.full(len(data[0]), None)
    geoms = np.asarray(geoms, dtype=object)
    geoms, note = _to_wgs84(p, geoms, meta.get("crs"))
    check_lonlat(p, geoms, reprojected=note.startswith("reprojected"))
    columns = {str(name): _plain_list(col) for name, col in zip(meta["fields"], data, strict=True)}
    return FeatureTable(geoms, columns, note, used, len(geoms), str(p), driver, layer)


def _file_error(p: Path, message: str, code: str, **where: Any) -> ValidationError:
    return ValidationError(message, code=code, file=str(p), **where)


def _driver_of(p: Path) -> str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "more than one layer": _choose_layer says it better
            info = pyogrio.read_info(p)
    except (DataSourceError, DataLayerError, UnicodeDecodeError, ValueError) as e:
        raise _not_gis(p, str(e).split(";")[0]) from None
    driver = str(info["driver"])
    if driver not in FORMATS:
        raise _not_gis(p, f"GDAL reads it as {driver}")
    return driver


def _not_gis(p: Path, detail: str) -> ValidationError:
    return _file_error(
        p,
        f"{p.name} is not a GeoJSON, Shapefile or GeoPackage file GDAL can read ({detail})",
        "unreadable_file",
    )


def _choose_layer(p: Path, layer: str | None) -> str | None:
    names = [str(row[0]) for row in pyogrio.list_layers(p)]
    if layer is not None:
        if layer not in names:
            raise _file_error(
                p, f"{p.name} has no layer {layer!r}; layers: {', '.join(names)}", "unknown_layer"
            )
        return layer
    if len(names) > 1:
        raise _file_error(
            p,
            f"{p.name} has {len(names)} layers; choose one of: {', '.join(names)}",
            "choose_layer",
        )
    return names[0] if names else None


def _encodings_to_try(p: Path, encoding: str | None, driver: str) -> list[str | None]:
    """``None`` lets GDAL decide (the .cpg for shapefiles, UTF-8 for the others)."""
    if encoding:
        return [encoding]
    if driver == "ESRI Shapefile" and not _has_cpg(p):
        return ["UTF-8", "GB18030"]
    return [None, "GB18030"]


def _has_cpg(p: Path) -> bool:
    if p.suffix.lower() == ".zip":
        with zipfile.ZipFile(p) as z:
            return any(n.lower().endswith(".cpg") for n in z.namelist())
    if p.is_dir():
        return any(p.glob("*.cpg"))
    return any(p.with_suffix(s).exists() for s in (".cpg", ".CPG"))


def _cpg_text(p: Path) -> str | None:
    cpg = p.with_suffix(".cpg")
    if p.suffix.lower() == ".shp" and cpg.is_file():
        return cpg.read_text(errors="replace").strip() or None
    return None


def _read_text_safely(
    p: Path, layer: str | None, encoding: str | None, driver: str
) -> tuple[dict[str, Any], Any, list[Any], str | None]:
    tried: list[str] = []
    for enc in _encodings_to_try(p, encoding, driver):
        try:
            meta, _fids, wkb, data = raw.read(p, layer=layer, encoding=enc, force_2d=True)
        except (UnicodeDecodeError, LookupError):
            tried.append(enc or "UTF-8")
            continue
        except (DataSourceError, DataLayerError) as e:
            raise _not_gis(p, str(e).split(";")[0]) from None
        return meta, wkb, data, enc or _cpg_text(p) or meta.get("encoding")
    raise _file_error(
        p,
        f"{p.name}: the text fields are not valid {' or '.join(tried)}; "
        "give the file's encoding (e.g. encoding='GBK') or add a .cpg file",
        "bad_encoding",
    )


def _plain_list(col: np.ndarray) -> list[Any]:
    """Numpy values → Python values; NaN (a null number) → None."""
    out = col.tolist()
    return [None if isinstance(v, float) and math.isnan(v) else v for v in out]


def _to_wgs84(p: Path, geoms: np.ndarray, crs_text: str | None) -> tuple[np.ndarray, str]:
    if not crs_text:
        return geoms, "no CRS in the file; assumed WGS84 lon/lat"
    try:
        crs = CRS.from_user_input(crs_text)
    except CRSError:
        raise _file_error(
            p, f"{p.name}: the CRS in the file is not understood", "bad_crs"
        ) from None
    name = crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()}"
    if crs.equals(_WGS84, ignore_axis_order=True):
        return geoms, "WGS84 lon/lat"
    tr = Transformer.from_crs(crs, _WGS84, always_xy=True)

    def fwd(xy: np.ndarray) -> np.ndarray:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(geoms, fwd)
    if not np.isfinite(shapely.bounds(out[_present(out)])).all():
        raise _file_error(
            p, f"{p.name}: coordinates cannot be reprojected from {name} ({crs.name})", "bad_crs"
        )
    return out, f"reprojected from {name} ({crs.name}) to WGS84"


def _present(geoms: np.ndarray) -> np.ndarray:
    """Mask of geometries that exist and are not empty."""
    return ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def _feature_list(idx: np.ndarray) -> str:
    nums = [str(int(i) + 1) for i in idx[:5]]
    more = f" and {len(idx) - 5} more" if len(idx) > 5 else ""
    return ", ".join(nums) + more


def check_lonlat(path: str | Path, geoms: np.ndarray, *, reprojected: bool = False) -> None:
    """Refuse coordinates that are not lon/lat: projected metres or lat/lon order."""
    p = Path(path)
    idx = np.flatnonzero(_present(geoms))
    if not len(idx):
        return
    b = shapely.bounds(geoms[idx])
    minx, miny = b[:, 0].min(), b[:, 1].min()
    maxx, maxy = b[:, 2].max(), b[:, 3].max()
    out = (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    swapped_fits = -90 <= minx <= maxx <= 90 and -180 <= miny <= maxy <= 180
    china_swapped = 3 <= minx <= maxx <= 54 and 73 <= miny <= maxy <= 136
    if (out.any() and swapped_fits) or china_swapped:
        raise _file_error(
            p,
            f"{p.name}: lat/lon order? x runs {minx:.4f}…{maxx:.4f} and y {miny:.4f}…{maxy:.4f}: "
            "x looks like latitude and y like longitude; x must be the longitude "
            "(swap the coordinate columns)",
            "latlon_order",
        )
    if out.any():
        bad = idx[out]
        first = geoms[bad[0]].representative_point()
        why = (
            "the CRS declared in the file does not match them"
            if reprojected
            else "they look projected (metres) but the file has no CRS or says WGS84: "
            "declare the real CRS (a .prj file) or reproject to WGS84 lon/lat"
        )
        raise _file_error(
            p,
            f"{p.name}: features {_feature_list(bad)} have coordinates outside lon −180..180 / "
            f"lat −90..90 (e.g. {first.x:.1f}, {first.y:.1f}): {why}",
            "bad_coordinates",
            feature=int(bad[0]) + 1,
        )


# --------------------------------------------------------------------------- writing


def write_features(
    path: str | Path,
    geoms: Sequence[Any] | np.ndarray,
    columns: Mapping[str, Sequence[Any]],
    *,
    driver: str | None = None,
    layer: str | None = None,
    geometry_type: str | None = None,
) -> int:
    """Write WGS84 features as UTF-8 (a ``.cpg`` beside shapefiles); return the count.

    The format follows the extension (.geojson/.json, .shp, .gpkg) unless ``driver`` is given.
    An existing file is replaced. Shapefile field names are cut to 10 characters.
    """
    p = Path(path)
    driver = driver or _WRITE_DRIVERS.get(p.suffix.lower())
    if driver not in FORMATS:
        raise _file_error(
            p, f"{p.name}: write .geojson, .json, .shp or .gpkg files, not {p.suffix!r}", "format"
        )
    arr = np.asarray(list(geoms), dtype=object)
    names = list(columns)
    if driver == "ESRI Shapefile":
        names = _short_names(names)
    data, masks = zip(*(_column_array(list(columns[c])) for c in columns), strict=True) or ((), ())
    _remove_existing(p, driver)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        raw.write(
            p,
            shapely.to_wkb(arr) if len(arr) else np.array([], dtype=object),
            list(data),
            names,
            field_mask=list(masks),
            layer=layer or p.stem,
            driver=driver,
            geometry_type=geometry_type or _geometry_type(arr),
            crs="EPSG:4326",
            encoding="UTF-8",
            promote_to_multi=driver == "ESRI Shapefile" or None,
        )
    return len(arr)


def _short_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        short, n = name[:10], 1
        while short in out:
            short, n = f"{name[: 10 - len(str(n)) - 1]}_{n}", n + 1
        out.append(short)
    return out


def _column_array(values: list[Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """A typed array and a null mask (``None`` where there are no nulls)."""
    mask = np.array([v is None for v in values], dtype=bool)
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int | np.integer) for v in present):
        arr = np.array([0 if v is None else int(v) for v in values], dtype="int64")
        return arr, mask if mask.any() else None
    if present and all(isinstance(v, int | float | np.number) for v in present):
        return np.array(
            [math.nan if v is None else float(v) for v in values], dtype="float64"
        ), None
    text = [None if v is None else as_text(v) for v in values]
    return np.array(text, dtype=object), None


def as_text(v: Any) -> str:
    if isinstance(v, datetime | date):
        return v.isoformat()
    return str(v)


def _geometry_type(arr: np.ndarray) -> str:
    types = {g.geom_type for g in arr if g is not None}
    if len(types) == 1:
        return types.pop()
    bases = {t.removeprefix("Multi") for t in types}
    if len(bases) == 1:
        return "Multi" + bases.pop()
    return "Unknown"


def _remove_existing(p: Path, driver: str) -> None:
    if driver == "ESRI Shapefile":
        for suffix in _SHP_SIDECARS:
            p.with_suffix(suffix).unlink(missing_ok=True)
    else:
        p.unlink(missing_ok=True)


# --------------------------------------------------------------------------- field mapping
