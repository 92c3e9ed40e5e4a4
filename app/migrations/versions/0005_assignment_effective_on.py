"""Every assignment change records the day it takes effect (assignment_event.effective_on), in
the branch's time zone, beside when it was recorded (at). "Who served this customer on day D"
reads the effective day: an intake dated 2024-01-15 serves from 2024-01-15, whenever it ran.

Existing rows take the branch-local day of their ``at``, which is what they meant until now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 21:30:00

"""
from datetime import datetime, timezone
from typing import Sequence, Union
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The branch of each event, through what it moved (a customer, a grid or a task's customer).
_ROWS = """
SELECT e.id, e.at, COALESCE(bc.timezone, bg.timezone, bt.timezone)
FROM assignment_event e
LEFT JOIN customer c ON c.id = e.customer_id
LEFT JOIN branch bc ON bc.id = c.branch_id
LEFT JOIN grid g ON g.id = e.grid_id
LEFT JOIN branch bg ON bg.id = g.branch_id
LEFT JOIN task t ON t.id = e.task_id
LEFT JOIN customer tc ON tc.id = t.customer_id
LEFT JOIN branch bt ON bt.id = tc.branch_id
WHERE e.id > :after
ORDER BY e.id
LIMIT 20000
"""


def _aware(at) -> datetime:
    if isinstance(at, str):  # SQLite keeps the UTC time as text
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def upgrade() -> None:
    with op.batch_alter_table('assignment_event') as batch:
        batch.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
    bind = op.get_bind()
    table = sa.table('assignment_event', sa.column('id', sa.Integer), sa.column('effective_on', sa.Date))
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam('event_id'))
        .values(effective_on=sa.bindparam('day'))
    )
    zones: dict[str, ZoneInfo] = {}
    after = 0
    while True:
        rows = bind.execute(sa.text(_ROWS), {"after": after}).fetchall()
        if not rows:
            break
        values = []
        for event_id, at, tz in rows:
            zone = zones.setdefault(tz or 'Asia/Shanghai', ZoneInfo(tz or 'Asia/Shanghai'))
            values.append({"event_id": event_id, "day": _aware(at).astimezone(zone).date()})
        bind.execute(update, values)
        after = rows[-1][0]
    with op.batch_alter_table('assignment_event') as batch:
        batch.alter_column('effective_on', existing_type=sa.Date(), nullable=False)
    op.create_index(
        'ix_assignment_event_customer_effective', 'assignment_event',
        ['customer_id', 'effective_on'], unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_assignment_event_customer_effective', table_name='assignment_event')
    with op.batch_alter_table('assignment_event') as batch:
        batch.drop_column('effective_on')
