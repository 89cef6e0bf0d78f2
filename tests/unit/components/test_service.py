"""Component service: id generation, validation, state history, nearby search, lists."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from gridgov.components import service
from gridgov.components.models import ComponentState
from gridgov.errors import Conflict, NotFound, ValidationError

LON, LAT = 116.4005, 39.9015  # inside grid 11018800100101
M_LON = 1 / (111_320 * 0.76709)  # degrees of longitude per metre at 39.9°N


def test_ids_are_generated_per_district_and_subclass(district: Session) -> None:
    a = service.create_component(district, subclass_code="0101", lon=LON, lat=LAT, name="上水井盖")
    b = service.create_component(district, subclass_code="0101", lon=LON, lat=LAT)
    c = service.create_component(district, subclass_code="0102", lon=LON, lat=LAT)
    assert (a.id, b.id, c.id) == ("1101880101000001", "1101880101000002", "1101880102000001")
    assert a.grid_code == "11018800100101"
    assert a.state is ComponentState.INTACT and a.state_label == "完好"
    assert (a.lon, a.lat) == (LON, LAT)


def test_given_id_is_validated(district: Session) -> None:
    made = service.create_component(
        district, subclass_code="0101", lon=LON, lat=LAT, component_id="1101880101000042"
    )
    assert made.id == "1101880101000042"
    nxt = service.create_component(district, subclass_code="0101", lon=LON, lat=LAT)
    assert nxt.id == "1101880101000043"  # serials continue after the highest one
    with pytest.raises(Conflict, match="already exists"):
        service.create_component(
            district, subclass_code="0101", lon=LON, lat=LAT, component_id="1101880101000042"
        )
    with pytest.raises(ValidationError, match="is for subclass 0102, not 0101"):
        service.create_component(
            district, subclass_code="0101", lon=LON, lat=LAT, component_id="1101880102000001"
        )
    with pytest.raises(ValidationError, match="but the point is in grid 11018800100101"):
        service.create_component(
            district, subclass_code="0101", lon=LON, lat=LAT, component_id="3205080101000001"
        )


def test_create_refuses_unknown_subclass_and_points_outside(district: Session) -> None:
    with pytest.raises(ValidationError) as exc:
        service.create_component(district, subclass_code="0999", lon=LON, lat=LAT)
    assert exc.value.code == "unknown_subclass"
    with pytest.raises(ValidationError) as exc:
        service.create_component(district, subclass_code="0101", lon=116.0, lat=39.0)
    assert exc.value.code == "outside_grids"
    assert "outside every grid" in exc.value.message
    assert service.list_components(district) == []


def test_state_changes_are_recorded(district: Session) -> None:
    comp = service.create_component(district, subclass_code="0101", lon=LON, lat=LAT)
    service.change_state(district, comp.id, "damaged", note="井盖破裂", case_no="C2026-0001")
    service.change_state(district, comp.id, "完好", note="已更换")
    with pytest.raises(ValidationError, match="already intact"):
        service.change_state(district, comp.id, ComponentState.INTACT)
    with pytest.raises(ValidationError, match="unknown component state 'broken'"):
        service.change_state(district, comp.id, "broken")
    rows = service.history(district, comp.id)
    assert [(r.from_state, r.to_state, r.case_no) for r in rows] == [
        (None, ComponentState.INTACT, None),
        (ComponentState.INTACT, ComponentState.DAMAGED, "C2026-0001"),
        (ComponentState.DAMAGED, ComponentState.INTACT, None),
    ]
    assert rows[1].note == "井盖破裂"
    assert service.get_component(district, comp.id).state is ComponentState.INTACT
    with pytest.raises(NotFound):
        service.history(district, "1101880101999999")


def test_nearby_orders_by_distance(district: Session) -> None:
    far = service.create_component(district, subclass_code="0101", lon=LON + 80 * M_LON, lat=LAT)
    mid = service.create_component(district, subclass_code="0101", lon=LON + 30 * M_LON, lat=LAT)
    near = service.create_component(district, subclass_code="0102", lon=LON - 10 * M_LON, lat=LAT)
    found = service.nearby(district, LON, LAT, radius_m=50, limit=10)
    assert [c.id for c, _ in found] == [near.id, mid.id]
    assert [round(d) for _, d in found] == [10, 30]
    wide = service.nearby(district, LON, LAT, radius_m=100)
    assert [c.id for c, _ in wide] == [near.id, mid.id, far.id]
    assert [c.id for c, _ in service.nearby(district, LON, LAT, 100, limit=1)] == [near.id]
    only = service.nearby(district, LON, LAT, 100, subclass_code="0101")
    assert [c.id for c, _ in only] == [mid.id, far.id]
    with pytest.raises(ValidationError):
        service.nearby(district, LON, LAT, radius_m=0)


def test_list_filters(district: Session) -> None:
    a = service.create_component(district, subclass_code="0101", lon=LON, lat=LAT)
    b = service.create_component(district, subclass_code="0102", lon=116.4035, lat=39.9005)
    service.change_state(district, b.id, "lost")
    assert [c.id for c in service.list_components(district)] == [a.id, b.id]
    assert [c.id for c in service.list_components(district, subclass_code="0102")] == [b.id]
    assert [c.id for c in service.list_components(district, state="lost")] == [b.id]
    box = (116.400, 39.901, 116.401, 39.902)
    assert [c.id for c in service.list_components(district, bbox=box)] == [a.id]
    assert [c.id for c in service.list_components(district, grid_code=b.grid_code)] == [b.id]
