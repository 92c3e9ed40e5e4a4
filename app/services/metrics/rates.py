"""Rates as every report gives them (:func:`rate`: four decimals, half up, None on nothing)
and how far a rate on a few policies may be from the truth (:func:`wilson_interval`)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

FOUR = Decimal("0.0001")


def rate(numerator: int, denominator: int) -> Decimal | None:
    """Return numerator / denominator rounded to 4 decimals, or None for an empty denominator."""
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(FOUR, ROUND_HALF_UP)


Z95 = 1.959963984540054  # the normal quantile of a two-sided 95 % interval


def wilson_interval(rate: float, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Return the Wilson score interval of ``rate`` observed on ``n`` policies (None on none).

    A persistency rate on the premium basis is not a count of successes, so the premium rate
    stands for the share and the policies for the sample: the band reads "with this many
    policies, a rate this far either way would not be surprising". It stays inside 0–1 and is
    honest at 0 % and 100 %, where the normal approximation collapses to a point.
    """
    if n <= 0:
        return None
    p = min(max(rate, 0.0), 1.0)
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)
