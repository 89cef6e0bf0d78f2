"""Fast GeoJSON FeatureCollection output: shapely writes the geometries, orjson the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import shapely
from shapely.geometry.base import BaseGeometry


def feature_collection(geoms: Sequence[BaseGeometry], props: Sequence[dict[str, Any]]) -> bytes:
    if not geoms:
        return b'{"type":"FeatureCollection","features":[]}'
    # 1e-7 degree ≈ 1 cm: finer digits are noise and only make the payload bigger.
    arr = shapely.set_precision(np.asarray(geoms, dtype=object), 1e-7, mode="pointwise")
    texts = shapely.to_geojson(arr)
    parts = [
        b'{"type":"Feature","geometry":' + t.encode() + b',"properties":' + orjson.dumps(p) + b"}"
        for t, p in zip(texts, props, strict=True)
    ]
    return b'{"type":"FeatureCollection","features":[' + b",".join(parts) + b"]}"
