"""Patrol tables (巡查): one row per patrol, one row per GPS position.

A position is keyed by its patrol and its client time (``at``): a phone that resubmits a batch
after a network failure, or sends positions out of order, never stores a point twice. The
patrol row keeps the newest position (by client time) so the live map needs no scan of the
positions, and the grid it lies in so the live map can be filtered by jurisdiction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base, UTCDateTime, utcnow


class Patrol(Base):
    """One patrol (一次巡查) of one supervisor: from start to stop, with its newest position."""

    __tablename__ = "patrol"
    __table_args__ = (
        # At most one running patrol per supervisor: a second start returns the running one.
        Index(
            "uq_patrol_running_user",
            "user_id",
            unique=True,
            sqlite_where=text("stopped_at IS NULL"),
            postgresql_where=text("stopped_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    point_count: Mapped[int] = mapped_column(Integer, default=0)
    # The newest position by client time (WGS84) and the unit grid it lies in (None outside).
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_lon: Mapped[float | None] = mapped_column(Float)
    last_lat: Mapped[float | None] = mapped_column(Float)
    last_accuracy_m: Mapped[float | None] = mapped_column(Float)
    last_grid_code: Mapped[str | None] = mapped_column(String(20), index=True)

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("patrol", str(self.id))


class PatrolPosition(Base):
    """One GPS position (轨迹点) of a patrol, stored in WGS84; ``at`` is the phone's time."""

    __tablename__ = "patrol_position"
    __table_args__ = (UniqueConstraint("patrol_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
