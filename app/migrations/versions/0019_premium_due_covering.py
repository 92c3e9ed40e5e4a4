"""The premium dues' (policy year, due date) index also holds the policy and the amounts, so a
branch's premium in a window (rebalancing's loads: 341,000 dues on the large demo) is summed
from the index alone instead of looking up every due (1.3 -> 0.8 s).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 02:00:00

"""

from typing import Sequence, Union

from alembic import op


revision: str = "0019"
down_revision: Union[str, Sequence[str], None] = "0018"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Kept here as written: a migration must not change when the models do.
BEFORE = ["policy_year", "due_date"]
AFTER = [*BEFORE, "policy_id", "amount_due_fen", "amount_received_fen"]


def upgrade() -> None:
    op.drop_index("ix_premium_due_year_date", table_name="premium_due")
    op.create_index("ix_premium_due_year_date", "premium_due", AFTER)


def downgrade() -> None:
    op.drop_index("ix_premium_due_year_date", table_name="premium_due")
    op.create_index("ix_premium_due_year_date", "premium_due", BEFORE)
