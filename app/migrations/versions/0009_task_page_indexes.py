"""Indexes for the task queue's keyset pages: for each sort the queue offers, one index on
(status, sort key, id) on the task table, so that a page is an index range scan per status from
the key it starts after; and customers and specialists by (name, id) for the sorts by their names.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09 10:00:00

"""
from typing import Sequence, Union

from alembic import op


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Kept here as written: a migration must not change when the models do.
TASK_PAGE_KEYS = (
    ('id', ()),
    ('task_no', ('task_no',)),
    ('kind', ('kind',)),
    ('due_date', ('due_date',)),
    ('created_at', ('created_at',)),
    ('completed_at', ('completed_at',)),
    ('specialist', ('specialist_id',)),
    ('customer', ('customer_id',)),
)


def upgrade() -> None:
    for name, cols in TASK_PAGE_KEYS:
        op.create_index(f'ix_task_page_{name}', 'task', ['status', *cols, 'id'])
    op.create_index('ix_customer_name_id', 'customer', ['name', 'id'])
    op.create_index('ix_specialist_name_id', 'specialist', ['name', 'id'])


def downgrade() -> None:
    op.drop_index('ix_specialist_name_id', table_name='specialist')
    op.drop_index('ix_customer_name_id', table_name='customer')
    for name, _cols in reversed(TASK_PAGE_KEYS):
        op.drop_index(f'ix_task_page_{name}', table_name='task')
