"""The first-contact delay bands persistency is grouped by (persistency by hand-off delay):
the days from pool entry to first contact, in bands, and never. Shared by the persistency
report (its ``contact_band`` grouping) and the hand-off clock."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, literal, null, or_

from app.models import Customer
from app.services.database.sqlfuncs import days_between

# The delay bands of persistency by hand-off delay: (key, first day, last day); never is apart.
BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-30", 8, 30),
    ("31-90", 31, 90),
    ("91+", 91, None),
)
NEVER = "never"
BAND_KEYS = (*(b[0] for b in BANDS), NEVER)


def band_of(delay: int | None) -> str:
    """Return the delay band of a number of days to first contact (None: never)."""
    if delay is None:
        return NEVER
    for key, low, high in BANDS:
        if delay >= low and (high is None or delay <= high):
            return key
    return BANDS[0][0]  # a negative delay: contact before pool entry counts as day 0


def contact_band_expr(as_of: date):
    """The SQL expression of a customer's first-contact delay band as of ``as_of`` (read
    beside ``Customer``); null for a customer who never entered the pool."""
    contact = Customer.pre_sell_on
    delay = days_between(contact, Customer.pool_entered_on)
    whens = [
        (Customer.pool_entered_on.is_(None), null()),
        (or_(contact.is_(None), contact > as_of), literal(NEVER)),
        *((delay <= high, literal(key)) for key, _low, high in BANDS if high is not None),
    ]
    return case(*whens, else_=literal(BANDS[-1][0]))
