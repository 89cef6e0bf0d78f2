"""Small geometric building blocks for the demo generator, in local metres.

Everything here works in a plane with the district centre at (0, 0); :mod:`gridgov.demo.district`
moves the result to the real projected CRS and unprojects it once at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon

#: Coordinates are snapped to this grid (metres) so that shared edges are bit-identical.
GRID_SIZE = 0.01


@dataclass(frozen=True)
class Frame:
    """A rotated local frame: ``u`` along ``angle`` (radians from east), ``v`` across it."""

    cx: float
    cy: float
    angle: float

    def to_world(self, uv: np.ndarray) -> np.ndarray:
        """Map an array of (..., 2) local (u, v) coordinates to world (x, y)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        u, v = uv[..., 0], uv[..., 1]
        return np.stack([self.cx + c * u - s * v, self.cy + s * u + c * v], axis=-1)

    def to_local(self, geom):  # type: ignore[no-untyped-def]
        """A geometry (or array) expressed in this frame."""
        c, s = math.cos(self.angle), math.sin(self.angle)

        def fn(xy: np.ndarray) -> np.ndarray:
            dx, dy = xy[:, 0] - self.cx, xy[:, 1] - self.cy
            return np.column_stack([c * dx + s * dy, -s * dx + c * dy])

        return shapely.transform(geom, fn)


def block_frame(poly: Polygon, *, prefer_east_west: bool = False) -> tuple[Frame, float, float]:
    """The frame of ``poly``'s minimum rotated rectangle and its (length along u, width along v).

    ``u`` follows the long side, or with ``prefer_east_west`` the side closest to east–west (the
    direction of Beijing's hutongs).
    """
    rect = shapely.minimum_rotated_rectangle(poly)
    xy = np.asarray(rect.exterior.coords)[:4]
    e1, e2 = xy[1] - xy[0], xy[2] - xy[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    if prefer_east_west:
        a1, a2 = abs(e1[0]) / max(l1, 1e-9), abs(e2[0]) / max(l2, 1e-9)
        main, length, width = (e1, l1, l2) if a1 >= a2 else (e2, l2, l1)
    else:
        main, length, width = (e1, l1, l2) if l1 >= l2 else (e2, l2, l1)
    angle = math.atan2(main[1], main[0])
    # keep u pointing roughly east so "north" (+v) means north
    if math.cos(angle) < 0 or (abs(math.cos(angle)) < 1e-9 and math.sin(angle) < 0):
        angle += math.pi
    angle = (angle + math.pi) % (2 * math.pi) - math.pi
    centre = rect.centroid
    return Frame(centre.x, centre.y, angle), length, width


def wobbly_line(
    start: tuple[float, float],
    end: tuple[float, float],
    rng: np.random.Generator,
    *,
    amplitude: float,
    wavelength: float,
    step: float,
) -> LineString:
    """A line from ``start`` to ``end`` with a smooth sideways wobble (two random sine waves)."""
    (x0, y0), (x1, y1) = start, end
    length = math.hypot(x1 - x0, y1 - y0)
    n = max(2, math.ceil(length / step) + 1)
    t = np.linspace(0.0, 1.0, n)
    offset = np.zeros(n)
    for k, share in ((1.0, 0.7), (2.3, 0.3)):
        phase = rng.uniform(0, 2 * math.pi)
        offset += share * amplitude * np.sin(2 * math.pi * k * t * length / wavelength + phase)
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    xs = x0 + t * (x1 - x0) + offset * nx
    ys = y0 + t * (y1 - y0) + offset * ny
    return LineString(np.column_stack([xs, ys]))


def bezier(points: np.ndarray, n: int = 40) -> LineString:
    """A Bézier curve through control ``points`` (k, 2), sampled at ``n`` points."""
    k = len(points) - 1
    t = np.linspace(0.0, 1.0, n)
    weights = np.stack([math.comb(k, i) * t**i * (1 - t) ** (k - i) for i in range(k + 1)], 1)
    return LineString(weights @ np.asarray(points, dtype=float))


def rectangles(frame: Frame, boxes: np.ndarray, snap: float = 0.0) -> np.ndarray:
    """Polygons for local axis-aligned boxes (n, 4) = (u0, v0, u1, v1) placed in ``frame``.

    With ``snap``, coordinates are rounded to that grid (metres).
    """
    u0, v0, u1, v1 = boxes.T
    ring = np.stack(
        [
            np.column_stack([u0, v0]),
            np.column_stack([u1, v0]),
            np.column_stack([u1, v1]),
            np.column_stack([u0, v1]),
            np.column_stack([u0, v0]),
        ],
        axis=1,
    )
    xy = frame.to_world(ring)
    if snap:
        xy = np.round(xy / snap) * snap
    return shapely.polygons(xy)


def ell_shapes(frame: Frame, boxes: np.ndarray, wings: np.ndarray) -> np.ndarray:
    """L-shaped polygons: each box unioned with a wing box (both (n, 4) local)."""
    a = rectangles(frame, boxes)
    b = rectangles(frame, wings)
    return shapely.union(a, b, grid_size=GRID_SIZE)
