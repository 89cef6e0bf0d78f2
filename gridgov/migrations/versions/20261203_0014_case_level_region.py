"""case_level_region: the command-centre level an escalation (上报上级) moved a case to

Revision ID: 0014_case_level_region
Revises: 0013_case_time_indexes
Create Date: 2026-12-03

NULL for a case handled at the level it was filed at; while an escalation waits, the level asked;
after it is accepted, the level that took the case over. Lists of dispatchers leave out cases
moved to a level they do not hold.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_case_level_region"
down_revision: str | None = "0013_case_time_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level_region", sa.String(length=12), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_level_region"), ["level_region"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_level_region"))
        batch_op.drop_column("level_region")
