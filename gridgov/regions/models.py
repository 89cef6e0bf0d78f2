"""Region and grid tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.codes.admin import Level
from gridgov.db import Base, UTCDateTime, str_enum, utcnow
from gridgov.geo.columns import HasGeometry


class Region(HasGeometry, Base):
    """An administrative unit: city, district (区), street (街道), community (社区)."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    level: Mapped[Level] = mapped_column(str_enum(Level, "region_level"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    area_m2: Mapped[float] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Region | None] = relationship(remote_side="Region.id", lazy="raise")


class GridRevision(Base):
    """One change to the grid layer (import, division, edit). Bumps the spatial index."""

    __tablename__ = "grid_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(40))  # import / divide / edit / demo
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(100))


class UnitGrid(HasGeometry, Base):
    """单元网格: a versioned polygon inside exactly one community.

    A redrawn grid is a new row; the old row gets ``valid_to`` and stays, so records filed in it
    keep pointing at the geometry they were filed in. At most one current row per code.
    """

    __tablename__ = "unit_grid"
    __table_args__ = (
        Index(
            "uq_unit_grid_current_code",
            "code",
            unique=True,
            sqlite_where=text("valid_to IS NULL"),
            postgresql_where=text("valid_to IS NULL"),
        ),
        Index("ix_unit_grid_validity", "valid_from", "valid_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    community_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    area_m2: Mapped[float] = mapped_column(Float)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision_id: Mapped[int] = mapped_column(ForeignKey("grid_revision.id"))
    retired_revision_id: Mapped[int | None] = mapped_column(ForeignKey("grid_revision.id"))

    community: Mapped[Region] = relationship(lazy="raise")


class GridSetKind(StrEnum):
    PROFESSIONAL = "professional"  # 专业网格: unit grids for one line of work
    RESPONSIBILITY = "responsibility"  # 责任网格: the unit grids one supervisor covers


class GridSet(Base):
    """A named set of unit grids: a professional grid or a responsibility grid."""

    __tablename__ = "grid_set"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[GridSetKind] = mapped_column(str_enum(GridSetKind, "grid_set_kind"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    line_of_work: Mapped[str | None] = mapped_column(String(100))  # professional grids
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GridSetMember(Base):
    """Membership by grid code, so a redrawn grid stays in its sets."""

    __tablename__ = "grid_set_member"

    grid_set_id: Mapped[int] = mapped_column(
        ForeignKey("grid_set.id", ondelete="CASCADE"), primary_key=True
    )
    grid_code: Mapped[str] = mapped_column(String(15), primary_key=True, index=True)
