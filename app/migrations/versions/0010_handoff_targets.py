"""Each branch sets its hand-off targets, in days from a customer's pool entry: the SMS sent
(default 1), first contact (default 7) and first service (default 30); see
app/services/metrics/handoff.py. Existing branches start at the defaults.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 02:20:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (("handoff_sms_days", "1"), ("handoff_contact_days", "7"), ("handoff_service_days", "30"))


def upgrade() -> None:
    with op.batch_alter_table("branch") as batch:
        for name, default in COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), server_default=default, nullable=False))


def downgrade() -> None:
    # Dropped in place, as 0007 does: copying the table means dropping one all others refer to.
    with op.batch_alter_table("branch", recreate="never") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
