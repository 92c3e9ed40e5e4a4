"""The log of customers whose persistency base rows are stale, and the triggers that write it.

A persistency base row (``persistency_base``) names the customer's grid and the specialist who
served them on the due date, read from the customer's current specialist and branch and from
their assignment history (``app.services.customers.history``). Triggers append the customer's id to
``persistency_dirty`` whenever one of those inputs changes:

- a customer's ``branch_id``, ``grid_id`` or ``specialist_id``;
- an assignment event of the customer, written, changed or deleted;
- a change batch undone or its kind changed (an undone import no longer says who served whom),
  for every customer the batch's events name.

The unit of work (``app.services.database.unit_of_work``) rewrites those customers' base rows, and with
them the monthly cells, before the transaction commits. The triggers sit in the database, so no
write path (a service, a command, a future one) can move a customer without the base knowing.
Which base rows exist, and what they copy, comes from the policies and their premium dues: a
second log, ``policy_dirty``, takes the id of every policy whose rows must be written again:

- a policy's ``customer_id``, ``status``, ``status_date``, ``payment_mode`` or ``product``
  changed, or the policy deleted;
- a premium due of policy year 2 or 3 (:data:`BASE_YEARS`) written, changed or deleted.

The same unit of work rewrites those policies' rows before the commit (the whole table when
most policies are marked: a first import or the demo), so no writer of policies or dues (the
importer, the demo, a script) refreshes anything itself.
"""

from __future__ import annotations

from sqlalchemy import DDL, BigInteger, Integer, event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, create_with_schema

# The policy years whose first due is a base row (13-month and 25-month persistency).
BASE_YEARS = (2, 3)
# The customer columns a base row copies or is attributed by.
WATCHED = ("branch_id", "grid_id", "specialist_id")
# The assignment event columns attribution reads.
EVENT_WATCHED = ("customer_id", "from_specialist_id", "to_specialist_id", "effective_on", "at",
                 "batch_id")  # fmt: skip


class PersistencyDirty(Base):
    __tablename__ = "persistency_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    # On PostgreSQL the transaction that wrote the mark (txid_current(), the column's default):
    # a commit settles its own marks only, so it never needs rights over another user's
    # customers. NULL on SQLite, where one writer at a time settles them all.
    tx: Mapped[int | None] = mapped_column(BigInteger)


# The default sits in the database, where the triggers' INSERTs get it.
PG_TX_DEFAULT = "ALTER TABLE persistency_dirty ALTER COLUMN tx SET DEFAULT txid_current()"
event.listen(
    PersistencyDirty.__table__, "after_create", DDL(PG_TX_DEFAULT).execute_if(dialect="postgresql")
)


class PolicyDirty(Base):
    """A policy whose base rows must be written again (its dues or its own columns changed)."""

    __tablename__ = "policy_dirty"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(Integer)
    # As persistency_dirty.tx: the transaction that wrote the mark, on PostgreSQL.
    tx: Mapped[int | None] = mapped_column(BigInteger)


PG_POLICY_TX_DEFAULT = "ALTER TABLE policy_dirty ALTER COLUMN tx SET DEFAULT txid_current()"
event.listen(
    PolicyDirty.__table__,
    "after_create",
    DDL(PG_POLICY_TX_DEFAULT).execute_if(dialect="postgresql"),
)


_MARK = "INSERT INTO persistency_dirty (customer_id) "

SQLITE_TRIGGERS = {
    "persistency_dirty_customer_update": (
        f"CREATE TRIGGER persistency_dirty_customer_update AFTER UPDATE OF {', '.join(WATCHED)} "
        "ON customer WHEN "
        + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
        + f" BEGIN {_MARK}VALUES (NEW.id); END"
    ),
    "persistency_dirty_event_insert": (
        "CREATE TRIGGER persistency_dirty_event_insert AFTER INSERT ON assignment_event "
        f"WHEN NEW.customer_id IS NOT NULL BEGIN {_MARK}VALUES (NEW.customer_id); END"
    ),
    "persistency_dirty_event_update": (
        "CREATE TRIGGER persistency_dirty_event_update AFTER UPDATE OF "
        f"{', '.join(EVENT_WATCHED)} ON assignment_event BEGIN "
        f"{_MARK}SELECT OLD.customer_id WHERE OLD.customer_id IS NOT NULL; "
        f"{_MARK}SELECT NEW.customer_id WHERE NEW.customer_id IS NOT NULL "
        "AND NEW.customer_id IS NOT OLD.customer_id; END"
    ),
    "persistency_dirty_event_delete": (
        "CREATE TRIGGER persistency_dirty_event_delete AFTER DELETE ON assignment_event "
        f"WHEN OLD.customer_id IS NOT NULL BEGIN {_MARK}VALUES (OLD.customer_id); END"
    ),
    "persistency_dirty_batch_update": (
        "CREATE TRIGGER persistency_dirty_batch_update AFTER UPDATE OF undone_at, kind "
        "ON change_batch WHEN OLD.undone_at IS NOT NEW.undone_at OR OLD.kind IS NOT NEW.kind "
        f"BEGIN {_MARK}SELECT DISTINCT customer_id FROM assignment_event "
        "WHERE batch_id = NEW.id AND customer_id IS NOT NULL; END"
    ),
}


