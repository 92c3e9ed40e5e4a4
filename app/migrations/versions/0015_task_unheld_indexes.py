"""Partial indexes for the queue of tasks nobody holds: for each sort it offers (but by customer
and by specialist), one index on (status, sort key, id) over the tasks whose specialist_id is
NULL, so that a page of them is an index range scan per status, not a sort of all of them.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:00:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0015"
down_revision: Union[str, Sequence[str], None] = "0014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Kept here as written: a migration must not change when the models do.
UNHELD = "specialist_id IS NULL"
KEYS = (
    ("id", ()),
    ("task_no", ("task_no",)),
    ("kind", ("kind",)),
    ("due_date", ("due_date",)),
    ("created_at", ("created_at",)),
    ("completed_at", ("completed_at",)),
)


def upgrade() -> None:
    for name, cols in KEYS:
        op.create_index(
            f"ix_task_unheld_{name}",
            "task",
            ["status", *cols, "id"],
            sqlite_where=sa.text(UNHELD),
            postgresql_where=sa.text(UNHELD),
        )


def downgrade() -> None:
    for name, _cols in reversed(KEYS):
        op.drop_index(f"ix_task_unheld_{name}", table_name="task")
