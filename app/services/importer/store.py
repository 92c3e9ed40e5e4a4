"""Writing parsed rows by key: rows already in the database are updated, the others inserted,
each as one executemany statement per chunk.

Only the columns the file has are written on update, so a file without, say, the received
amounts does not wipe them. A NOT NULL column with a default keeps its value when the file's
cell is empty, and gets its default on insert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

LOOKUP_CHUNK = 2_000


@dataclass(frozen=True)
class Target:
    """A table rows are written to, and how they are found again."""

    table: Table
    key: tuple[str, ...]  # database columns identifying a row
    probe: str  # the key column to look rows up by (IN), the rest filtered after
    defaults: dict[str, object] = field(default_factory=dict)
    insert_only: tuple[str, ...] = ()  # set when the row is created, never changed after
    versioned: bool = False  # has an optimistic-locking "version" column to bump


@dataclass
class Saved:
    inserted: int = 0
    updated: int = 0
    ids: dict[tuple, int] = field(default_factory=dict)  # key -> id (when asked for)


def table_of(model: type) -> Table:
    """Return the Core table of a mapped class."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def lookup_ids(session: Session, column, values: Iterable[Any], *, where=None) -> dict:
    """Return {value: id} of the rows whose ``column`` is one of ``values`` (chunked IN)."""
    vals = sorted({v for v in values if v is not None})
    table = column.table
    out: dict = {}
    for i in range(0, len(vals), LOOKUP_CHUNK):
        stmt = select(column, table.c.id).where(column.in_(vals[i : i + LOOKUP_CHUNK]))
        if where is not None:
            stmt = stmt.where(where)
        out.update(session.execute(stmt).all())
    return out


def existing_ids(session: Session, target: Target, keys: Iterable[tuple]) -> dict[tuple, int]:
    """Return {key: id} of the rows with these keys that are in the table."""
    t = target.table
    keys = set(keys)
    pos = target.key.index(target.probe)
    probes = sorted({k[pos] for k in keys})
    cols = [t.c[k] for k in target.key]
    out: dict[tuple, int] = {}
    for i in range(0, len(probes), LOOKUP_CHUNK):
        stmt = select(t.c.id, *cols).where(t.c[target.probe].in_(probes[i : i + LOOKUP_CHUNK]))
        for row_id, *key in session.execute(stmt).all():
            k = tuple(key)
            if k in keys:
                out[k] = row_id
    return out


def save(session: Session, target: Target, rows: list[dict], *, want_ids: bool = False) -> Saved:
    """Insert or update ``rows`` (dicts of database columns, all with the same columns) by key;
    return the counts and, with ``want_ids``, the id of every row by key."""
    saved = Saved()
    if not rows:
        return saved
    t = target.table
    keyed = [(tuple(r[k] for k in target.key), r) for r in rows]
    found = existing_ids(session, target, (k for k, _ in keyed))
    new = [r for k, r in keyed if k not in found]
    old = [(found[k], r) for k, r in keyed if k in found]
    if new:
        for r in new:
            for col, default in target.defaults.items():
                if r.get(col) is None:
                    r[col] = default
        session.execute(insert(t), new)
    changing = [c for c in rows[0] if c not in target.key and c not in target.insert_only]
    if old and changing:
        values: dict[str, Any] = {}
        for c in changing:
            param = bindparam(f"v_{c}", type_=t.c[c].type)
            values[c] = func.coalesce(param, t.c[c]) if c in target.defaults else param
        # Rows the file leaves as they are are not rewritten (nor their version bumped, which
        # would fail a rebalance plan made before a nightly re-import for no reason).
        differs = or_(*(t.c[c].is_distinct_from(v) for c, v in values.items()))
        if target.versioned:
            values["version"] = t.c.version + 1
        stmt = update(t).where(t.c.id == bindparam("v__id"), differs).values(values)
        names = [f"v_{c}" for c in changing]
        params = []
        for i, r in old:
            p = dict(zip(names, [r[c] for c in changing], strict=True))
            p["v__id"] = i
            params.append(p)
        session.execute(stmt, params)
    saved.inserted, saved.updated = len(new), len(old)
    if want_ids:
        saved.ids = dict(found)
        if new:
            saved.ids.update(existing_ids(session, target, (k for k, _ in keyed if k not in found)))
    return saved
