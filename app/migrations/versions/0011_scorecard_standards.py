"""Each branch sets the standards of its monthly scorecard (月度考核), in whole percent: renewal
premium collected (default 90), 13-month persistency (85), tasks done on time (80) and first
contact on time (80); see app/services/metrics/scorecard.py. The fifth figure, the service-equity
flag, has a fixed standard (no flag). Existing branches start at the defaults.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:00:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (
    ("scorecard_renewal_pct", "90"),
    ("scorecard_persistency_pct", "85"),
    ("scorecard_tasks_pct", "80"),
    ("scorecard_contact_pct", "80"),
)


def upgrade() -> None:
    with op.batch_alter_table("branch") as batch:
        for name, default in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), server_default=default, nullable=False))


def downgrade() -> None:
    # Dropped in place, as 0007 and 0010 do: copying the table means dropping one all others
    # refer to.
    with op.batch_alter_table("branch", recreate="never") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
