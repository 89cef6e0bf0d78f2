"""taxonomy: major classes, subclasses and their time limits

Revision ID: 0002_taxonomy
Revises: 9c925a611756
Create Date: 2026-11-22 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_taxonomy"
down_revision: str | None = "9c925a611756"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = sa.Enum("component", "event", name="taxonomy_kind", native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "taxonomy_class",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_class")),
        sa.UniqueConstraint("kind", "code", name=op.f("uq_taxonomy_class_kind")),
    )
    op.create_table(
        "taxonomy_subclass",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", KIND, nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("initials", sa.String(length=200), nullable=False),
        sa.Column("register_condition", sa.Text(), nullable=False),
        sa.Column("close_condition", sa.Text(), nullable=False),
        sa.Column("urgency_levels", sa.JSON(), nullable=False),
        sa.Column("is_local", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["taxonomy_class.id"],
            name=op.f("fk_taxonomy_subclass_class_id_taxonomy_class"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_subclass")),
        sa.UniqueConstraint("kind", "code", name=op.f("uq_taxonomy_subclass_kind")),
    )
    with op.batch_alter_table("taxonomy_subclass", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_taxonomy_subclass_class_id"), ["class_id"], unique=False
        )

    op.create_table(
        "taxonomy_time_limit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subclass_id", sa.Integer(), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "register",
                "dispatch",
                "handle",
                "check",
                name="taxonomy_step",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "urgency",
            sa.Enum(
                "normal",
                "urgent",
                "critical",
                name="taxonomy_urgency",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column(
            "unit",
            sa.Enum(
                "working_hours",
                "working_days",
                "natural_hours",
                name="taxonomy_time_unit",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("value > 0", name=op.f("ck_taxonomy_time_limit_value_positive")),
        sa.ForeignKeyConstraint(
            ["subclass_id"],
            ["taxonomy_subclass.id"],
            name=op.f("fk_taxonomy_time_limit_subclass_id_taxonomy_subclass"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_time_limit")),
    )
    with op.batch_alter_table("taxonomy_time_limit", schema=None) as batch_op:
        batch_op.create_index(
            "uq_taxonomy_time_limit_step",
            ["subclass_id", "step"],
            unique=True,
            sqlite_where=sa.text("urgency IS NULL"),
            postgresql_where=sa.text("urgency IS NULL"),
        )
        batch_op.create_index(
            "uq_taxonomy_time_limit_step_urgency",
            ["subclass_id", "step", "urgency"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("taxonomy_time_limit", schema=None) as batch_op:
        batch_op.drop_index("uq_taxonomy_time_limit_step_urgency")
        batch_op.drop_index("uq_taxonomy_time_limit_step")
    op.drop_table("taxonomy_time_limit")
    with op.batch_alter_table("taxonomy_subclass", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_taxonomy_subclass_class_id"))
    op.drop_table("taxonomy_subclass")
    op.drop_table("taxonomy_class")
