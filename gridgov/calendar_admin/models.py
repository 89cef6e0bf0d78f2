"""The ``calendar_rule`` table: one row per date of an imported notice or a local override."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gridgov.db import Base, UTCDateTime, str_enum, utcnow
from gridgov.workcalendar import DayKind, DayRule, RuleSource


class CalendarRule(Base):
    """A date declared a holiday (休) or a working day (班) by an imported State Council notice
    (``source = notice``) or by a local override (``source = override``); unique per source."""

    __tablename__ = "calendar_rule"
    __table_args__ = (UniqueConstraint("day", "source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[DayKind] = mapped_column(str_enum(DayKind, "calendar_day_kind"))
    note: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[RuleSource] = mapped_column(str_enum(RuleSource, "calendar_rule_source"))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    imported_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True
    )

    @property
    def audit_ref(self) -> tuple[str, str]:
        """How the audit log names this row."""
        return "calendar_rule", f"{self.source.value}:{self.day.isoformat()}"

    def to_rule(self) -> DayRule:
        """The row as the pure calendar's :class:`DayRule`."""
        return DayRule(self.day, self.kind, self.note, self.source)