def _changed(columns: tuple[str, ...]) -> str:
    """An old row ``o`` and its new row ``n`` differ in one of ``columns``."""
    old, new = (", ".join(f"{r}.{c}" for c in columns) for r in ("o", "n"))
    return f"({old}) IS DISTINCT FROM ({new})"


_PG_CUSTOMER_CHANGED = _changed(WATCHED)
_PG_EVENT_CHANGED = _changed(EVENT_WATCHED)
PG_FUNCTIONS = {
    "persistency_dirty_customer": (
        "CREATE FUNCTION persistency_dirty_customer() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  {_MARK}SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id\n"
        f"    WHERE {_PG_CUSTOMER_CHANGED};\n"
        "  RETURN NULL;\n"
        "END $$"
    ),
    "persistency_dirty_event": (
        "CREATE FUNCTION persistency_dirty_event() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"    {_MARK}SELECT customer_id FROM new_rows WHERE customer_id IS NOT NULL;\n"
        "  ELSIF TG_OP = 'DELETE' THEN\n"
        f"    {_MARK}SELECT customer_id FROM old_rows WHERE customer_id IS NOT NULL;\n"
        "  ELSE\n"
        f"    {_MARK}SELECT c FROM (\n"
        "      SELECT o.customer_id AS c FROM old_rows o JOIN new_rows n ON n.id = o.id\n"
        f"        WHERE {_PG_EVENT_CHANGED}\n"
        "      UNION SELECT n.customer_id FROM old_rows o JOIN new_rows n ON n.id = o.id\n"
        f"        WHERE {_PG_EVENT_CHANGED}\n"
        "    ) moved WHERE c IS NOT NULL;\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    ),
    "persistency_dirty_batch": (
        "CREATE FUNCTION persistency_dirty_batch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  {_MARK}SELECT DISTINCT e.customer_id FROM assignment_event e\n"
        "    JOIN new_rows n ON n.id = e.batch_id JOIN old_rows o ON o.id = n.id\n"
        "    WHERE e.customer_id IS NOT NULL\n"
        "      AND (o.undone_at, o.kind) IS DISTINCT FROM (n.undone_at, n.kind);\n"
        "  RETURN NULL;\n"
        "END $$"
    ),
}
PG_TRIGGERS = {
    "persistency_dirty_customer_update": (
        "CREATE TRIGGER persistency_dirty_customer_update AFTER UPDATE ON customer "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_customer()"
    ),
    "persistency_dirty_event_insert": (
        "CREATE TRIGGER persistency_dirty_event_insert AFTER INSERT ON assignment_event "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_event()"
    ),
    "persistency_dirty_event_update": (
        "CREATE TRIGGER persistency_dirty_event_update AFTER UPDATE ON assignment_event "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_event()"
    ),
    "persistency_dirty_event_delete": (
        "CREATE TRIGGER persistency_dirty_event_delete AFTER DELETE ON assignment_event "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_event()"
    ),
    "persistency_dirty_batch_update": (
        "CREATE TRIGGER persistency_dirty_batch_update AFTER UPDATE ON change_batch "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION persistency_dirty_batch()"
    ),
}


def trigger_statements(dialect: str) -> list[str]:
    """Return the statements that create the triggers on a database of ``dialect``."""
    if dialect == "postgresql":
        return [*PG_FUNCTIONS.values(), *PG_TRIGGERS.values()]
    if dialect == "sqlite":
        return list(SQLITE_TRIGGERS.values())
    raise ValueError(f"no persistency triggers for {dialect}")


create_with_schema(trigger_statements, pg_functions=PG_FUNCTIONS)


# -- the policies' log ----------------------------------------------------------------------------

# The policy columns a base row copies; the premium due columns it copies or is chosen by.
POLICY_WATCHED = ("customer_id", "status", "status_date", "payment_mode", "product")
DUE_WATCHED = ("policy_id", "policy_year", "due_date", "amount_due_fen", "amount_received_fen",
               "received_on")  # fmt: skip
_YEARS = ", ".join(str(y) for y in BASE_YEARS)
_POLICY_MARK = "INSERT INTO policy_dirty (policy_id) "

SQLITE_POLICY_TRIGGERS = {
    "policy_dirty_policy_update": (
        f"CREATE TRIGGER policy_dirty_policy_update AFTER UPDATE OF {', '.join(POLICY_WATCHED)} "
        "ON policy WHEN "
        + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in POLICY_WATCHED)
        + f" BEGIN {_POLICY_MARK}VALUES (NEW.id); END"
    ),
    "policy_dirty_policy_delete": (
        "CREATE TRIGGER policy_dirty_policy_delete AFTER DELETE ON policy "
        f"BEGIN {_POLICY_MARK}VALUES (OLD.id); END"
    ),
    "policy_dirty_due_insert": (
        "CREATE TRIGGER policy_dirty_due_insert AFTER INSERT ON premium_due "
        f"WHEN NEW.policy_year IN ({_YEARS}) BEGIN {_POLICY_MARK}VALUES (NEW.policy_id); END"
    ),
    "policy_dirty_due_update": (
        f"CREATE TRIGGER policy_dirty_due_update AFTER UPDATE OF {', '.join(DUE_WATCHED)} "
        f"ON premium_due WHEN (OLD.policy_year IN ({_YEARS}) OR NEW.policy_year IN ({_YEARS})) "
        "AND ("
        + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in DUE_WATCHED)
        + f") BEGIN {_POLICY_MARK}VALUES (NEW.policy_id); "
        f"{_POLICY_MARK}SELECT OLD.policy_id WHERE OLD.policy_id IS NOT NEW.policy_id; END"
    ),
    "policy_dirty_due_delete": (
        "CREATE TRIGGER policy_dirty_due_delete AFTER DELETE ON premium_due "
        f"WHEN OLD.policy_year IN ({_YEARS}) BEGIN {_POLICY_MARK}VALUES (OLD.policy_id); END"
    ),
}

