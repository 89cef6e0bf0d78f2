"""Pydantic shapes of the taxonomy API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from gridgov.taxonomy.models import Kind, Step, TimeUnit, Urgency


class ClassRead(BaseModel):
    """A major class (大类)."""

    model_config = ConfigDict(from_attributes=True)

    kind: Kind
    code: str
    name: str
    is_local: bool
    is_active: bool
    sort_order: int


class TimeLimitRead(BaseModel):
    """One step's time limit (处置时限); ``urgency`` is set for the handle step only."""

    model_config = ConfigDict(from_attributes=True)

    step: Step
    urgency: Urgency | None
    value: int
    unit: TimeUnit


class SubclassRead(BaseModel):
    """A subclass (小类) with its 立案/结案 conditions and time limits."""

    model_config = ConfigDict(from_attributes=True)

    kind: Kind
    code: str
    major_code: str
    name: str
    register_condition: str
    close_condition: str
    urgency_levels: list[Urgency]
    is_local: bool
    is_active: bool
    sort_order: int
    time_limits: list[TimeLimitRead]


class ImportSummary(BaseModel):
    classes_created: int
    classes_updated: int
    subclasses_created: int
    subclasses_updated: int
