"""The log of customers whose persistency base rows are stale (persistency_dirty) and the
triggers on customer, assignment_event and change_batch that write it; the unit of work
(app/services/database/unit_of_work.py) rewrites those customers' rows before each commit.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 08:00:00

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = "0014"
down_revision: Union[str, Sequence[str], None] = "0013"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_WATCHED = ("branch_id", "grid_id", "specialist_id")
_EVENT_WATCHED = (
    "customer_id", "from_specialist_id", "to_specialist_id", "effective_on", "at", "batch_id",
)
_MARK = "INSERT INTO persistency_dirty (customer_id) "

_SQLITE = [
    f"CREATE TRIGGER persistency_dirty_customer_update AFTER UPDATE OF {', '.join(_WATCHED)} "
    "ON customer WHEN " + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
    + f" BEGIN {_MARK}VALUES (NEW.id); END",
    "CREATE TRIGGER persistency_dirty_event_insert AFTER INSERT ON assignment_event "
    f"WHEN NEW.customer_id IS NOT NULL BEGIN {_MARK}VALUES (NEW.customer_id); END",
    "CREATE TRIGGER persistency_dirty_event_update AFTER UPDATE OF "
    f"{', '.join(_EVENT_WATCHED)} ON assignment_event BEGIN "
    f"{_MARK}SELECT OLD.customer_id WHERE OLD.customer_id IS NOT NULL; "
    f"{_MARK}SELECT NEW.customer_id WHERE NEW.customer_id IS NOT NULL "
    "AND NEW.customer_id IS NOT OLD.customer_id; END",
    "CREATE TRIGGER persistency_dirty_event_delete AFTER DELETE ON assignment_event "
    f"WHEN OLD.customer_id IS NOT NULL BEGIN {_MARK}VALUES (OLD.customer_id); END",
    "CREATE TRIGGER persistency_dirty_batch_update AFTER UPDATE OF undone_at, kind "
    "ON change_batch WHEN OLD.undone_at IS NOT NEW.undone_at OR OLD.kind IS NOT NEW.kind "
    f"BEGIN {_MARK}SELECT DISTINCT customer_id FROM assignment_event "
    "WHERE batch_id = NEW.id AND customer_id IS NOT NULL; END",
]

_CUSTOMER_CHANGED = (
    "(" + ", ".join(f"o.{c}" for c in _WATCHED) + ") IS DISTINCT FROM ("
    + ", ".join(f"n.{c}" for c in _WATCHED) + ")"
)
_EVENT_CHANGED = (
    "(" + ", ".join(f"o.{c}" for c in _EVENT_WATCHED) + ") IS DISTINCT FROM ("
    + ", ".join(f"n.{c}" for c in _EVENT_WATCHED) + ")"
)
_PG = [
    "CREATE FUNCTION persistency_dirty_customer() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    f"  {_MARK}SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id\n"
    f"    WHERE {_CUSTOMER_CHANGED};\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE FUNCTION persistency_dirty_event() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  IF TG_OP = 'INSERT' THEN\n"
    f"    {_MARK}SELECT customer_id FROM new_rows WHERE customer_id IS NOT NULL;\n"
    "  ELSIF TG_OP = 'DELETE' THEN\n"
    f"    {_MARK}SELECT customer_id FROM old_rows WHERE customer_id IS NOT NULL;\n"
    "  ELSE\n"
    f"    {_MARK}SELECT c FROM (\n"
    "      SELECT o.customer_id AS c FROM old_rows o JOIN new_rows n ON n.id = o.id\n"
    f"        WHERE {_EVENT_CHANGED}\n"
    "      UNION SELECT n.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id\n"
    f"        WHERE {_EVENT_CHANGED}\n"
    "    ) moved WHERE c IS NOT NULL;\n"
    "  END IF;\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE FUNCTION persistency_dirty_batch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    f"  {_MARK}SELECT DISTINCT e.customer_id FROM assignment_event e\n"
    "    JOIN new_rows n ON n.id = e.batch_id JOIN old_rows o ON o.id = n.id\n"
    "    WHERE e.customer_id IS NOT NULL\n"
    "      AND (o.undone_at, o.kind) IS DISTINCT FROM (n.undone_at, n.kind);\n"
    "  RETURN NULL;\n"
    "END $$",
    "CREATE TRIGGER persistency_dirty_customer_update AFTER UPDATE ON customer "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_customer()",
    "CREATE TRIGGER persistency_dirty_event_insert AFTER INSERT ON assignment_event "
    "REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_event()",
    "CREATE TRIGGER persistency_dirty_event_update AFTER UPDATE ON assignment_event "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_event()",
    "CREATE TRIGGER persistency_dirty_event_delete AFTER DELETE ON assignment_event "
    "REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_event()",
    "CREATE TRIGGER persistency_dirty_batch_update AFTER UPDATE ON change_batch "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_batch()",
]

_TRIGGERS = {
    "persistency_dirty_customer_update": "customer",
    "persistency_dirty_event_insert": "assignment_event",
    "persistency_dirty_event_update": "assignment_event",
    "persistency_dirty_event_delete": "assignment_event",
    "persistency_dirty_batch_update": "change_batch",
}


def upgrade() -> None:
    op.create_table(
        "persistency_dirty",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tx", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persistency_dirty")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The transaction that wrote each mark: a commit settles its own marks only.
        op.execute(sa.text(
            "ALTER TABLE persistency_dirty ALTER COLUMN tx SET DEFAULT txid_current()"
        ))
    for stmt in _PG if bind.dialect.name == "postgresql" else _SQLITE:
        op.execute(sa.text(stmt))


def downgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    for name, table in _TRIGGERS.items():
        op.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if pg else "")))
    if pg:
        for fn in ("persistency_dirty_customer", "persistency_dirty_event",
                   "persistency_dirty_batch"):
            op.execute(sa.text(f"DROP FUNCTION IF EXISTS {fn}()"))
    op.drop_table("persistency_dirty")
