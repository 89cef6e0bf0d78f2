"""departments: departments, the regions they cover, the responsibility matrix

Revision ID: 0004_departments
Revises: 0007_cases
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_departments"
down_revision: str | None = "0007_cases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVELS = ("city", "district", "street", "community")
KINDS = ("component", "event")
BASES = ("owner", "territory", "subclass")


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("parent_code", sa.String(length=40), nullable=True),
        sa.Column(
            "level",
            sa.Enum(*LEVELS, name="department_level", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"],
            ["department.code"],
            name=op.f("fk_department_parent_code_department"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("code", name=op.f("uq_department_code")),
    )
    with op.batch_alter_table("department", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_department_parent_code"), ["parent_code"], unique=False
        )

    op.create_table(
        "department_region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_department_region_department_id_department"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department_region")),
        sa.UniqueConstraint(
            "department_id", "region_code", name=op.f("uq_department_region_department_id")
        ),
    )
    with op.batch_alter_table("department_region", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_department_region_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_department_region_region_code"), ["region_code"], unique=False
        )

    op.create_table(
        "responsibility_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="taxonomy_kind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("subclass_code", sa.String(length=4), nullable=False),
        sa.Column("region_prefix", sa.String(length=12), nullable=True),
        sa.Column("department_code", sa.String(length=40), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "basis",
            sa.Enum(*BASES, name="routing_basis", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_code"],
            ["department.code"],
            name=op.f("fk_responsibility_rule_department_code_department"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responsibility_rule")),
    )
    with op.batch_alter_table("responsibility_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_responsibility_rule_department_code"),
            ["department_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_responsibility_rule_subclass_code"), ["subclass_code"], unique=False
        )


def downgrade() -> None:
    op.drop_table("responsibility_rule")
    op.drop_table("department_region")
    op.drop_table("department")
