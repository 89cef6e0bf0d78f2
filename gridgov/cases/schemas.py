"""Request and response bodies of the cases API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridgov.accounts.models import Role
from gridgov.cases.workflow import Action, Channel, ItemClass, State

_STRICT = ConfigDict(extra="forbid")


class Contact(BaseModel):
    """A reporter's contact (anonymous web report or hotline caller); the phone is masked."""

    model_config = _STRICT
    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=30)
    user_id: int | None = Field(default=None, ge=1)


class CaseCreate(BaseModel):
    """上报: what and where. ``lon``/``lat`` in ``crs`` (WGS84 by default)."""

    model_config = _STRICT
    subclass: str = Field(min_length=1, max_length=4, examples=["0102"])
    subclass_kind: Literal["component", "event"] | None = None
    urgency: str = Field(default="normal", max_length=20)
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    description: str = Field(min_length=1, max_length=2000)
    channel: Channel | None = None
    item_class: ItemClass | None = None
    photos: list[str] = Field(default_factory=list, max_length=20)
    contact: Contact | None = None


class ActionIn(BaseModel):
    """One action on a case, with the version the user saw (409 when it is stale)."""

    model_config = _STRICT
    action: str = Field(min_length=1, max_length=40, examples=["register"])
    payload: dict[str, Any] = Field(default_factory=dict)
    expected_version: int = Field(ge=0)


class EventRead(BaseModel):
    seq: int
    action: Action
    actor_user_id: int | None
    role: Role
    at: datetime
    from_state: State
    to_state: State
    note: str
    payload: dict[str, Any]


class DeadlineRead(BaseModel):
    step: str
    started_at: datetime
    due_at: datetime | None
    stopped_at: datetime | None
    limit: str | None
    warnings: list[str]
    light: Literal["green", "yellow", "red"] | None


class CaseRead(BaseModel):
    case_no: str
    state: State
    version: int
    channel: Channel
    item_class: ItemClass | None
    subclass_kind: str
    subclass_code: str
    urgency: str
    description: str
    photos: list[str]
    lon: float
    lat: float
    grid_code: str
    community_code: str | None
    street_code: str | None
    district_code: str | None
    reporter_user_id: int | None
    reporter_name: str | None
    reporter_phone: str | None  # masked
    department_id: int | None
    department_code: str | None
    created_at: datetime
    reported_at: datetime | None
    registered_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    checked_at: datetime | None
    closed_at: datetime | None
    lights: dict[str, Literal["green", "yellow", "red"] | None] = Field(default_factory=dict)


class CaseDetailRead(CaseRead):
    events: list[EventRead]
    deadlines: list[DeadlineRead]
    allowed_actions: list[Action]


class CaseList(BaseModel):
    items: list[CaseRead]
    count: int
