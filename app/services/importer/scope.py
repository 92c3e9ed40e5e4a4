"""Keeping an import inside its branch.

Every number a file refers to (customer, policy, specialist, agent, team, grid) is looked up
among the branch's own rows. Customer, policy, specialist, agent and task numbers are unique
across the whole database, so a row whose number belongs to another branch is refused rather
than written: an import never changes another branch's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Customer, Policy, Task
from app.services.database.sqlfuncs import one_of
from app.services.importer.store import LOOKUP_CHUNK, lookup_ids


def in_branch(model: type, branch_id: int, *, inside: bool = True) -> ColumnElement[bool]:
    """Return the condition that a row of ``model`` belongs to the branch (or, with
    ``inside=False``, to another one). Policies and tasks belong to their customer's branch."""
    if model in (Policy, Task):
        branch = Customer.branch_id == branch_id if inside else Customer.branch_id != branch_id
        return model.customer_id.in_(select(Customer.id).where(branch))  # type: ignore[attr-defined]
    column = model.branch_id  # type: ignore[attr-defined]
    return column == branch_id if inside else column != branch_id


def _model(column: InstrumentedAttribute) -> type:
    return cast(type, column.class_)


def ids_in_branch(
    session: Session, column: InstrumentedAttribute, values: Iterable[Any], branch_id: int
) -> dict[Any, int]:
    """Return {value: id} of the branch's rows whose ``column`` is one of ``values``."""
    return lookup_ids(session, column, values, where=in_branch(_model(column), branch_id))


def elsewhere(
    session: Session, column: InstrumentedAttribute, values: Iterable[Any], branch_id: int
) -> set[Any]:
    """Return the ``values`` of ``column`` that rows of other branches hold."""
    where = in_branch(_model(column), branch_id, inside=False)
    return set(lookup_ids(session, column, values, where=where))


def policies_in_branch(
    session: Session, numbers: Iterable[str | None], branch_id: int
) -> dict[str, tuple[int, int, str]]:
    """Return {policy number: (policy id, customer id, customer number)} of the branch's
    policies among ``numbers``."""
    wanted = sorted({n for n in numbers if n is not None})
    out: dict[str, tuple[int, int, str]] = {}
    for i in range(0, len(wanted), LOOKUP_CHUNK):
        stmt = (
            select(Policy.policy_no, Policy.id, Customer.id, Customer.customer_no)
            .join(Customer, Customer.id == Policy.customer_id)
            .where(one_of(session, Policy.policy_no, wanted[i : i + LOOKUP_CHUNK]))
            .where(Customer.branch_id == branch_id)
        )
        out.update((no, (pid, cid, cno)) for no, pid, cid, cno in session.execute(stmt))
    return out


def owned_elsewhere(
    session: Session, column: InstrumentedAttribute, rows: list[tuple[int, Any]], branch_id: int,
    *, file_column: str, what: str,
) -> list[tuple[int, str, str]]:  # fmt: skip
    """Return a problem for every (row, number) whose number belongs to another branch."""
    taken = elsewhere(session, column, (n for _, n in rows), branch_id)
    return [
        (
            row,
            file_column,
            f"{what} '{n}' belongs to another branch: it cannot be imported into this one",
        )  # fmt: skip
        for row, n in rows
        if n in taken
    ]
