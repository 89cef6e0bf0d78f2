"""Taxonomy tables: major classes, subclasses and their time limits (部件事件分类).

The classification of components (城市部件, CJ/T 214) and events (事件, GB/T 30428.2) is data: a
seeded default plus local additions. Each subclass carries its 立案条件 (register condition),
结案条件 (close condition), the urgency levels a case may take, and one time limit (处置时限,
CJ/T 315) per workflow step, stored as rows so they can be queried and edited one by one.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.db import Base, str_enum


class Kind(StrEnum):
    """Which tree a class belongs to."""

    COMPONENT = "component"  # 部件
    EVENT = "event"  # 事件


class Step(StrEnum):
    """The workflow steps that have a time limit."""

    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣
    HANDLE = "handle"  # 处置 (one limit per urgency level)
    CHECK = "check"  # 核查


class TimeUnit(StrEnum):
    WORKING_HOURS = "working_hours"  # 工作时
    WORKING_DAYS = "working_days"  # 工作日
    NATURAL_HOURS = "natural_hours"  # 自然时 (clock hours, holidays included)


class Urgency(StrEnum):
    """Urgency levels (紧急程度), least urgent first."""

    NORMAL = "normal"  # 一般
    URGENT = "urgent"  # 紧急
    CRITICAL = "critical"  # 特急


KIND_LABELS = {Kind.COMPONENT: "部件", Kind.EVENT: "事件"}
STEP_LABELS = {
    Step.REGISTER: "立案",
    Step.DISPATCH: "派遣",
    Step.HANDLE: "处置",
    Step.CHECK: "核查",
}
UNIT_LABELS = {
    TimeUnit.WORKING_HOURS: "工作时",
    TimeUnit.WORKING_DAYS: "工作日",
    TimeUnit.NATURAL_HOURS: "自然时",
}
URGENCY_LABELS = {Urgency.NORMAL: "一般", Urgency.URGENT: "紧急", Urgency.CRITICAL: "特急"}


class TaxonomyClass(Base):
    """A major class (大类), e.g. component 01 公用设施 or event 02 宣传广告."""

    __tablename__ = "taxonomy_class"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, "taxonomy_kind"))
    code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(100))
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)  # 本地扩展
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Subclass(Base):
    """A subclass (小类), e.g. component 0101 上水井盖 or event 0102 暴露垃圾.

    ``code`` is the 2-digit major class code followed by a 2-digit serial; ``initials`` holds the
    name's pinyin initials (space-separated variants for polyphonic characters) for search.
    """

    __tablename__ = "taxonomy_subclass"
    __table_args__ = (UniqueConstraint("kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, "taxonomy_kind"))
    class_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_class.id"), index=True)
    code: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(100))
    initials: Mapped[str] = mapped_column(String(200), default="")
    register_condition: Mapped[str] = mapped_column(Text, default="")  # 立案条件
    close_condition: Mapped[str] = mapped_column(Text, default="")  # 结案条件
    urgency_levels: Mapped[list[str]] = mapped_column(JSON)  # Urgency values, least urgent first
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    time_limits: Mapped[list[SubclassTimeLimit]] = relationship(
        back_populates="subclass",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="SubclassTimeLimit.id",
    )

    @property
    def major_code(self) -> str:
        return self.code[:2]


class SubclassTimeLimit(Base):
    """The time limit of one step of a subclass; ``urgency`` is set for the handle step only."""

    __tablename__ = "taxonomy_time_limit"
    __table_args__ = (
        CheckConstraint("value > 0", name="value_positive"),
        Index(
            "uq_taxonomy_time_limit_step_urgency",
            "subclass_id",
            "step",
            "urgency",
            unique=True,
        ),
        Index(
            "uq_taxonomy_time_limit_step",
            "subclass_id",
            "step",
            unique=True,
            sqlite_where=text("urgency IS NULL"),
            postgresql_where=text("urgency IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subclass_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_subclass.id", ondelete="CASCADE"))
    step: Mapped[Step] = mapped_column(str_enum(Step, "taxonomy_step"))
    urgency: Mapped[Urgency | None] = mapped_column(str_enum(Urgency, "taxonomy_urgency"))
    value: Mapped[int] = mapped_column(Integer)
    unit: Mapped[TimeUnit] = mapped_column(str_enum(TimeUnit, "taxonomy_time_unit"))

    subclass: Mapped[Subclass] = relationship(back_populates="time_limits", lazy="raise")
