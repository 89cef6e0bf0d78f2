"""Road centre lines."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base, str_enum
from gridgov.geo.columns import HasGeometry


class RoadClass(StrEnum):
    MAIN = "main"  # 主干道
    SECONDARY = "secondary"  # 次干道
    MINOR = "minor"  # 支路 / 胡同
    PATH = "path"  # 步行道
    OTHER = "other"  # rivers, walls and other dividing lines


class Road(HasGeometry, Base):
    __tablename__ = "road"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    road_class: Mapped[RoadClass] = mapped_column(
        str_enum(RoadClass, "road_class"),
        index=True,
    )
    width_m: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(40), default="import")
