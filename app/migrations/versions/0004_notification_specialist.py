"""Each SMS records the specialist it names (notification.specialist_id) and the one the
customer knew before it (known_specialist_id), so a change that returns a customer to the
specialist they knew withdraws the waiting message and queues nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 21:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Messages written before this revision name nobody on record (NULL): the next change of
    # such a customer's specialist always texts them, as before.
    with op.batch_alter_table('notification') as batch:
        batch.add_column(sa.Column('specialist_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('known_specialist_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            'fk_notification_specialist_id_specialist', 'specialist', ['specialist_id'], ['id']
        )
        batch.create_foreign_key(
            'fk_notification_known_specialist_id_specialist', 'specialist',
            ['known_specialist_id'], ['id'],
        )
    op.create_index(
        'ix_notification_customer_status', 'notification', ['customer_id', 'status'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_notification_customer_status', table_name='notification')
    with op.batch_alter_table('notification') as batch:
        batch.drop_constraint('fk_notification_known_specialist_id_specialist', type_='foreignkey')
        batch.drop_constraint('fk_notification_specialist_id_specialist', type_='foreignkey')
        batch.drop_column('known_specialist_id')
        batch.drop_column('specialist_id')
