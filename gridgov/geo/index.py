"""In-memory point → unit grid (单元网格) index.

The index is a cache of the grid table (DESIGN §4.2): built from WGS84 polygons and their ids,
it answers "which grid holds this point" for one point or a million at a time.

How it works: a uniform raster of small cells (about 5 m) covers the polygons' extent. Every cell
that any polygon boundary touches is marked *boundary*; the remaining cells form connected regions
that no boundary crosses, so each region lies inside exactly one polygon (or outside all of them)
and one exact test per region labels it. A lookup reads its cell: an interior cell gives the answer
directly, a boundary cell keeps the short list of polygons whose boundary touched it and the point
is tested exactly against those (prepared geometries, vectorised with ``shapely.intersects_xy``).

Boundary cells are marked conservatively (boundaries are densified to at most one cell per segment
and every cell a segment's padded bounding box touches is marked), so a cell reported as interior
is never crossed by an edge. A point in a boundary cell that none of its candidates holds (outside
every grid, or in the rare cell marked only by a neighbour's segment box) is settled by an STRtree.

A point on an edge shared by two grids resolves to the grid that comes first in the input, the
same way for single and batch lookups: the answer is always the lowest input position among the
grids whose closed area holds the point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from scipy import ndimage
from shapely import Polygon, STRtree

__all__ = ["GridIndex"]

_METRES_PER_DEG_LAT = 111_320.0
_DEFAULT_CELL_M = 5.0
# Cap on raster cells (int32 each): 32M cells = 128 MB. Larger extents get coarser cells, which
# only means more boundary cells and more exact tests, never wrong answers.
_MAX_CELLS = 32_000_000
# Padding of a segment's bounding box, in cells, so float rounding of the cell arithmetic can
# never put a point on an edge into a cell that was not marked.
_PAD = 1e-6
# Raster values: >= 0 polygon position; OUTSIDE; <= _BOUNDARY0 boundary cell number b as
# _BOUNDARY0 - b.
_OUTSIDE = -1
_BOUNDARY0 = -2
# Polygons per chunk when collecting boundary cells.
_BUILD_CHUNK = 4_096


class GridIndex:
    """Point-in-polygon index over non-overlapping grid polygons in WGS84 lon/lat.

    Args:
        polygons: grid polygons (MultiPolygons are accepted; empty or missing ones are ignored).
        ids: the grid id returned for each polygon, same length as ``polygons``.
        cell_deg: raster cell height in degrees of latitude; the width is scaled by
            1/cos(latitude) so cells are roughly square on the ground. Default: about 5 m,
            coarser if the extent would need more than 32 million cells.
    """

    def __init__(
        self,
        polygons: Sequence[Polygon] | np.ndarray,
        ids: Sequence[int] | np.ndarray,
        *,
        cell_deg: float | None = None,
    ) -> None:
        geoms = np.asarray(polygons, dtype=object)
        if geoms.ndim != 1:
            geoms = geoms.reshape(-1)
        gid = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(gid) != len(geoms):
            raise ValueError(f"{len(geoms)} polygons but {len(gid)} ids")
        keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else []
        pos = np.flatnonzero(keep)
        # Positions below refer to the kept polygons, which keep their input order.
        self._geoms = geoms[pos] if len(pos) else np.empty(0, dtype=object)
        self._gid = gid[pos]
        shapely.prepare(self._geoms)
        self._tree = STRtree(self._geoms)
        self._build(cell_deg)

    @classmethod
    def from_wkb(
        cls,
        wkb: Sequence[bytes] | np.ndarray,
        ids: Sequence[int] | np.ndarray,
        *,
        cell_deg: float | None = None,
    ) -> GridIndex:
        """Build from WKB blobs, the form in which the grid table stores geometry."""
        geoms = shapely.from_wkb(np.asarray(wkb, dtype=object))
        return cls(geoms, ids, cell_deg=cell_deg)

    # ----------------------------------------------------------------------------------- build

    def _build(self, cell_deg: float | None) -> None:
        n = len(self._geoms)
        if n == 0:
            self._raster = np.full((1, 1), _OUTSIDE, dtype=np.int32)
            self._x0 = self._y0 = 0.0
            self._inv_dx = self._inv_dy = 0.0  # every point maps to cell (0, 0): outside
            self._nx = self._ny = 0
            self._indptr = np.zeros(1, dtype=np.int32)
            self._cand = np.zeros(0, dtype=np.int32)
            return

        minx, miny, maxx, maxy = shapely.total_bounds(self._geoms)
        coslat = max(math.cos(math.radians((miny + maxy) / 2)), 0.01)
        dy = cell_deg if cell_deg else _DEFAULT_CELL_M / _METRES_PER_DEG_LAT
        dx = dy / coslat
        ncells = ((maxx - minx) / dx + 5) * ((maxy - miny) / dy + 5)
        if ncells > _MAX_CELLS:
            grow = math.sqrt(ncells / _MAX_CELLS) * 1.01
            dx, dy = dx * grow, dy * grow
        # Two spare cells on each side: every polygon lies strictly inside the raster and the
        # corner cell (0, 0) is never a boundary cell, so it always labels the outside region.
        self._x0, self._y0 = minx - 2 * dx, miny - 2 * dy
        self._nx = math.floor((maxx - self._x0) / dx) + 3
        self._ny = math.floor((maxy - self._y0) / dy) + 3
        self._inv_dx, self._inv_dy = 1.0 / dx, 1.0 / dy

        key = self._boundary_keys(min(dx, dy))
        self._cand = (key % n).astype(np.int32)  # candidates, grouped by cell, in input order
        key //= n  # now the cell number; free each temporary early to keep the peak low
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        bcells = key[first].astype(np.int32)
        self._indptr = np.r_[first, len(key)].astype(np.int32)
        del key, first

        raster = np.ones(self._ny * self._nx, dtype=bool)
        raster[bcells] = False
        labels, nlab = ndimage.label(raster.reshape(self._ny, self._nx))
        del raster
        labels = labels.astype(np.int32, copy=False)
        lut = self._label_owners(labels, nlab)
        # Translate labels to polygon positions in place, in row blocks to bound the temporaries.
        step = max(1, 4_000_000 // self._nx)
        for r in range(0, self._ny, step):
            labels[r : r + step] = lut[labels[r : r + step]]
        flat = labels.reshape(-1)
        flat[bcells] = _BOUNDARY0 - np.arange(len(bcells), dtype=np.int32)
        self._raster = labels

    def _boundary_keys(self, max_seg: float) -> np.ndarray:
        """Sorted unique keys ``cell * npolygons + polygon`` of every cell a boundary may touch.

        Works through the polygons in chunks so the temporaries stay small (tens of MB).
        """
        n = len(self._geoms)
        chunks = [
            self._chunk_keys(lo, min(lo + _BUILD_CHUNK, n), max_seg)
            for lo in range(0, n, _BUILD_CHUNK)
        ]
        key = np.concatenate(chunks)
        del chunks
        # The chunks are sorted runs, which the stable sort (timsort) merges cheaply;
        # np.unique would take its much slower hash path here.
        key.sort(kind="stable")
        return key[np.r_[True, key[1:] != key[:-1]]]

    def _chunk_keys(self, lo: int, hi: int, max_seg: float) -> np.ndarray:
        """Unique boundary keys of polygons ``lo:hi``."""
        parts, part_of = shapely.get_parts(self._geoms[lo:hi], return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        # Slightly shorter than a cell so a segment's box spans at most two cells per axis.
        rings = shapely.segmentize(rings, max_seg * 0.99)
        xy, vert_ring = shapely.get_coordinates(rings, return_index=True)
        same = vert_ring[1:] == vert_ring[:-1]  # consecutive vertices of one ring = a segment
        owner = part_of[ring_of[vert_ring[:-1][same]]].astype(np.int64) + lo
        fx = (xy[:, 0] - self._x0) * self._inv_dx
        fy = (xy[:, 1] - self._y0) * self._inv_dy
        ax, bx = fx[:-1][same], fx[1:][same]
        ay, by = fy[:-1][same], fy[1:][same]
        i0 = np.floor(np.minimum(ax, bx) - _PAD).astype(np.int64)
        j0 = np.floor(np.minimum(ay, by) - _PAD).astype(np.int64)
        wide_x = np.floor(np.maximum(ax, bx) + _PAD).astype(np.int64) - i0
        wide_y = np.floor(np.maximum(ay, by) + _PAD).astype(np.int64) - j0
        nx, n = self._nx, len(self._geoms)
        base = (j0 * nx + i0) * n + owner
        # Segments shorter than a cell span at most two cells per axis, except when the padding
        # straddles a cell line; those rare segments take the general path below.
        wx, wy = wide_x == 1, wide_y == 1
        both = wx & wy
        keys = [base, base[wx] + n, base[wy] + nx * n, base[both] + (nx + 1) * n]
        for s in np.flatnonzero((wide_x > 1) | (wide_y > 1)):
            jj, ii = np.mgrid[j0[s] : j0[s] + wide_y[s] + 1, i0[s] : i0[s] + wide_x[s] + 1]
            keys.append((jj * nx + ii).ravel() * n + owner[s])
        key = np.concatenate(keys)
        key.sort()
        return key[np.r_[True, key[1:] != key[:-1]]]

    def _label_owners(self, labels: np.ndarray, nlab: int) -> np.ndarray:
        """Polygon position (or OUTSIDE) of each label 0..nlab, to translate the label raster.

        Label 0 (boundary cells, overwritten afterwards) maps to OUTSIDE.
        """
        unset = np.iinfo(np.int32).max
        owner = np.full(nlab + 1, unset, dtype=np.int32)
        owner[0] = _OUTSIDE
        owner[labels[0, 0]] = _OUTSIDE
        # Most regions are the body of one grid: a point inside the grid that falls in an interior
        # cell names the region without a geometric query. Reverse order so that the first grid
        # wins should input grids overlap.
        px, py = shapely.get_coordinates(shapely.point_on_surface(self._geoms)).T
        ix = np.floor((px - self._x0) * self._inv_dx).astype(np.intp)
        iy = np.floor((py - self._y0) * self._inv_dy).astype(np.intp)
        lab = labels[iy, ix]
        hit = np.flatnonzero(lab > 0)[::-1]
        owner[lab[hit]] = hit.astype(np.int32)
        todo = np.flatnonzero(owner == unset)
        if len(todo):
            owner[todo] = self._query_regions(labels, todo)
        return owner

    def _query_regions(self, labels: np.ndarray, todo: np.ndarray) -> np.ndarray:
        """Owner of the regions ``todo`` (outside pockets, stray pieces of grids) via the tree."""
        objects = ndimage.find_objects(labels, max_label=int(todo.max()))
        # One cell per region: the bounding box's first row always holds a cell of the region.
        rows = np.empty(len(todo), dtype=np.int64)
        cols = np.empty(len(todo), dtype=np.int64)
        for k, lab in enumerate(todo.tolist()):
            sl = objects[lab - 1]
            rows[k] = sl[0].start
            cols[k] = sl[1].start + int(np.argmax(labels[sl[0].start, sl[1]] == lab))
        # Cell centres are strictly inside their polygon: no boundary touches these cells.
        cx = self._x0 + (cols + 0.5) / self._inv_dx
        cy = self._y0 + (rows + 0.5) / self._inv_dy
        qi, gi = self._tree.query(shapely.points(cx, cy), predicate="intersects")
        unset = np.iinfo(np.int32).max
        owner = np.full(len(todo), unset, dtype=np.int32)
        np.minimum.at(owner, qi, gi.astype(np.int32))
        owner[owner == unset] = _OUTSIDE
        return owner

    # ---------------------------------------------------------------------------------- lookup

    def lookup(self, lon: float, lat: float) -> int | None:
        """Id of the grid containing (lon, lat), or None when no grid holds it."""
        fx = (lon - self._x0) * self._inv_dx
        fy = (lat - self._y0) * self._inv_dy
        # NaN fails both comparisons and lands here too.
        if not (0.0 <= fx < self._nx and 0.0 <= fy < self._ny):
            return None
        v = int(self._raster[int(fy), int(fx)])
        if v >= 0:
            return int(self._gid[v])
        if v == _OUTSIDE:
            return None
        b = _BOUNDARY0 - v
        geoms = self._geoms
        for c in self._cand[self._indptr[b] : self._indptr[b + 1]]:
            if shapely.intersects_xy(geoms[c], lon, lat):
                return int(self._gid[c])
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        return int(self._gid[hits.min()]) if len(hits) else None

    def lookup_many(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Grid ids (int64) of many points; -1 where no grid holds the point (or it is NaN)."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        if x.shape != y.shape:
            raise ValueError(f"lon and lat differ in shape: {x.shape} and {y.shape}")
        shape = x.shape
        x, y = x.reshape(-1), y.reshape(-1)
        out = np.full(len(x), -1, dtype=np.int64)
        fx = (x - self._x0) * self._inv_dx
        fy = (y - self._y0) * self._inv_dy
        inside = (fx >= 0) & (fx < self._nx) & (fy >= 0) & (fy < self._ny)
        sel = np.flatnonzero(inside)
        if len(sel) == 0:
            return out.reshape(shape)
        v = self._raster[fy[sel].astype(np.intp), fx[sel].astype(np.intp)]
        interior = v >= 0
        out[sel[interior]] = self._gid[v[interior]]
        edge = v <= _BOUNDARY0
        if edge.any():
            sel, b = sel[edge], _BOUNDARY0 - v[edge]
            # One thread on purpose: GEOS prepared geometries are not safe to share between
            # threads (libgeos/geos#825; a 2-thread split corrupted the heap here), and one
            # thread already passes millions of points per second.
            pos = self._exact(x[sel], y[sel], b)
            self._fallback(x[sel], y[sel], pos)
            hit = pos >= 0
            out[sel[hit]] = self._gid[pos[hit]]
        return out.reshape(shape)

    def _exact(self, x: np.ndarray, y: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Polygon position (or -1) for points lying in boundary cells ``b``.

        Round k tests every still-unresolved point against its cell's k-th candidate, so the
        first candidate (lowest position) that holds the point wins, exactly as in :meth:`lookup`.
        """
        res = np.full(len(x), -1, dtype=np.int64)
        start = self._indptr[b].astype(np.int64)
        count = self._indptr[b + 1] - start
        todo = np.arange(len(x))
        k = 0
        while len(todo):
            todo = todo[count[todo] > k]
            if not len(todo):
                break
            cand = self._cand[start[todo] + k]
            hit = shapely.intersects_xy(self._geoms[cand], x[todo], y[todo])
            res[todo[hit]] = cand[hit]
            todo = todo[~hit]
            k += 1
        return res

    def _fallback(self, x: np.ndarray, y: np.ndarray, res: np.ndarray) -> None:
        """Fill the unresolved entries (-1) of ``res`` in place from the STRtree.

        No candidate held these points: they are outside every grid, or (rarely) their cell was
        marked only by a neighbour's segment box and lies wholly inside a grid whose boundary
        misses it. The tree settles both exactly; as elsewhere the lowest position wins.
        """
        left = np.flatnonzero(res < 0)
        if len(left):
            qi, gi = self._tree.query(shapely.points(x[left], y[left]), predicate="intersects")
            if len(qi):
                best = np.full(len(left), np.iinfo(np.int64).max, dtype=np.int64)
                np.minimum.at(best, qi, gi)
                found = best < np.iinfo(np.int64).max
                res[left[found]] = best[found]

    # ---------------------------------------------------------------------------------- sizing

    def __len__(self) -> int:
        return len(self._geoms)

    @property
    def raster_shape(self) -> tuple[int, int]:
        """(rows, columns) of the cell raster."""
        return (int(self._raster.shape[0]), int(self._raster.shape[1]))

    @property
    def boundary_cells(self) -> int:
        """Number of raster cells that need an exact test."""
        return len(self._indptr) - 1

    @property
    def array_nbytes(self) -> int:
        """Bytes held in numpy arrays (exact)."""
        return (
            self._raster.nbytes
            + self._indptr.nbytes
            + self._cand.nbytes
            + self._gid.nbytes
            + self._geoms.nbytes
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the index: its arrays plus an estimate for the GEOS geometries.

        Geometries are estimated at 16 bytes per coordinate, plus about 2.5 times that once the
        prepared point locators are built, plus fixed overheads and an STRtree entry each.
        """
        ncoords = int(shapely.get_num_coordinates(self._geoms).sum()) if len(self._geoms) else 0
        geometry = int(ncoords * 16 * 3.5) + len(self._geoms) * (200 + 64)
        return self.array_nbytes + geometry
