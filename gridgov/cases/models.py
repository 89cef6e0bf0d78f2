"""Case tables (案件): the case, its immutable event rows and its step deadlines.

The ``case`` row is a convenient current view; the truth is the ``case_event`` rows, from which
``workflow.replay`` rebuilds the workflow state (``case.workflow`` holds a JSON snapshot of it so
a check can compare the two). Deadlines (时限) are stored per step in ``case_step_deadline``;
the warning lights are derived from them by query, never stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.accounts.models import Role
from gridgov.cases.states import Action, Channel, ItemClass, State, Step
from gridgov.db import Base, UTCDateTime, str_enum, utcnow


class Case(Base):
    """One case (案件): what, where, who reported it, where it stands in the closed loop."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(20), unique=True)  # 2026112200001
    state: Mapped[State] = mapped_column(str_enum(State, "case_state"), index=True)
    item_class: Mapped[ItemClass | None] = mapped_column(str_enum(ItemClass, "case_item_class"))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "case_channel"))
    subclass_kind: Mapped[str] = mapped_column(String(20))
    subclass_code: Mapped[str] = mapped_column(String(4), index=True)
    # The component (部件, 16-digit id) the case is about, when it is about one.
    component_id: Mapped[str | None] = mapped_column(String(16), index=True)
    #: 上报上级: the level (region code) whose command centre acts on the case now, when an
    #: escalation moved it (``levels.acting_level``); NULL at the level it was filed at.
    level_region: Mapped[str | None] = mapped_column(String(12), index=True)
    urgency: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    lon: Mapped[float] = mapped_column(Float)  # WGS84
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str] = mapped_column(String(20), index=True)
    community_code: Mapped[str | None] = mapped_column(String(20))
    street_code: Mapped[str | None] = mapped_column(String(20))
    district_code: Mapped[str | None] = mapped_column(String(20), index=True)
    reporter_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    reporter_name: Mapped[str | None] = mapped_column(String(60))
    reporter_phone: Mapped[str | None] = mapped_column(String(30))
    department_id: Mapped[int | None] = mapped_column(Integer)
    department_code: Mapped[str | None] = mapped_column(String(40), index=True)
    version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed for the dashboard's counts by day (reported / registered / closed today).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    workflow: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # Compare-and-set on every UPDATE: ``WHERE version = <loaded version>`` (409 on a miss).
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}  # noqa: RUF012

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("case", self.case_no)


class CaseEvent(Base):
    """One immutable event row (案件流转记录); ``seq`` is the case version it produced."""

    __tablename__ = "case_event"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[Action] = mapped_column(str_enum(Action, "case_action"))
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    from_state: Mapped[State] = mapped_column(str_enum(State, "case_state"))
    to_state: Mapped[State] = mapped_column(str_enum(State, "case_state"))
    note: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CaseStepDeadline(Base):
    """The time limit of one run of one step (立案, 派遣, 处置 …) of a case.

    ``due_at`` is computed with the working calendar when the step starts; ``stopped_at`` is set
    when it ends. A step may run again (返工 restarts 处置), each run is its own row.
    """

    __tablename__ = "case_step_deadline"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    step: Mapped[Step] = mapped_column(str_enum(Step, "case_step"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    limit_value: Mapped[float | None] = mapped_column(Float)
    limit_unit: Mapped[str | None] = mapped_column(String(20))
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
