"""Keeps the persistency_base table (one row per policy and policy year 2 or 3) current."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session


def refresh_persistency_base(
    session: Session,
    *,
    policy_ids: Iterable[int] | None = None,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Rebuild the persistency base rows of the given policies or customers (all when both are
    None) from policies, dues and the assignment history; return the number of rows written."""
    raise NotImplementedError("metrics helper implements this")
