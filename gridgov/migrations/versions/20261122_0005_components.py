"""components: inventory with 16-digit ids and state history

Revision ID: 0005_components
Revises: 0003_accounts
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import gridgov.db

revision: str = "0005_components"
down_revision: str | None = "0003_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = ("intact", "damaged", "lost", "occupied", "abandoned")


def _state(nullable: bool, column: str) -> sa.Column:
    return sa.Column(
        column,
        sa.Enum(*STATES, name="component_state", native_enum=False, length=20),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "component",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("subclass_code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("grid_code", sa.String(length=20), nullable=False),
        _state(False, "state"),
        sa.Column("competent_dept_code", sa.String(length=40), nullable=True),
        sa.Column("owner_dept_code", sa.String(length=40), nullable=True),
        sa.Column("maintainer_dept_code", sa.String(length=40), nullable=True),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("surveyed_on", sa.Date(), nullable=True),
        sa.Column("data_source", sa.String(length=40), nullable=False),
        sa.Column("created_at", gridgov.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("geom", gridgov.db.Geometry(), nullable=False),
        sa.Column("minx", sa.Float(), nullable=False),
        sa.Column("miny", sa.Float(), nullable=False),
        sa.Column("maxx", sa.Float(), nullable=False),
        sa.Column("maxy", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component")),
    )
    with op.batch_alter_table("component", schema=None) as batch_op:
        for col in ("subclass_code", "grid_code", "owner_dept_code", "minx", "miny"):
            batch_op.create_index(batch_op.f(f"ix_component_{col}"), [col], unique=False)

    op.create_table(
        "component_state_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.String(length=16), nullable=False),
        sa.Column("at", gridgov.db.UTCDateTime(timezone=True), nullable=False),
        _state(True, "from_state"),
        _state(False, "to_state"),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("case_no", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["component.id"],
            name=op.f("fk_component_state_event_component_id_component"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["user_account.id"],
            name=op.f("fk_component_state_event_actor_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_state_event")),
    )
    with op.batch_alter_table("component_state_event", schema=None) as batch_op:
        for col in ("component_id", "case_no"):
            batch_op.create_index(
                batch_op.f(f"ix_component_state_event_{col}"), [col], unique=False
            )


def downgrade() -> None:
    op.drop_table("component_state_event")
    op.drop_table("component")
