"""One pool customer's story: who served them when, and how far up the 4-sell ladder they went."""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.services.demo.staff import SpecPlan

# Chance that the first due of a policy year is paid within the grace period: while the agent was
# still there, once the customer was orphaned with nobody serving, and the specialists' uplift.
P_AGENT = 0.74
P_ORPHAN = 0.62
UPLIFT = 0.21
# The programme's premise: a customer reached soon after losing their agent keeps paying more
# often. Days from pool entry to first contact (the last bound open) -> change in that chance.
CONTACT_EFFECT = ((7, 0.06), (30, 0.0), (90, -0.12), (None, -0.18))


@dataclass
class Story:
    """A pool customer as the generator sees them (specialists as plan indexes)."""

    customer_id: int
    name: str
    phone: str | None
    agent_left: date  # pool entry
    matched: date  # auto-match: pool entry, or the pilot's start for the backlog before it
    matched_at: datetime
    grid: int | None
    days: list[date] = field(default_factory=list)  # when the serving specialist changed
    specs: list[int | None] = field(default_factory=list)
    level: int = 0  # 4-sell step the customer will have reached by the as-of date
    steps: list[date] = field(default_factory=list)  # the day each reached step was reached

    def serving(self, day: date) -> int | None:
        """Return the specialist serving the customer at the end of ``day``."""
        k = bisect.bisect_right(self.days, day)
        return self.specs[k - 1] if k else None

    @property
    def current(self) -> int | None:
        return self.specs[-1] if self.specs else None

    def served_until(self, as_of: date) -> date:
        """Return the last day, up to ``as_of``, before the customer first lost their specialist."""
        for day, spec in zip(self.days, self.specs, strict=True):
            if spec is None and day > self.matched:
                return day - timedelta(days=1)
        return as_of if self.specs and self.specs[0] is not None else self.matched


def lognormal_days(rng: random.Random, median: float, sigma: float = 0.8) -> int:
    return int(median * math.exp(rng.gauss(0.0, sigma)))


def climb(rng: random.Random, story: Story, spec: SpecPlan | None, *, as_of: date) -> None:
    """Set how far the customer climbs the ladder, and when, cut off at the as-of date or when
    the customer loses their specialist."""
    if spec is None:
        return
    f = spec.funnel
    chances = (
        min(0.97, 0.9 * math.sqrt(f)),
        min(0.95, 0.78 * f),
        min(0.9, 0.36 * f),
        min(0.9, 0.32 * f),
    )
    medians = (3.0, 25.0, 50.0, 40.0)
    until = story.served_until(as_of)
    day = story.matched
    for chance, median in zip(chances, medians, strict=True):
        if rng.random() >= chance:
            break
        day = day + timedelta(days=lognormal_days(rng, median * spec.speed))
        if day > until:
            break
        story.steps.append(day)
    story.level = len(story.steps)


def contact_effect(story: Story) -> float:
    """Return how the days from pool entry to first contact move the chance to pay (0 for a
    customer never contacted: ``engaged`` counts that already)."""
    if not story.steps:
        return 0.0
    delay = (story.steps[0] - story.agent_left).days
    for bound, effect in CONTACT_EFFECT:
        if bound is None or delay <= bound:
            return effect
    return 0.0


def pay_chance(
    story: Story,
    due: date,
    year: int,
    *,
    specs: list[SpecPlan],
    team_effect: list[float],
    pilot_start: date,
) -> float:
    """Return the chance that this first due of a policy year is paid within the grace period."""
    if due < story.agent_left:
        p = P_AGENT
    else:
        s = story.serving(due)
        if s is None:
            p = P_ORPHAN
        else:
            spec = specs[s]
            # The specialist needs a few weeks with a customer, and the programme a few months,
            # before collections reach their best.
            ramp = min(1.0, max(0, (due - story.matched).days + 45) / 90)
            maturity = min(1.0, 0.6 + (due - pilot_start).days / 300)
            engaged = 0.02 if story.level >= 2 else (-0.04 if story.level == 0 else 0.0)
            p = P_AGENT - 0.02 + UPLIFT * ramp * maturity + spec.effect
            p += team_effect[spec.team] + engaged + contact_effect(story)
    if year >= 3:
        p += 0.04
    return max(0.3, min(0.97, p))
