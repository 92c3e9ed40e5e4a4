"""A faster ``randint`` for the generator's hot loops (``random.randint`` costs ~4 calls)."""

from __future__ import annotations

import random


def ri(rng: random.Random, a: int, b: int) -> int:
    """Return a random integer N with a <= N <= b, drawn from ``rng``."""
    return a + int(rng.random() * (b - a + 1))
