"""Each branch sets the largest amount one premium, due or receipt may have in an import
(max_amount_yuan); a larger figure is refused with its row and column named. Existing branches
start at 100,000,000 yuan, the limit every branch had before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 23:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('branch') as batch:
        batch.add_column(
            sa.Column(
                'max_amount_yuan', sa.BigInteger(), server_default='100000000', nullable=False
            )
        )


def downgrade() -> None:
    # Dropped in place (SQLite 3.35 and later can): copying the table, as batch mode would,
    # means dropping a table that every other table refers to.
    with op.batch_alter_table('branch', recreate='never') as batch:
        batch.drop_column('max_amount_yuan')
