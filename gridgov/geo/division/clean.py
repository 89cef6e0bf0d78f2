"""Step 4 of division: re-node pieces so shared edges match, unproject onto the lon/lat edge."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry import Polygon

from gridgov.geo.division.parts import polygons
from gridgov.geo.projection import LocalProjection


def renode(pieces: Sequence[Polygon], area_m: Polygon, grid: float) -> list[Polygon]:
    """Rebuild the pieces from one snap-rounded noding of all their edges.

    Cuts end on a neighbour's edge without a vertex there (a T-junction); after snapping to the
    precision grid such a vertex sits a few millimetres off the edge. Noding every edge together
    on the grid puts the vertex into both pieces, so shared edges match exactly.
    """
    arr = np.asarray(pieces, dtype=object)
    edges = shapely.union_all([*shapely.boundary(arr), area_m.boundary], grid_size=grid)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    reps = shapely.point_on_surface(faces)
    keep = shapely.contains(area_m, reps)
    faces, reps = faces[keep], reps[keep]

    tree = shapely.STRtree(arr)
    owner = np.full(len(faces), -1)
    face_idx, piece_idx = tree.query(reps, predicate="within")
    for f, p in sorted(zip(face_idx, piece_idx, strict=True), reverse=True):
        owner[f] = p  # reverse order: the lowest piece index wins an overlap
    orphans = np.flatnonzero(owner < 0)
    if len(orphans):
        # Gaps from snapping go to the nearest piece.
        f_idx, p_idx = tree.query_nearest(reps[orphans], all_matches=False)
        owner[orphans[f_idx]] = p_idx

    out: list[Polygon] = []
    for p in range(len(arr)):
        mine = faces[owner == p]
        if len(mine):
            # Coverage union: faces share noded edges exactly, and unlike a general overlay it
            # keeps the vertex where a neighbour's edge ends, so neighbours stay edge-matched.
            out.extend(polygons(shapely.coverage_union_all(mine)))
    return out


def unproject_onto(
    area: Polygon, pieces: Sequence[Polygon], proj: LocalProjection, tol: float
) -> np.ndarray:
    """Unproject ``pieces``, putting vertices on the community's edge back onto its lon/lat edges.

    An edge straight in lon/lat is slightly curved in metres, so vertices unprojected from the
    straight metric edge miss the community polygon by centimetres: square metres of "gap" and
    "outside" for a topology check run in lon/lat. Each vertex within ``tol`` of the projected
    edge is placed at the same fraction along the original lon/lat edge instead. The mapping
    depends on the coordinates alone, so neighbours sharing a vertex still share it.
    """
    rings = [area.exterior, *area.interiors] if area.geom_type == "Polygon" else []
    if not rings:
        return np.asarray(proj.unproject(np.asarray(pieces, dtype=object)))
    ll_a = np.vstack([np.asarray(r.coords)[:-1] for r in rings])
    ll_b = np.vstack([np.asarray(r.coords)[1:] for r in rings])
    m_a = shapely.get_coordinates(proj.project(shapely.points(ll_a)))
    m_b = shapely.get_coordinates(proj.project(shapely.points(ll_b)))
    edges = shapely.STRtree(shapely.linestrings(np.stack([m_a, m_b], axis=1)))

    corners = shapely.STRtree(shapely.points(m_a))

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lonlat = shapely.get_coordinates(proj.unproject(shapely.points(xy)))
        points = shapely.points(xy)
        # Along an edge: the same fraction of the lon/lat edge.
        vertex, edge = edges.query_nearest(points, max_distance=tol)
        vertex, first = np.unique(vertex, return_index=True)  # one edge per vertex
        edge = edge[first]
        d = m_b[edge] - m_a[edge]
        length2 = np.einsum("ij,ij->i", d, d)
        along = np.einsum("ij,ij->i", xy[vertex] - m_a[edge], d) / np.where(length2, length2, 1)
        t = np.clip(along, 0, 1)[:, None]
        lonlat[vertex] = ll_a[edge] + t * (ll_b[edge] - ll_a[edge])
        # At a corner: the corner itself (snapping moved it a few mm off both edges).
        vertex, corner = corners.query_nearest(points, max_distance=tol, all_matches=False)
        lonlat[vertex] = ll_a[corner]
        return lonlat

    return np.asarray(shapely.transform(np.asarray(pieces, dtype=object), to_lonlat))


def reattach_parts(geoms: Sequence[Polygon], precision: float = 1e-9) -> list[Polygon]:
    """One valid Polygon per grid without losing any area.

    Putting vertices back on the lon/lat edge can pinch a piece: a vertex a fraction of a
    millimetre inside the edge lands on it, and the ring touches itself. Repairing such a piece
    gives several parts; the largest stays the grid and each other part joins the neighbouring
    grid with which it shares the longest edge (overlay on a ``precision`` grid, in degrees).
    """
    grids: list[Polygon] = []
    detached: list[Polygon] = []
    for g in geoms:
        if g.geom_type == "Polygon" and g.is_valid:
            grids.append(g)
            continue
        parts = polygons(shapely.make_valid(g))
        grids.append(parts[0])
        detached.extend(parts[1:])
    if not detached:
        return grids
    tree = shapely.STRtree(np.asarray(grids, dtype=object))
    for part in detached:
        near = tree.query(part, predicate="intersects")
        shared = [
            shapely.length(
                shapely.intersection(grids[i].boundary, part.boundary, grid_size=precision)
            )
            for i in near
        ]
        if not shared or max(shared) == 0:
            if part.area > precision**2:  # below that it is numerical dust, not land
                grids.append(part)  # touches nobody along an edge: a grid of its own
            continue
        best = int(near[int(np.argmax(shared))])
        merged = polygons(shapely.union(grids[best], part, grid_size=precision))
        grids[best] = merged[0]
    return grids
