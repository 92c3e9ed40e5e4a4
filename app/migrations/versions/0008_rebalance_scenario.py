"""Rebalancing scenarios: a proposal kept in the database under a name (unique in its branch),
with the plan file's JSON, its author, the date and the one team it is limited to.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'rebalance_scenario',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('author', sa.String(length=50), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('plan', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['branch_id'], ['branch.id'], name=op.f('fk_rebalance_scenario_branch_id_branch')
        ),
        sa.ForeignKeyConstraint(
            ['team_id'], ['team.id'], name=op.f('fk_rebalance_scenario_team_id_team')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rebalance_scenario')),
        sa.UniqueConstraint(
            'branch_id', 'name', name=op.f('uq_rebalance_scenario_branch_id_name')
        ),
    )
    with op.batch_alter_table('rebalance_scenario') as batch:
        batch.create_index(
            batch.f('ix_rebalance_scenario_branch_id'), ['branch_id'], unique=False
        )
        batch.create_index(batch.f('ix_rebalance_scenario_team_id'), ['team_id'], unique=False)


def downgrade() -> None:
    op.drop_table('rebalance_scenario')
