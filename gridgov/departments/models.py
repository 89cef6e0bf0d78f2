"""Department tables: 专业部门 / 处置单位, the regions they cover and the responsibility matrix.

Routing is data (STYLE.md): a department covers regions (属地, ``department_region``), and
``responsibility_rule`` rows say which department answers for which subclass where and on what
basis (属主 owner, 属地 territory, 主管 subclass). :func:`gridgov.cases.routing.route` applies them.
"""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gridgov.cases.routing import Basis
from gridgov.codes.admin import Level
from gridgov.db import Base, str_enum
from gridgov.taxonomy.models import Kind


class Department(Base):
    """A department or handling unit (专业部门 / 处置单位), identified by a stable ``code``."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("department.code", ondelete="RESTRICT"), index=True
    )
    level: Mapped[Level] = mapped_column(str_enum(Level, "department_level"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    phone: Mapped[str | None] = mapped_column(String(30))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    regions: Mapped[list[DepartmentRegion]] = relationship(
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="DepartmentRegion.region_code",
    )

    @property
    def region_codes(self) -> list[str]:
        return [r.region_code for r in self.regions]

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("department", self.code)


class DepartmentRegion(Base):
    """A region (district, street, community code) a department covers: its territory (属地)."""

    __tablename__ = "department_region"
    __table_args__ = (UniqueConstraint("department_id", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str] = mapped_column(String(12), index=True)


class ResponsibilityRule(Base):
    """One row of the responsibility matrix (责任矩阵).

    ``subclass_code``: a 4-digit subclass, a 2-digit major-class prefix, or "" for every subclass
    of ``kind``. ``region_prefix``: the row applies only to grids whose code starts with it
    (NULL: everywhere). ``department_code`` is NULL only for territory rows, meaning "whoever
    covers the grid". ``priority``: smaller is tried first among rows of the same basis.
    """

    __tablename__ = "responsibility_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, "taxonomy_kind"))
    subclass_code: Mapped[str] = mapped_column(String(4), default="", index=True)
    region_prefix: Mapped[str | None] = mapped_column(String(12))
    department_code: Mapped[str | None] = mapped_column(
        ForeignKey("department.code", ondelete="CASCADE"), index=True
    )
    priority: Mapped[int] = mapped_column(Integer, default=100)
    basis: Mapped[Basis] = mapped_column(str_enum(Basis, "routing_basis"))
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("responsibility_rule", str(self.id))
