"""The rebalancing model's plain types: the items the optimiser reads (specialists, grids,
customers of a grid that may move on their own), the moves and the proposal it returns, the
indexed :class:`Problem` every solver step works on, and how much work a proposal may do
(:class:`Effort`). A leaf: it imports no other part of the rebalancer, so the solver steps
(:mod:`.capacity`, :mod:`.construct`, :mod:`.search`, :mod:`.exact`, :mod:`.region`) and the
optimiser that calls them (:mod:`.optimise`) all read it without importing each other back."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

GRID = "grid"
CUSTOMER = "customer"

# Local flat-earth approximation: good to well under 1 % across a city.
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320


# The clock only stops a search that has run far longer than its work needs (a very slow or
# very busy computer); normal runs end on their work limits, so their plans never depend on it.
SAFETY_LIMIT_S = 60.0

_clock_stops: ContextVar[list[str] | None] = ContextVar("clock_stops", default=None)


@contextmanager
def clock_stops() -> Iterator[list[str]]:
    """Collect the steps the safety net stopped while the block runs (in this thread)."""
    found: list[str] = []
    token = _clock_stops.set(found)
    try:
        yield found
    finally:
        _clock_stops.reset(token)


def stopped_by_clock(step: str) -> None:
    """Note that the safety net stopped ``step`` before its work was done: the plan then
    depends on how fast the computer was, and says so."""
    found = _clock_stops.get()
    if found is not None and step not in found:
        found.append(step)


def out_of_time(deadline: float, step: str, margin: float = 0.0) -> bool:
    """Return whether the safety net's time is up (``margin`` seconds before ``deadline``),
    noting ``step`` as stopped when it is."""
    if time.perf_counter() + margin < deadline:
        return False
    stopped_by_clock(step)
    return True


@dataclass(frozen=True)
class Effort:
    """How much a proposal searches, counted in work rather than seconds, so that the same
    data and settings give the same plan on any computer of the same platform.

    Measured on the benchmark (2,000 grids, 200 specialists, 2 shared cores): about 3 s a
    proposal. Smaller branches end sooner, when the search stops improving."""

    # Steps of the tabu search (each the best hand-over off a few of the most loaded).
    tabu_steps: int = 4000
    # Steps without a better plan after which the tabu search ends.
    patience: int = 3000
    # Branch-and-bound nodes of the MILP polish (HiGHS, one thread).
    milp_nodes: int = 10
    # Regions solved by the large-neighbourhood search, and nodes per region (the root node's
    # heuristics find nearly all a region gives).
    regions: int = 6
    region_nodes: int = 1
    # Nodes of the MILP that first brings everybody within capacity (when someone is above).
    capacity_nodes: int = 50
    # Nodes of each least-disruption MILP behind the trade-off (one per ceiling).
    tradeoff_nodes: int = 20


@dataclass(frozen=True)
class SpecialistItem:
    """One active specialist as the optimiser sees them: today's load and customers."""

    id: int
    load: float
    customers: int
    capacity: int
    team_id: int | None = None


@dataclass(frozen=True)
class CustomerItem:
    """One customer of a grid that could move on their own (a grid too heavy as a whole)."""

    id: int
    load: float
    locked: bool = False


@dataclass(frozen=True)
class GridItem:
    """One grid: who owns it and the load that would go with it to a new owner."""

    id: int
    owner_id: int | None
    # The owner's unlocked customers in the grid, with their open tasks and premium due.
    load: float
    customers: int
    centroid: tuple[float, float]  # lon, lat
    neighbours: tuple[int, ...] = ()
    locked: bool = False
    # Needed only for grids that may be split; empty otherwise.
    customer_items: tuple[CustomerItem, ...] = ()


@dataclass(frozen=True)
class Move:
    """A grid, or one customer of a grid, handed from one specialist to another."""

    kind: str  # GRID or CUSTOMER
    grid_id: int
    from_id: int
    to_id: int
    load: float
    customers: int
    customer_id: int | None = None


@dataclass(frozen=True)
class Proposal:
    """The moves proposed and what they do to the workloads."""

    moves: tuple[Move, ...]
    before: dict[int, float]  # specialist id -> load today
    after: dict[int, float]  # specialist id -> load after the moves
    before_max: float
    after_max: float
    # No plan under the same rules can bring the largest load below this (LP relaxation).
    lower_bound: float
    seconds: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    # The solver steps that failed (app.services.rebalance.highs.run): the plan is then what
    # the other steps found, and says so.
    solver_failures: tuple[str, ...] = ()
    # The steps the safety net stopped before their work was done (a very slow or busy
    # computer): the plan may then differ from one made again.
    clock_stops: tuple[str, ...] = ()
    # Other plans, grid moves only, each the least disruptive under a ceiling on the largest
    # workload (:mod:`app.services.rebalance.tradeoff`); given when grid costs were.
    alternatives: tuple[tuple[Move, ...], ...] = ()

    @property
    def grid_moves(self) -> int:
        return sum(1 for m in self.moves if m.kind == GRID)

    @property
    def customer_moves(self) -> int:
        return sum(1 for m in self.moves if m.kind == CUSTOMER)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the distance in km between two lon/lat points (flat-earth, city scale)."""
    mid_lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * KM_PER_DEG_LON_EQUATOR * math.cos(mid_lat)
    dy = (a[1] - b[1]) * KM_PER_DEG_LAT
    return math.hypot(dx, dy)


@dataclass
class Problem:
    """The optimiser's indexed view of the items: specialists 0..S-1, movable grids 0..G-1."""

    spec_ids: list[int]
    grid_ids: list[int]  # movable grids only
    owner: list[int]  # index of today's owner of each movable grid
    gload: list[float]
    gcust: list[int]
    eligible: list[list[int]]  # specialist indices that may take each grid (owner first)
    base: list[float]  # load that stays with each specialist whatever moves
    base_cust: list[int]
    cap: list[int]  # the most customers each specialist may end with
    load0: list[float]
    grid_index: dict[int, int]
    spec_index: dict[int, int]
    # The most customers each specialist should end with (capacity first: see
    # :mod:`app.services.rebalance.capacity`); ``cap`` until that step sets it.
    limit: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.limit:
            self.limit = list(self.cap)

    @property
    def n_specs(self) -> int:
        return len(self.spec_ids)

    @property
    def n_grids(self) -> int:
        return len(self.grid_ids)

    def moved(self, assign: Sequence[int], grids: Iterable[int] | None = None) -> int:
        """Return how many grids ``assign`` gives to someone other than today's owner (among
        ``grids`` only, when given): the one count of a plan's moves the solver steps share."""
        owner = self.owner
        if grids is None:
            return sum(1 for g, s in enumerate(assign) if s != owner[g])
        return sum(1 for g in grids if assign[g] != owner[g])


def plan_ok(
    problem: Problem, assign: Sequence[int], max_moves: int | None, *, check_capacity: bool = True
) -> bool:
    """Return whether ``assign`` keeps every rule of the model: each grid with a specialist who
    may take it, the move limit and (unless not asked) the capacities."""
    p = problem
    if len(assign) != p.n_grids:
        return False
    cust = list(p.base_cust)
    for g, s in enumerate(assign):
        if s not in p.eligible[g]:
            return False
        cust[s] += p.gcust[g]
    if max_moves is not None and p.moved(assign) > max_moves:
        return False
    return not check_capacity or all(c <= k for c, k in zip(cust, p.cap, strict=True))