_PG_POLICY_CHANGED = _changed(POLICY_WATCHED)
_PG_DUE_CHANGED = _changed(DUE_WATCHED)
PG_POLICY_FUNCTIONS = {
    "policy_dirty_policy": (
        "CREATE FUNCTION policy_dirty_policy() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'DELETE' THEN\n"
        f"    {_POLICY_MARK}SELECT id FROM old_rows;\n"
        "  ELSE\n"
        f"    {_POLICY_MARK}SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id\n"
        f"      WHERE {_PG_POLICY_CHANGED};\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    ),
    "policy_dirty_due": (
        "CREATE FUNCTION policy_dirty_due() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"    {_POLICY_MARK}SELECT DISTINCT policy_id FROM new_rows\n"
        f"      WHERE policy_year IN ({_YEARS});\n"
        "  ELSIF TG_OP = 'DELETE' THEN\n"
        f"    {_POLICY_MARK}SELECT DISTINCT policy_id FROM old_rows\n"
        f"      WHERE policy_year IN ({_YEARS});\n"
        "  ELSE\n"
        f"    {_POLICY_MARK}SELECT p FROM (\n"
        "      SELECT o.policy_id AS p FROM old_rows o JOIN new_rows n ON n.id = o.id\n"
        f"        WHERE {_PG_DUE_CHANGED}\n"
        f"          AND (o.policy_year IN ({_YEARS}) OR n.policy_year IN ({_YEARS}))\n"
        "      UNION SELECT n.policy_id FROM old_rows o JOIN new_rows n ON n.id = o.id\n"
        f"        WHERE {_PG_DUE_CHANGED}\n"
        f"          AND (o.policy_year IN ({_YEARS}) OR n.policy_year IN ({_YEARS}))\n"
        "    ) changed;\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    ),
}
PG_POLICY_TRIGGERS = {
    "policy_dirty_policy_update": (
        "CREATE TRIGGER policy_dirty_policy_update AFTER UPDATE ON policy "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_policy()"
    ),
    "policy_dirty_policy_delete": (
        "CREATE TRIGGER policy_dirty_policy_delete AFTER DELETE ON policy "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_policy()"
    ),
    "policy_dirty_due_insert": (
        "CREATE TRIGGER policy_dirty_due_insert AFTER INSERT ON premium_due "
        "REFERENCING NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_due()"
    ),
    "policy_dirty_due_update": (
        "CREATE TRIGGER policy_dirty_due_update AFTER UPDATE ON premium_due "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_due()"
    ),
    "policy_dirty_due_delete": (
        "CREATE TRIGGER policy_dirty_due_delete AFTER DELETE ON premium_due "
        "REFERENCING OLD TABLE AS old_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION policy_dirty_due()"
    ),
}


def policy_trigger_statements(dialect: str) -> list[str]:
    """Return the statements that create the policies' triggers on a database of ``dialect``."""
    if dialect == "postgresql":
        return [*PG_POLICY_FUNCTIONS.values(), *PG_POLICY_TRIGGERS.values()]
    if dialect == "sqlite":
        return list(SQLITE_POLICY_TRIGGERS.values())
    raise ValueError(f"no policy triggers for {dialect}")


create_with_schema(policy_trigger_statements, pg_functions=PG_POLICY_FUNCTIONS)
