"""Monthly funnel cells (funnel_month), the log of stale cells (funnel_dirty) and the customer
triggers that write it; the cells are filled by the first commit that follows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_WATCHED = (
    "branch_id", "specialist_id", "pool_entered_on",
    "pre_sell_on", "soft_sell_on", "cross_sell_on", "up_sell_on",
)

_SQLITE_KEY = (
    "INSERT INTO funnel_dirty (branch_id, specialist_key, entry_month) "
    "SELECT {r}.branch_id, coalesce({r}.specialist_id, 0), strftime('%Y-%m', {r}.pool_entered_on) "
    "WHERE {r}.pool_entered_on IS NOT NULL;"
)
_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
_SQLITE = [
    "CREATE TRIGGER funnel_dirty_customer_insert AFTER INSERT ON customer "
    f"BEGIN {_SQLITE_KEY.format(r='NEW')} END",
    f"CREATE TRIGGER funnel_dirty_customer_update AFTER UPDATE OF {', '.join(_WATCHED)} "
    f"ON customer WHEN {_SQLITE_CHANGED} "
    f"BEGIN {_SQLITE_KEY.format(r='OLD')} {_SQLITE_KEY.format(r='NEW')} END",
    "CREATE TRIGGER funnel_dirty_customer_delete AFTER DELETE ON customer "
    f"BEGIN {_SQLITE_KEY.format(r='OLD')} END",
]

_PG_KEY = (
    "INSERT INTO funnel_dirty (branch_id, specialist_key, entry_month) "
    "SELECT DISTINCT r.branch_id, coalesce(r.specialist_id, 0), to_char(r.pool_entered_on, 'YYYY-MM') "
    "FROM {rows} r WHERE r.pool_entered_on IS NOT NULL{extra};"
)
_PG_CHANGED = (
    " AND EXISTS (SELECT 1 FROM {other} o WHERE o.id = r.id AND ("
    + ", ".join(f"o.{c}" for c in _WATCHED)
    + ") IS DISTINCT FROM ("
    + ", ".join(f"r.{c}" for c in _WATCHED)
    + "))"
)
_PG = [
    "CREATE FUNCTION funnel_dirty_mark() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'INSERT' THEN\n"
    f"    {_PG_KEY.format(rows='new_rows', extra='')}\n"
    "  ELSIF TG_OP = 'DELETE' THEN\n"
    f"    {_PG_KEY.format(rows='old_rows', extra='')}\n"
    "  ELSE\n"
    f"    {_PG_KEY.format(rows='old_rows', extra=_PG_CHANGED.format(other='new_rows'))}\n"
    f"    {_PG_KEY.format(rows='new_rows', extra=_PG_CHANGED.format(other='old_rows'))}\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE TRIGGER funnel_dirty_customer_insert AFTER INSERT ON customer "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION funnel_dirty_mark()",
    "CREATE TRIGGER funnel_dirty_customer_update AFTER UPDATE ON customer "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION funnel_dirty_mark()",
    "CREATE TRIGGER funnel_dirty_customer_delete AFTER DELETE ON customer "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION funnel_dirty_mark()",
]


def upgrade() -> None:
    op.create_table('funnel_month',
    sa.Column('entry_month', sa.String(length=7), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('specialist_key', sa.Integer(), nullable=False),
    sa.Column('counts', sa.LargeBinary(), nullable=False),
    sa.Column('days', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('entry_month', 'branch_id', 'specialist_key', name=op.f('pk_funnel_month')),
    sqlite_with_rowid=False
    )
    op.create_table('funnel_dirty',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('specialist_key', sa.Integer(), nullable=False),
    sa.Column('entry_month', sa.String(length=7), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funnel_dirty'))
    )
    bind = op.get_bind()
    for stmt in _PG if bind.dialect.name == "postgresql" else _SQLITE:
        op.execute(sa.text(stmt))
    # Every existing customer's cell is stale: one key per cell, settled at the next commit.
    month = (
        "to_char(pool_entered_on, 'YYYY-MM')"
        if bind.dialect.name == "postgresql"
        else "strftime('%Y-%m', pool_entered_on)"
    )
    op.execute(sa.text(
        "INSERT INTO funnel_dirty (branch_id, specialist_key, entry_month) "
        f"SELECT DISTINCT branch_id, coalesce(specialist_id, 0), {month} FROM customer "
        "WHERE pool_entered_on IS NOT NULL"
    ))


def downgrade() -> None:
    bind = op.get_bind()
    for name in ("insert", "update", "delete"):
        op.execute(sa.text(
            f"DROP TRIGGER IF EXISTS funnel_dirty_customer_{name}"
            + (" ON customer" if bind.dialect.name == "postgresql" else "")
        ))
    if bind.dialect.name == "postgresql":
        op.execute(sa.text("DROP FUNCTION IF EXISTS funnel_dirty_mark()"))
    op.drop_table('funnel_dirty')
    op.drop_table('funnel_month')
