"""Request and response bodies of the cases API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gridgov.accounts.models import Role
from gridgov.cases.workflow import Action, Channel, ItemClass, State
from gridgov.components.models import ComponentState
from gridgov.components.schemas import StateEventRead

_STRICT = ConfigDict(extra="forbid")


class Contact(BaseModel):
    """A reporter's contact (anonymous web report or hotline caller); the phone is masked."""

    model_config = _STRICT
    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=30)
    user_id: int | None = Field(default=None, ge=1)


class CaseCreate(BaseModel):
    """上报: what and where. ``lon``/``lat`` in ``crs`` (WGS84 by default); a report naming a
    component (``component_id``, 16 digits) may leave them out and gets the component's point.
    ``photos`` are media ids from ``POST /api/media``."""

    model_config = _STRICT
    subclass: str = Field(min_length=1, max_length=4, examples=["0102"])
    subclass_kind: Literal["component", "event"] | None = None
    urgency: str = Field(default="normal", max_length=20)
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    component_id: str | None = Field(
        default=None, pattern=r"^\d{16}$", examples=["1101880101000001"]
    )
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
    """One event of a case's timeline. ``actor_user_id`` None: an anonymous resident (or a
    removed account); ``actor_name`` is the actor's display name, given to staff readers only."""

    seq: int
    action: Action
    actor_user_id: int | None
    actor_name: str | None = None
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
    component_id: str | None = None
    created_at: datetime
    reported_at: datetime | None
    registered_at: datetime | None
    dispatched_at: datetime | None
    handled_at: datetime | None
    checked_at: datetime | None
    closed_at: datetime | None
    lights: dict[str, Literal["green", "yellow", "red"] | None] = Field(default_factory=dict)


class CaseComponentRead(BaseModel):
    """The component (部件) a case is about, as the case detail shows it."""

    id: str
    name: str
    subclass_code: str
    state: ComponentState
    state_label: str
    grid_code: str
    lon: float
    lat: float
    owner_dept_code: str | None
    owner_dept_name: str | None


class CaseDetailRead(CaseRead):
    events: list[EventRead]
    deadlines: list[DeadlineRead]
    allowed_actions: list[Action]
    component: CaseComponentRead | None = None
    component_history: list[StateEventRead] = Field(default_factory=list)
    merged_into: str | None = None  # 合并: the master's case number, once merged


class MergeIn(BaseModel):
    """合并: fold this case (the duplicate) into the master case ``into``.

    ``expected_version`` is the duplicate's version the user saw; ``master_expected_version``
    the master's (checked when given). A stale version is a 409 naming the case."""

    model_config = _STRICT
    into: str = Field(min_length=1, max_length=20, examples=["2026112200001"])
    expected_version: int = Field(ge=0)
    master_expected_version: int | None = Field(default=None, ge=0)
    note: str = Field(default="", max_length=2000)


class DuplicateRead(BaseModel):
    """A possible duplicate (合并候选) and its distance from the case."""

    case: CaseRead
    distance_m: float


class DuplicateList(BaseModel):
    items: list[DuplicateRead]
    count: int
    radius_m: float
    days: int


class CaseList(BaseModel):
    items: list[CaseRead]
    count: int
