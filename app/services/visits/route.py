"""A short walking order over a handful of points: nearest neighbour, then 2-opt.

The weekly visit list orders each community's stops along an open path (a walk that starts at
one customer and ends at another, no return). No routing library is used: OR-Tools is not in
the environment and would be a large dependency for paths of a few dozen points, where a
hand-written heuristic on a numpy distance matrix takes milliseconds.

- Distances are great-circle (haversine) metres between WGS84 lon/lat points: a straight line,
  not the streets, which is what a comparison of orders needs.
- ``shortest_path`` builds a nearest-neighbour path from several starting points, improves
  each with 2-opt (reverse a stretch of the path whenever that shortens it, until no reversal
  does), and keeps the shortest; should the given order be shorter still, 2-opt improves that
  one instead, so the result is never longer than it.
  On small inputs every point is tried as a start; on the tests' 7-point cases the result
  equals the brute-force optimum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EARTH_RADIUS_M = 6_371_008.8
# Every point is a nearest-neighbour start up to this many points; above it, this many starts
# spread over the points (the runtime grows with starts × n² per 2-opt pass).
ALL_STARTS_UP_TO = 12
MAX_STARTS = 4
# Non-touching reversals made in one round of 2-opt, at most.
MOVES_PER_ROUND = 32


def distance_matrix(lon: Sequence[float], lat: Sequence[float]) -> np.ndarray:
    """Return the haversine distances in metres between every pair of points."""
    lo = np.radians(np.asarray(lon, dtype=float))
    la = np.radians(np.asarray(lat, dtype=float))
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(la)[:, None] * np.cos(la)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def path_length(d: np.ndarray, order: Sequence[int]) -> float:
    """Return the length of the open path visiting ``order`` (metres)."""
    if len(order) < 2:
        return 0.0
    idx = np.asarray(order)
    return float(d[idx[:-1], idx[1:]].sum())


def nearest_neighbour(d: np.ndarray, start: int) -> list[int]:
    """Return the path that starts at ``start`` and always walks to the nearest unvisited point
    (the lowest index among equals)."""
    n = len(d)
    seen = np.zeros(n, dtype=bool)
    order = [start]
    seen[start] = True
    for _ in range(n - 1):
        row = np.where(seen, np.inf, d[order[-1]])
        nxt = int(np.argmin(row))
        order.append(nxt)
        seen[nxt] = True
    return order


def two_opt(d: np.ndarray, order: Sequence[int]) -> list[int]:
    """Return ``order`` improved by 2-opt on an open path: reverse a stretch i..j whenever the
    two new links (one at an end of the path) are shorter than the old ones, until no
    reversal gains more than a millimetre. Each round weighs every reversal at once and makes
    the best ones whose stretches do not touch (their gains do not interact), best first."""
    path = np.asarray(order, dtype=int)
    n = len(path)
    if n < 3:
        return path.tolist()
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    while True:
        gain = _gains(d, path)
        gain[~upper] = 0.0
        flat = np.flatnonzero(gain > 1e-3)
        if not len(flat):
            return path.tolist()
        best = flat[np.argsort(gain.ravel()[flat])[::-1][:MOVES_PER_ROUND]]
        taken: list[tuple[int, int]] = []
        for i, j in zip(*np.unravel_index(best, gain.shape), strict=True):
            lo, hi = int(i) - 1, int(j) + 1  # the stretch and the links it changes
            if all(hi < a or lo > b for a, b in taken):
                taken.append((lo, hi))
                path[i : j + 1] = path[i : j + 1][::-1].copy()


def _gains(d: np.ndarray, path: np.ndarray) -> np.ndarray:
    """Return gain[i, j]: metres saved by reversing the stretch i..j of the path."""
    n = len(path)
    m = d[np.ix_(path, path)]  # distances in path order
    links = np.diagonal(m, offset=1)  # link k joins positions k and k+1
    old_head = np.concatenate(([0.0], links))  # the link into i (none at the start)
    old_tail = np.concatenate((links, [0.0]))  # the link out of j (none at the end)
    new_head = np.zeros((n, n))
    new_head[1:, :] = m[:-1, :]  # i-1 → j
    new_tail = np.zeros((n, n))
    new_tail[:, :-1] = m[:, 1:]  # i → j+1
    return old_head[:, None] + old_tail[None, :] - new_head - new_tail


def _starts(n: int) -> list[int]:
    if n <= ALL_STARTS_UP_TO:
        return list(range(n))
    return sorted({round(k * (n - 1) / (MAX_STARTS - 1)) for k in range(MAX_STARTS)})


def shortest_path(d: np.ndarray) -> list[int]:
    """Return a short open path over every point of the distance matrix ``d``: the best of
    2-opt applied to nearest-neighbour paths from several starts (see the module's notes);
    never longer than the given order 0..n-1, which 2-opt improves instead in the rare case
    that it is shorter."""
    n = len(d)
    if n < 3:
        return list(range(n))
    best: list[int] = []
    best_len = np.inf
    for start in _starts(n):
        path = two_opt(d, nearest_neighbour(d, start))
        length = path_length(d, path)
        if length < best_len - 1e-6:
            best, best_len = path, length
    if best_len > path_length(d, range(n)):
        return two_opt(d, range(n))
    return best


def route(lon: Sequence[float], lat: Sequence[float]) -> tuple[list[int], float, float]:
    """Return (visiting order, its length, the length in the given order) over the points,
    lengths in metres."""
    d = distance_matrix(lon, lat)
    order = shortest_path(d)
    return order, path_length(d, order), path_length(d, range(len(d)))


def length_of(lon: Sequence[float], lat: Sequence[float]) -> float:
    """Return the length in metres of the open path through the points in the given order."""
    if len(lon) < 2:
        return 0.0
    lo = np.radians(np.asarray(lon, dtype=float))
    la = np.radians(np.asarray(lat, dtype=float))
    dlat, dlon = np.diff(la), np.diff(lo)
    a = np.sin(dlat / 2) ** 2 + np.cos(la[:-1]) * np.cos(la[1:]) * np.sin(dlon / 2) ** 2
    return float((2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))).sum())
