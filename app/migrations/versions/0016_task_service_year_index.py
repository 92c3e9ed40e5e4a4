"""A covering index for the equity report: the year's service tasks by kind and creation time,
with every column the report reads (holder, status, due date, completion time, customer), so
the report is one index range scan instead of a walk through every specialist's tasks.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:40:00

"""

from typing import Sequence, Union

from alembic import op


revision: str = "0016"
down_revision: Union[str, Sequence[str], None] = "0015"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Kept here as written: a migration must not change when the models do.
COLUMNS = [
    "kind",
    "created_at",
    "specialist_id",
    "status",
    "due_date",
    "completed_at",
    "customer_id",
]


def upgrade() -> None:
    op.create_index("ix_task_service_year", "task", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_task_service_year", table_name="task")
