"""城市部件 of the demo: about 100 components at random points in every unit grid.

Subclasses are weighted by major class (public utilities are the most common, as in a real
inventory), states mostly 完好 with a few broken, lost, occupied or abandoned; the owner
department (权属单位) comes from the responsibility matrix. Deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

#: Components per unit grid in the demo (DESIGN §3.2: the inventory of every public object).
PER_GRID = 100
MAJOR_WEIGHTS = {"01": 40, "02": 25, "03": 14, "04": 12, "05": 5, "06": 3, "07": 1}
STATE_WEIGHTS = {"intact": 92.0, "damaged": 4.5, "lost": 1.0, "occupied": 1.5, "abandoned": 1.0}
INSERT_BATCH = 5000


def generate_components(
    session: Session, per_grid: int = 100, seed: int = 1, grid_codes: Sequence[str] | None = None
) -> int:
    """Put ``per_grid`` components at random points inside every current unit grid (or those
    of ``grid_codes``); returns how many were inserted.

    Subclasses follow :data:`MAJOR_WEIGHTS` (uniform inside a major class), states
    :data:`STATE_WEIGHTS`; ids are ``district + subclass + next serial`` in grid order, the owner
    department (权属单位) is the responsibility matrix's owner rule for the subclass, and each
    component gets its first state-history row, as an import does. Deterministic for a seed.
    """
    from gridgov.components.models import Component, ComponentState, ComponentStateEvent
    from gridgov.components.service import max_serial
    from gridgov.db import utcnow
    from gridgov.departments.models import ResponsibilityRule
    from gridgov.regions.models import UnitGrid
    from gridgov.regions.service import current_grid_filter
    from gridgov.taxonomy.models import Kind, Subclass

    rng = np.random.default_rng(seed)
    subclasses = list(
        session.execute(
            select(Subclass.code, Subclass.name)
            .where(Subclass.kind == Kind.COMPONENT, Subclass.is_active)
            .order_by(Subclass.code)
        ).all()
    )
    if not subclasses:
        raise RuntimeError("no component subclasses: load the taxonomy first")
    weights = np.array(
        [
            MAJOR_WEIGHTS.get(code[:2], 1) / sum(1 for c, _ in subclasses if c[:2] == code[:2])
            for code, _ in subclasses
        ]
    )
    weights /= weights.sum()
    owners: dict[str, str] = {}
    for code, dept in session.execute(
        select(ResponsibilityRule.subclass_code, ResponsibilityRule.department_code)
        .where(
            ResponsibilityRule.kind == Kind.COMPONENT,
            ResponsibilityRule.basis == "owner",
            ResponsibilityRule.department_code.is_not(None),
        )
        .order_by(ResponsibilityRule.priority.desc())
    ):
        owners[code] = dept  # the smallest priority number is written last and wins
    states = list(STATE_WEIGHTS)
    state_p = np.array(list(STATE_WEIGHTS.values()))
    state_p /= state_p.sum()

    stmt = current_grid_filter(select(UnitGrid.code, UnitGrid.geom)).order_by(UnitGrid.code)
    if grid_codes is not None:
        stmt = stmt.where(UnitGrid.code.in_(list(grid_codes)))
    grids = list(session.execute(stmt).all())
    serials: dict[str, int] = {}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    inserted = 0

    def flush() -> None:
        nonlocal inserted
        if rows:
            session.execute(insert(Component), rows)
            session.execute(insert(ComponentStateEvent), events)
            inserted += len(rows)
            rows.clear()
            events.clear()

    for code, geom in grids:
        xs, ys = _points_in(geom, per_grid, rng)
        picks = rng.choice(len(subclasses), size=per_grid, p=weights)
        picked_states = rng.choice(len(states), size=per_grid, p=state_p)
        for x, y, k, s in zip(xs, ys, picks.tolist(), picked_states.tolist(), strict=True):
            sub, name = subclasses[k]
            prefix = code[:6] + sub
            if prefix not in serials:
                serials[prefix] = max_serial(session, prefix)
            serials[prefix] += 1
            cid = f"{prefix}{serials[prefix]:06d}"
            owner = owners.get(sub) or owners.get(sub[:2])
            state = ComponentState(states[s])
            rows.append(
                {
                    "id": cid,
                    "subclass_code": sub,
                    "name": name,
                    "grid_code": code,
                    "state": state,
                    "owner_dept_code": owner,
                    "maintainer_dept_code": owner,
                    "data_source": "demo",
                    "created_at": now,
                    "geom": shapely.Point(x, y),
                    "minx": x,
                    "miny": y,
                    "maxx": x,
                    "maxy": y,
                }
            )
            events.append(
                {
                    "component_id": cid,
                    "at": now,
                    "from_state": None,
                    "to_state": state,
                    "note": "demo inventory",
                }
            )
        if len(rows) >= INSERT_BATCH:
            flush()
    flush()
    return inserted


def _points_in(geom: Any, n: int, rng: np.random.Generator) -> tuple[list[float], list[float]]:
    """``n`` uniformly random points inside a polygon (rejection sampling in its bbox)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    xs: list[float] = []
    ys: list[float] = []
    while len(xs) < n:
        want = max(16, 2 * (n - len(xs)))
        cx = rng.uniform(minx, maxx, want)
        cy = rng.uniform(miny, maxy, want)
        inside = shapely.contains_xy(geom, cx, cy)
        xs.extend(cx[inside].tolist())
        ys.extend(cy[inside].tolist())
    return [round(v, 7) for v in xs[:n]], [round(v, 7) for v in ys[:n]]
