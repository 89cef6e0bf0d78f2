"""patrol: supervisors' patrols (巡查) and their GPS positions

Revision ID: 0012_patrol
Revises: 0010_case_component
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from gridgov.db import UTCDateTime

revision: str = "0012_patrol"
down_revision: str | None = "0010_case_component"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patrol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.Column("point_count", sa.Integer(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=True),
        sa.Column("last_lon", sa.Float(), nullable=True),
        sa.Column("last_lat", sa.Float(), nullable=True),
        sa.Column("last_accuracy_m", sa.Float(), nullable=True),
        sa.Column("last_grid_code", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_patrol_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol")),
    )
    op.create_index(op.f("ix_patrol_user_id"), "patrol", ["user_id"], unique=False)
    op.create_index(op.f("ix_patrol_started_at"), "patrol", ["started_at"], unique=False)
    op.create_index(op.f("ix_patrol_last_grid_code"), "patrol", ["last_grid_code"], unique=False)
    op.create_index(
        "uq_patrol_running_user",
        "patrol",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("stopped_at IS NULL"),
        postgresql_where=sa.text("stopped_at IS NULL"),
    )
    op.create_table(
        "patrol_position",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("grid_code", sa.String(length=20), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["patrol.id"],
            name=op.f("fk_patrol_position_patrol_id_patrol"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_position")),
        sa.UniqueConstraint("patrol_id", "at", name=op.f("uq_patrol_position_patrol_id")),
    )


def downgrade() -> None:
    op.drop_table("patrol_position")
    op.drop_index("uq_patrol_running_user", table_name="patrol")
    op.drop_index(op.f("ix_patrol_last_grid_code"), table_name="patrol")
    op.drop_index(op.f("ix_patrol_started_at"), table_name="patrol")
    op.drop_index(op.f("ix_patrol_user_id"), table_name="patrol")
    op.drop_table("patrol")
