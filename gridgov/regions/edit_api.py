"""HTTP API for editing unit grid polygons (网格编辑), admin only.

``PUT /api/grids/{code}`` redraws one grid; ``POST /api/grids/edit`` redraws several at once in
one revision (moving a vertex two neighbours share changes both, and only the pair together
still tiles the community). Both go through :func:`gridgov.regions.service.save_grids` with
``replace=False``: the edited grids become new versions (old cases keep the version they were
filed in), every other grid of the touched communities stays, and the resulting layout must
still tile each community — no overlap, no gap, nothing outside — or nothing is written and the
answer is a 422 (``grid_rejected``) listing every problem with its kind, the grid codes, the
area in m² and a point (lon, lat) inside it. ``expected_revision_id`` (the ``revision_id`` the
editor loaded) makes a concurrent edit a 409 instead of silently overwriting it.
"""

from __future__ import annotations

from typing import Annotated, Any

import shapely.geometry
from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gridgov.accounts.audit import record
from gridgov.accounts.models import Role, User
from gridgov.accounts.permissions import authorize
from gridgov.codes.grid import parse_grid_code
from gridgov.deps import CurrentUser, SessionDep, SettingsDep
from gridgov.errors import Conflict, ImportRejected, ValidationError
from gridgov.regions import service
from gridgov.regions.schemas import GridIn

router = APIRouter(tags=["regions"])

ADMIN = {Role.ADMIN}
#: More vertices than any hand-drawn grid has; a bigger body is a mistake or an attack.
MAX_VERTICES = 5000
#: Grids one edit may change together (a vertex is rarely shared by more than four).
MAX_GRIDS = 50
_STRICT = ConfigDict(extra="forbid")

GridCode = Annotated[str, Path(pattern=r"^\d{14,15}$", description="the grid's code")]


class GridGeometryEdit(BaseModel):
    """The new shape of one grid: a GeoJSON Polygon in WGS84 lon/lat."""

    model_config = _STRICT
    geometry: dict[str, Any] = Field(
        description='GeoJSON geometry, {"type": "Polygon", "coordinates": [[[lon, lat], …]]}'
    )
    name: str | None = Field(
        default=None, max_length=100, description="a new name; the current one when left out"
    )
    expected_revision_id: int | None = Field(
        default=None,
        ge=0,
        description="the revision_id the editor loaded; 409 when the grid changed since",
    )


class GridEditIn(GridGeometryEdit):
    """``PUT /grids/{code}``: one grid's new shape."""

    note: str = Field(default="", max_length=500, description="why (kept with the revision)")


class GridEditItem(GridGeometryEdit):
    code: str = Field(pattern=r"^\d{14,15}$")


class GridEditBatchIn(BaseModel):
    """``POST /grids/edit``: several grids' new shapes, saved together or not at all."""

    model_config = _STRICT
    grids: list[GridEditItem] = Field(min_length=1, max_length=MAX_GRIDS)
    note: str = Field(default="", max_length=500)


class EditedGrid(BaseModel):
    code: str
    name: str
    area_m2: float
    revision_id: int
    changed: bool


class GridEditResult(BaseModel):
    """What the edit stored: the new revision and each grid's current version."""

    revision_id: int
    changed: list[str]
    unchanged: list[str]
    grids: list[EditedGrid]


def _shape(geometry: dict[str, Any], code: str) -> BaseGeometry:
    """The geometry as shapely, or a 422 that says what is wrong with the GeoJSON."""
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise ValidationError(
            f"grid {code}: geometry must be a GeoJSON Polygon, got {kind!r}",
            field="geometry",
            grid=code,
        )
    try:
        geom = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise ValidationError(
            f"grid {code}: the geometry's coordinates are not a polygon ({exc})",
            field="geometry",
            grid=code,
        ) from None
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise ValidationError(
            f"grid {code}: more than {MAX_VERTICES} vertices", field="geometry", grid=code
        )
    return geom


def _apply(
    session: Session,
    user: User,
    items: list[GridEditItem],
    note: str,
    digits: int,
    tolerance_m2: float,
) -> GridEditResult:
    authorize(user, ADMIN, action="edit grid polygons")
    seen: set[str] = set()
    inputs: list[GridIn] = []
    for number, item in enumerate(items, start=1):
        if item.code in seen:
            raise ValidationError(f"grid {item.code} is given twice", field="grids", grid=item.code)
        seen.add(item.code)
        current = service.get_grid(session, item.code)
        if item.expected_revision_id is not None and item.expected_revision_id != (
            current.revision_id
        ):
            raise Conflict(
                f"grid {item.code} was changed by someone else (revision {current.revision_id}, "
                f"you loaded {item.expected_revision_id}); reload it and edit again",
                code="grid_changed",
                grid=item.code,
                revision_id=current.revision_id,
            )
        community = parse_grid_code(item.code, digits).community_code
        inputs.append(
            GridIn(
                geom=_shape(item.geometry, item.code),
                code=item.code,
                community_code=community,
                name=current.name if item.name is None else item.name.strip(),
                feature=number,
            )
        )
    try:
        change = service.save_grids(
            session,
            inputs,
            digits=digits,
            source="edit",
            note=note,
            author=user.username,
            replace=False,
            tolerance_m2=tolerance_m2,
        )
    except ImportRejected as exc:
        raise ImportRejected(exc.message, exc.problems, code="grid_rejected") from None
    rows = [service.get_grid(session, code) for code in sorted(seen)]
    result = GridEditResult(
        revision_id=change.revision.id,
        changed=sorted(change.added),
        unchanged=sorted(change.unchanged),
        grids=[
            EditedGrid(
                code=g.code,
                name=g.name,
                area_m2=round(g.area_m2, 1),
                revision_id=g.revision_id,
                changed=g.code in change.added,
            )
            for g in rows
        ],
    )
    record(
        session,
        user,
        "grid.edit",
        ("grid", ",".join(sorted(seen))),
        {"revision_id": result.revision_id, "changed": result.changed, "note": note},
    )
    return result


@router.put("/grids/{code}", response_model=GridEditResult)
def edit_grid(
    code: GridCode,
    body: GridEditIn,
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
) -> GridEditResult:
    """Redraw one unit grid (admin). The rest of its community stays as it is, so the new shape
    must fit exactly where the old one was: 422 ``grid_rejected`` lists each overlap, gap or
    part outside the community with the codes, the area and a point inside it."""
    item = GridEditItem(code=code, **body.model_dump(exclude={"note"}))
    return _apply(
        session,
        user,
        [item],
        body.note,
        settings.grid_seq_digits,
        settings.topology_tolerance_m2,
    )


@router.post("/grids/edit", response_model=GridEditResult)
def edit_grids(
    body: GridEditBatchIn, session: SessionDep, user: CurrentUser, settings: SettingsDep
) -> GridEditResult:
    """Redraw several unit grids in one revision (admin), e.g. the grids sharing a moved
    vertex: all are checked together and saved together, or none is."""
    return _apply(
        session,
        user,
        body.grids,
        body.note,
        settings.grid_seq_digits,
        settings.topology_tolerance_m2,
    )
