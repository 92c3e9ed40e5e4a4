"""Monthly persistency cells beside the base rows (persistency_month), filled from them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:30:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_FILL = """
INSERT INTO persistency_month (grain, policy_year, due_month, branch_id, key_id, grace_days,
                               policies, persisting, premium_due_fen, premium_received_fen)
SELECT '{grain}', b.policy_year, {month}, b.branch_id, COALESCE(b.{key}, 0), br.grace_days,
       count(*),
       sum(CASE WHEN b.days_late IS NOT NULL AND b.days_late <= br.grace_days
                     AND b.received_fen >= b.amount_due_fen THEN 1 ELSE 0 END),
       sum(b.amount_due_fen),
       sum(CASE WHEN b.days_late IS NOT NULL AND b.days_late <= br.grace_days
                THEN b.received_fen ELSE 0 END)
FROM persistency_base b JOIN branch br ON br.id = b.branch_id
WHERE b.terminated_on IS NULL OR b.terminated_on >= b.due_date
GROUP BY b.policy_year, {month}, b.branch_id, COALESCE(b.{key}, 0), br.grace_days
"""


def upgrade() -> None:
    op.create_table('persistency_month',
    sa.Column('grain', sa.String(length=1), nullable=False),
    sa.Column('policy_year', sa.SmallInteger(), nullable=False),
    sa.Column('due_month', sa.String(length=7), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('policies', sa.Integer(), nullable=False),
    sa.Column('persisting', sa.Integer(), nullable=False),
    sa.Column('premium_due_fen', sa.BigInteger(), nullable=False),
    sa.Column('premium_received_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('grain', 'policy_year', 'due_month', 'branch_id', 'key_id', name=op.f('pk_persistency_month')),
    sqlite_with_rowid=False
    )
    bind = op.get_bind()
    month = (
        "to_char(b.due_date, 'YYYY-MM')"
        if bind.dialect.name == "postgresql"
        else "strftime('%Y-%m', b.due_date)"
    )
    for grain, key in (("S", "specialist_id"), ("G", "grid_id")):
        op.execute(sa.text(_FILL.format(grain=grain, month=month, key=key)))


def downgrade() -> None:
    op.drop_table('persistency_month')
