"""Building footprints (楼栋). Houses, households and persons come with the registry issue."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base
from gridgov.geo.columns import HasGeometry


class Building(HasGeometry, Base):
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    floors: Mapped[int | None] = mapped_column(Integer)
    use: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(40), default="import")
