"""Writing parsed rows by key: rows already in the database are updated, the others inserted,
each as one executemany statement per chunk.

Only the columns the file has are written on update, so a file without, say, the received
amounts does not wipe them. A NOT NULL column with a default keeps its value when the file's
cell is empty, and gets its default on insert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app.services.database.sqlfuncs import one_of

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
    written: list[dict] = field(default_factory=list)  # the rows inserted or changed


def table_of(model: type) -> Table:
    """Return the Core table of a mapped class."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def lookup_ids(session: Session, column, values: Iterable[Any], *, where=None) -> dict:
    """Return {value: id} of the rows whose ``column`` is one of ``values`` (chunked IN)."""
    vals = sorted({v for v in values if v is not None})
    table = column.table
    out: dict = {}
    for i in range(0, len(vals), LOOKUP_CHUNK):
        stmt = select(column, table.c.id).where(one_of(session, column, vals[i : i + LOOKUP_CHUNK]))
        if where is not None:
            stmt = stmt.where(where)
        out.update(session.execute(stmt).all())
    return out


def existing_rows(
    session: Session, target: Target, keys: Iterable[tuple], columns: Sequence[str] = ()
) -> dict[tuple, tuple]:
    """Return {key: (id, *values of ``columns``)} of the rows with these keys in the table."""
    t = target.table
    keys = set(keys)
    pos = target.key.index(target.probe)
    probes = sorted({k[pos] for k in keys})
    width = len(target.key)
    out: dict[tuple, tuple] = {}
    for i in range(0, len(probes), LOOKUP_CHUNK):
        chunk = probes[i : i + LOOKUP_CHUNK]
        stmt = select(*(t.c[k] for k in target.key), t.c.id, *(t.c[c] for c in columns))
        for row in session.execute(stmt.where(one_of(session, t.c[target.probe], chunk))).all():
            key = tuple(row[:width])
            if key in keys:
                out[key] = tuple(row[width:])
    return out


def save(session: Session, target: Target, rows: list[dict], *, want_ids: bool = False) -> Saved:
    """Insert or update ``rows`` (dicts of database columns, all with the same columns) by key;
    return the counts and, with ``want_ids``, the id of every row by key.

    Rows already there are rewritten only where the file changes them: a nightly re-import
    of an unchanged file writes nothing (and bumps no version, which would fail a rebalance
    plan made before it for no reason).
    """
    saved = Saved()
    if not rows:
        return saved
    t = target.table
    changing = [c for c in rows[0] if c not in target.key and c not in target.insert_only]
    keyed = [(tuple(r[k] for k in target.key), r) for r in rows]
    found = existing_rows(session, target, (k for k, _ in keyed), changing)
    new, changed = [], []
    for k, r in keyed:
        current = found.get(k)
        if current is None:
            for col, default in target.defaults.items():
                if r.get(col) is None:
                    r[col] = default
            new.append(r)
            continue
        differs = False
        for c, now in zip(changing, current[1:], strict=True):
            if r[c] is None and c in target.defaults:
                r[c] = now  # an empty cell keeps a value that cannot be empty
            elif r[c] != now:
                differs = True
        if differs:
            changed.append((current[0], r))
    if new:
        session.execute(insert(t), new)
    if changed:
        values: dict[str, Any] = {c: bindparam(f"v_{c}", type_=t.c[c].type) for c in changing}
        if target.versioned:
            values["version"] = t.c.version + 1
        stmt = update(t).where(t.c.id == bindparam("v__id")).values(values)
        names = [f"v_{c}" for c in changing]
        params = []
        for row_id, r in changed:
            p = dict(zip(names, [r[c] for c in changing], strict=True))
            p["v__id"] = row_id
            params.append(p)
        session.execute(stmt, params)
    saved.inserted, saved.updated = len(new), len(keyed) - len(new)
    saved.written = new + [r for _, r in changed]
    if want_ids:
        saved.ids = {k: v[0] for k, v in found.items()}
        if new:
            added = existing_rows(session, target, (k for k, _ in keyed if k not in found))
            saved.ids.update((k, v[0]) for k, v in added.items())
    return saved
