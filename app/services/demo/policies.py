"""Policies of the demo book and the life of their premium dues: paid, late, partial or lapsed."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from app.models.enums import PaymentMode, PolicyStatus
from app.services.demo.dates import add_months
from app.services.demo.rand import ri

GRACE_DAYS = 60


@dataclass(frozen=True)
class Product:
    name: str
    weight: float
    annual_yuan: tuple[int, int]  # range of the annual premium
    single_ok: bool = False
    claim_prone: bool = False


PRODUCTS: tuple[Product, ...] = (
    Product("鑫享人生年金保险", 18, (6_000, 50_000), single_ok=True),
    Product("福满堂终身寿险", 16, (3_000, 20_000)),
    Product("康宁重大疾病保险", 20, (2_000, 12_000), claim_prone=True),
    Product("金瑞人生两全保险（分红型）", 14, (5_000, 30_000), single_ok=True),
    Product("鸿鑫增额终身寿险", 10, (10_000, 80_000), single_ok=True),
    Product("乐享一生医疗保险", 8, (800, 3_000)),
    Product("少儿成长教育年金保险", 8, (3_000, 15_000)),
    Product("安康福寿防癌疾病保险", 6, (1_500, 6_000), claim_prone=True),
)
_PRODUCT_CUM = list(itertools.accumulate(p.weight for p in PRODUCTS))
_MODES = (
    (PaymentMode.ANNUAL, 76),
    (PaymentMode.SEMIANNUAL, 6),
    (PaymentMode.QUARTERLY, 6),
    (PaymentMode.MONTHLY, 5),
    (PaymentMode.SINGLE, 7),
)
_MODE_VALUES = [m for m, _ in _MODES]
_MODE_CUM = list(itertools.accumulate(w for _, w in _MODES))
# Modal factors: paying more often costs a little more over the year.
_MODAL_FACTOR = {
    PaymentMode.ANNUAL: 1.0,
    PaymentMode.SEMIANNUAL: 0.52,
    PaymentMode.QUARTERLY: 0.265,
    PaymentMode.MONTHLY: 0.09,
}


@dataclass(frozen=True)
class PolicyDraft:
    product: Product
    mode: PaymentMode
    issue: date
    modal_fen: int


@dataclass
class DueDraft:
    year: int
    due: date
    amount_fen: int
    received_fen: int
    received_on: date | None
    first_of_year: bool
    # Settled badly: unpaid past the grace period (lapse) or paid after it.
    missed: bool = False


@dataclass
class PolicyLife:
    dues: list[DueDraft]
    status: PolicyStatus
    status_date: date | None


def draw_policy(rng: random.Random, *, issue: date, annual: bool = False) -> PolicyDraft:
    """Return a product, payment mode and modal premium for a policy issued on ``issue``."""
    product = rng.choices(PRODUCTS, cum_weights=_PRODUCT_CUM)[0]
    mode = PaymentMode.ANNUAL if annual else rng.choices(_MODE_VALUES, cum_weights=_MODE_CUM)[0]
    if mode is PaymentMode.SINGLE and not product.single_ok:
        mode = PaymentMode.ANNUAL
    lo, hi = product.annual_yuan
    yearly = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if mode is PaymentMode.SINGLE:
        yuan = round(yearly * rng.uniform(5, 10), -3)
    else:
        yuan = round(round(yearly, -1) * _MODAL_FACTOR[mode])
    return PolicyDraft(product, mode, issue, int(yuan) * 100)


def _receipt_offset(rng: random.Random) -> int:
    """Days from due date to payment for someone who pays within the grace period: most pay by
    the due date (the bank debit, or the specialist's reminder weeks ahead), some in the two
    weeks after it, a few late in the grace period."""
    u = rng.random()
    if u < 0.65:
        return -ri(rng, 0, 30)
    if u < 0.9:
        return ri(rng, 1, 14)
    if u < 0.97:
        return ri(rng, 15, 30)
    return ri(rng, 31, GRACE_DAYS)


def simulate_policy(
    rng: random.Random,
    draft: PolicyDraft,
    *,
    as_of: date,
    horizon: date,
    pay_chance: Callable[[date, int], float],
) -> PolicyLife:
    """Return the dues of a policy from issue to ``horizon`` and its status on ``as_of``.

    ``pay_chance(due, policy_year)`` is the chance that the first due of a policy year is paid in
    full within the grace period; instalments inside a year are nearly always paid."""
    per_year = draft.mode.per_year
    step = 12 // per_year if per_year else 0
    end: tuple[PolicyStatus, date] | None = None
    u = rng.random()
    if u < 0.004:
        end = (PolicyStatus.DEATH, draft.issue + timedelta(days=ri(rng, 60, 1500)))
    elif u < (0.02 if draft.product.claim_prone else 0.008):
        end = (PolicyStatus.CLAIM, draft.issue + timedelta(days=ri(rng, 90, 1500)))
    elif u < 0.045 and per_year:
        end = (PolicyStatus.SURRENDERED, draft.issue + timedelta(days=ri(rng, 200, 1500)))
    if end and end[1] > as_of:
        end = None
    dues: list[DueDraft] = []
    pending = False
    i = 0
    while True:
        due = add_months(draft.issue, i * step) if i else draft.issue
        if due > horizon or (end and due > end[1]) or (i and not per_year):
            break
        year = i // per_year + 1 if per_year else 1
        first = per_year == 0 or i % per_year == 0
        amount = draft.modal_fen
        if i == 0:
            dues.append(DueDraft(year, due, amount, amount, due, True))
            i += 1
            continue
        p = pay_chance(due, year) if first else 0.985
        row = DueDraft(year, due, amount, 0, None, first)
        if pending:
            received_on = None
        elif rng.random() < p:
            received_on = due + timedelta(days=_receipt_offset(rng))
            if first and rng.random() < 0.03:
                row.received_fen = int(amount * rng.uniform(0.3, 0.85)) // 100 * 100
            else:
                row.received_fen = amount
        elif rng.random() < 0.3:
            received_on = due + timedelta(days=ri(rng, GRACE_DAYS + 1, 200))
            row.received_fen = amount
            row.missed = True
        else:
            received_on = None
            row.missed = True
        if received_on is not None and received_on > as_of:
            received_on, row.received_fen = None, 0
        row.received_on = received_on
        dues.append(row)
        if received_on is None:
            lapse_on = due + timedelta(days=GRACE_DAYS)
            if lapse_on <= as_of:
                return PolicyLife(dues, PolicyStatus.LAPSED, lapse_on)
            pending = True
        i += 1
    if end:
        return PolicyLife(dues, end[0], end[1])
    return PolicyLife(dues, PolicyStatus.IN_FORCE, None)
