"""Gazetteer entries: a normalised address, its pinyin initials and a WGS84 point."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base, str_enum


class EntryKind(StrEnum):
    DOOR_PLATE = "door_plate"  # 门牌
    BUILDING = "building"  # 楼栋
    PLACE = "place"  # 地名 / 兴趣点


class GazetteerEntry(Base):
    __tablename__ = "gazetteer_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind, "entry_kind"))
    address: Mapped[str] = mapped_column(String(200), index=True)
    normalized: Mapped[str] = mapped_column(String(200), index=True)
    initials: Mapped[str] = mapped_column(String(100), index=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id", ondelete="SET NULL"))
