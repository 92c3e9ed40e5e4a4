"""Plans applied with a later effective date wait in scheduled_plan until their day (then they
are applied, or refused when overtaken), and can be cancelled before; see
app/services/rebalance/scheduled.py.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 03:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'scheduled_plan',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('plan', sa.Text(), nullable=False),
        sa.Column('author', sa.String(length=50), nullable=False),
        sa.Column('may_cross_teams', sa.Boolean(), nullable=False),
        sa.Column('team_scope', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decided_by', sa.String(length=50), nullable=True),
        sa.Column('batch_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['branch_id'], ['branch.id'], name=op.f('fk_scheduled_plan_branch_id_branch')
        ),
        sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_scheduled_plan_team_id_team')),
        sa.ForeignKeyConstraint(
            ['batch_id'], ['change_batch.id'], name=op.f('fk_scheduled_plan_batch_id_change_batch')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_plan')),
    )
    with op.batch_alter_table('scheduled_plan') as batch:
        batch.create_index(batch.f('ix_scheduled_plan_branch_id'), ['branch_id'], unique=False)
        batch.create_index(batch.f('ix_scheduled_plan_team_id'), ['team_id'], unique=False)
        batch.create_index(
            'ix_scheduled_plan_status_effective', ['status', 'effective_on'], unique=False
        )


def downgrade() -> None:
    op.drop_table('scheduled_plan')
