"""The log of policies whose persistency base rows must be written again (policy_dirty) and the
triggers that write it: a policy's copied columns changed or the policy deleted, a premium due
of policy year 2 or 3 written, changed or deleted. The unit of work rewrites those policies' rows
before the commit, so the importer no longer refreshes the base itself.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08 01:30:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = "0018"
down_revision: Union[str, Sequence[str], None] = "0017"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Kept here as written: a migration must not change when the models do.
_SQLITE = [
    'CREATE TRIGGER policy_dirty_policy_update AFTER UPDATE OF customer_id, status, status_date, payment_mode, product ON policy WHEN OLD.customer_id IS NOT NEW.customer_id OR OLD.status IS NOT NEW.status OR OLD.status_date IS NOT NEW.status_date OR OLD.payment_mode IS NOT NEW.payment_mode OR OLD.product IS NOT NEW.product BEGIN INSERT INTO policy_dirty (policy_id) VALUES (NEW.id); END',
    'CREATE TRIGGER policy_dirty_policy_delete AFTER DELETE ON policy BEGIN INSERT INTO policy_dirty (policy_id) VALUES (OLD.id); END',
    'CREATE TRIGGER policy_dirty_due_insert AFTER INSERT ON premium_due WHEN NEW.policy_year IN (2, 3) BEGIN INSERT INTO policy_dirty (policy_id) VALUES (NEW.policy_id); END',
    'CREATE TRIGGER policy_dirty_due_update AFTER UPDATE OF policy_id, policy_year, due_date, amount_due_fen, amount_received_fen, received_on ON premium_due WHEN (OLD.policy_year IN (2, 3) OR NEW.policy_year IN (2, 3)) AND (OLD.policy_id IS NOT NEW.policy_id OR OLD.policy_year IS NOT NEW.policy_year OR OLD.due_date IS NOT NEW.due_date OR OLD.amount_due_fen IS NOT NEW.amount_due_fen OR OLD.amount_received_fen IS NOT NEW.amount_received_fen OR OLD.received_on IS NOT NEW.received_on) BEGIN INSERT INTO policy_dirty (policy_id) VALUES (NEW.policy_id); INSERT INTO policy_dirty (policy_id) SELECT OLD.policy_id WHERE OLD.policy_id IS NOT NEW.policy_id; END',
    'CREATE TRIGGER policy_dirty_due_delete AFTER DELETE ON premium_due WHEN OLD.policy_year IN (2, 3) BEGIN INSERT INTO policy_dirty (policy_id) VALUES (OLD.policy_id); END',
]

_PG = [
    "CREATE FUNCTION policy_dirty_policy() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  IF TG_OP = 'DELETE' THEN\n    INSERT INTO policy_dirty (policy_id) SELECT id FROM old_rows;\n  ELSE\n    INSERT INTO policy_dirty (policy_id) SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id\n      WHERE (o.customer_id, o.status, o.status_date, o.payment_mode, o.product) IS DISTINCT FROM (n.customer_id, n.status, n.status_date, n.payment_mode, n.product);\n  END IF;\n  RETURN NULL;\nEND $$",
    "CREATE FUNCTION policy_dirty_due() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  IF TG_OP = 'INSERT' THEN\n    INSERT INTO policy_dirty (policy_id) SELECT DISTINCT policy_id FROM new_rows\n      WHERE policy_year IN (2, 3);\n  ELSIF TG_OP = 'DELETE' THEN\n    INSERT INTO policy_dirty (policy_id) SELECT DISTINCT policy_id FROM old_rows\n      WHERE policy_year IN (2, 3);\n  ELSE\n    INSERT INTO policy_dirty (policy_id) SELECT p FROM (\n      SELECT o.policy_id AS p FROM old_rows o JOIN new_rows n ON n.id = o.id\n        WHERE (o.policy_id, o.policy_year, o.due_date, o.amount_due_fen, o.amount_received_fen, o.received_on) IS DISTINCT FROM (n.policy_id, n.policy_year, n.due_date, n.amount_due_fen, n.amount_received_fen, n.received_on)\n          AND (o.policy_year IN (2, 3) OR n.policy_year IN (2, 3))\n      UNION SELECT n.policy_id FROM old_rows o JOIN new_rows n ON n.id = o.id\n        WHERE (o.policy_id, o.policy_year, o.due_date, o.amount_due_fen, o.amount_received_fen, o.received_on) IS DISTINCT FROM (n.policy_id, n.policy_year, n.due_date, n.amount_due_fen, n.amount_received_fen, n.received_on)\n          AND (o.policy_year IN (2, 3) OR n.policy_year IN (2, 3))\n    ) changed;\n  END IF;\n  RETURN NULL;\nEND $$",
    'CREATE TRIGGER policy_dirty_policy_update AFTER UPDATE ON policy REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_policy()',
    'CREATE TRIGGER policy_dirty_policy_delete AFTER DELETE ON policy REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_policy()',
    'CREATE TRIGGER policy_dirty_due_insert AFTER INSERT ON premium_due REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_due()',
    'CREATE TRIGGER policy_dirty_due_update AFTER UPDATE ON premium_due REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_due()',
    'CREATE TRIGGER policy_dirty_due_delete AFTER DELETE ON premium_due REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_due()',
]

_TRIGGERS = {
    "policy_dirty_policy_update": "policy",
    "policy_dirty_policy_delete": "policy",
    "policy_dirty_due_insert": "premium_due",
    "policy_dirty_due_update": "premium_due",
    "policy_dirty_due_delete": "premium_due",
}


def upgrade() -> None:
    op.create_table(
        "policy_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_dirty")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The transaction that wrote each mark: a commit settles its own marks only.
        op.execute(sa.text("ALTER TABLE policy_dirty ALTER COLUMN tx SET DEFAULT txid_current()"))
    for stmt in _PG if bind.dialect.name == "postgresql" else _SQLITE:
        op.execute(sa.text(stmt))


def downgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    for name, table in _TRIGGERS.items():
        op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if pg else "")))
    if pg:
        for fn in ("policy_dirty_policy", "policy_dirty_due"):
            op.execute(sa.text(f"DROP FUNCTION IF EXISTS {fn}()"))
    op.drop_table("policy_dirty")
