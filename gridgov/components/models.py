"""Component tables: the inventory (部件) and its state history (状态变更记录)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base, UTCDateTime, str_enum, utcnow
from gridgov.geo.columns import HasGeometry


class ComponentState(StrEnum):
    """A component's condition (部件状态, CJ/T 214)."""

    INTACT = "intact"  # 完好
    DAMAGED = "damaged"  # 破损
    LOST = "lost"  # 丢失
    OCCUPIED = "occupied"  # 占用
    ABANDONED = "abandoned"  # 废弃


STATE_LABELS = {
    ComponentState.INTACT: "完好",
    ComponentState.DAMAGED: "破损",
    ComponentState.LOST: "丢失",
    ComponentState.OCCUPIED: "占用",
    ComponentState.ABANDONED: "废弃",
}


class Component(HasGeometry, Base):
    """One city component (部件) at a point, e.g. a manhole cover (井盖) or a street lamp.

    ``id`` is the 16-digit component id (see :mod:`gridgov.codes.component`); ``grid_code`` is
    the unit grid the point falls in. Department codes stay plain strings until departments
    have their own table.
    """

    __tablename__ = "component"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    subclass_code: Mapped[str] = mapped_column(String(4), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    grid_code: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[ComponentState] = mapped_column(
        str_enum(ComponentState, "component_state"), default=ComponentState.INTACT
    )
    competent_dept_code: Mapped[str | None] = mapped_column(String(40))  # 主管部门
    owner_dept_code: Mapped[str | None] = mapped_column(String(40), index=True)  # 权属单位
    maintainer_dept_code: Mapped[str | None] = mapped_column(String(40))  # 养护单位
    installed_on: Mapped[date | None] = mapped_column(Date)  # 初始日期
    surveyed_on: Mapped[date | None] = mapped_column(Date)  # 变更/普查日期
    data_source: Mapped[str] = mapped_column(String(40), default="manual")  # 数据来源
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def lon(self) -> float:
        return float(self.geom.x)

    @property
    def lat(self) -> float:
        return float(self.geom.y)

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def audit_ref(self) -> tuple[str, str]:
        return "component", self.id


class ComponentStateEvent(Base):
    """One state change of a component; the first row of a component has no ``from_state``.

    Rows are only ever added: the history is the component's record of condition, and a case
    about the component (``case_no``) links here.
    """

    __tablename__ = "component_state_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component_id: Mapped[str] = mapped_column(
        ForeignKey("component.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    from_state: Mapped[ComponentState | None] = mapped_column(
        str_enum(ComponentState, "component_state")
    )
    to_state: Mapped[ComponentState] = mapped_column(str_enum(ComponentState, "component_state"))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    case_no: Mapped[str | None] = mapped_column(String(40), index=True)
