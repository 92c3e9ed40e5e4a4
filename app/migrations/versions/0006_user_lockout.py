"""Each user row counts wrong passwords (failed_logins since failed_since) and, after too many
within a short time, holds the account until locked_until; last_sign_in says when the user last
signed in, for the senior supervisor's list of accounts.

Existing users start with no failures, no lock and no recorded sign-in.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(
            sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False)
        )
        batch.add_column(sa.Column('failed_since', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('last_sign_in', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('last_sign_in')
        batch.drop_column('locked_until')
        batch.drop_column('failed_since')
        batch.drop_column('failed_logins')
