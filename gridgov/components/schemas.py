"""Request and response bodies of the component API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from gridgov.components.models import ComponentState


class ComponentCreate(BaseModel):
    """A new component; ``id`` is generated unless given (then it is validated)."""

    subclass_code: str = Field(pattern=r"^\d{4}$", description="component subclass, e.g. 0101")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    name: str = Field(default="", max_length=100)
    state: ComponentState = ComponentState.INTACT
    id: str | None = Field(default=None, pattern=r"^\d{16}$")
    competent_dept_code: str | None = Field(default=None, max_length=40)
    owner_dept_code: str | None = Field(default=None, max_length=40)
    maintainer_dept_code: str | None = Field(default=None, max_length=40)
    installed_on: date | None = None
    surveyed_on: date | None = None
    data_source: str = Field(default="manual", max_length=40)


class StateChange(BaseModel):
    """A state change (状态变更), optionally made by a case."""

    state: ComponentState
    note: str = Field(default="", max_length=2000)
    case_no: str | None = Field(default=None, max_length=40)


class StateEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    from_state: ComponentState | None
    to_state: ComponentState
    note: str
    actor_user_id: int | None
    case_no: str | None


class ComponentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    subclass_code: str
    name: str
    grid_code: str
    state: ComponentState
    state_label: str
    lon: float
    lat: float
    competent_dept_code: str | None
    owner_dept_code: str | None
    maintainer_dept_code: str | None
    installed_on: date | None
    surveyed_on: date | None
    data_source: str
    created_at: datetime


class ComponentDetail(ComponentRead):
    """A component with its whole state history, oldest first."""

    history: list[StateEventRead]


class NearbyRead(BaseModel):
    component: ComponentRead
    distance_m: float
