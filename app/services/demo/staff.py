"""The demo branch's teams and specialists, and who owned which grid when."""

from __future__ import annotations

import bisect
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from app.models.enums import AssignmentReason, ContractType, SpecialistStatus
from app.services.demo.city import DISTRICTS, GridCell
from app.services.demo.dates import at_local
from app.services.demo.people import People

# Districts clockwise from the north, so that a team covering two districts covers neighbours.
_RING = ("JN", "CH", "JJ", "GX", "WH", "QY")
_ORDINALS = "一二三四五六七八九十"
SUPERVISOR_LOGIN = "supervisor"
SENIOR_LOGIN = "senior"


@dataclass
class TeamPlan:
    index: int
    code: str
    name: str
    supervisor: str
    grids: list[int]
    effect: float  # persistency uplift of the whole team, in rate points
    id: int = 0


@dataclass
class SpecPlan:
    index: int
    team: int
    employee_no: str
    name: str
    phone: str
    contract: ContractType
    hire_date: date
    status: SpecialistStatus = SpecialistStatus.ACTIVE
    left_on: date | None = None
    leave_from: date | None = None
    capacity: int = 400
    effect: float = 0.0  # persistency uplift, in rate points
    funnel: float = 1.0  # multiplier of 4-sell conversion
    speed: float = 1.0  # multiplier of task completion times (below 1 is faster)
    equity_gap: bool = False  # serves customers who buy less more slowly and less often
    id: int = 0

    @property
    def active(self) -> bool:
        return self.status is SpecialistStatus.ACTIVE


@dataclass(frozen=True)
class Change:
    """One change of a grid's owner (specialists as plan indexes, None for nobody)."""

    day: date
    at: datetime
    grid: int
    old: int | None
    new: int | None
    reason: AssignmentReason
    actor: str


@dataclass
class Ownership:
    """Every grid's owners over time, the first change being the import at the pilot's start."""

    changes: list[list[Change]] = field(default_factory=list)
    _days: list[list[date]] = field(default_factory=list)

    def index(self) -> None:
        self._days = [[c.day for c in cs] for cs in self.changes]

    def owner_on(self, grid: int, day: date) -> int | None:
        """Return the owner of ``grid`` at the end of ``day``."""
        k = bisect.bisect_right(self._days[grid], day)
        return self.changes[grid][k - 1].new if k else None

    def changes_after(self, grid: int, day: date) -> list[Change]:
        """Return the changes of ``grid`` made on days after ``day``."""
        return self.changes[grid][bisect.bisect_right(self._days[grid], day) :]

    def current(self, grid: int) -> int | None:
        return self.changes[grid][-1].new


def _split_ring(sizes: list[int], parts: int) -> list[list[int]]:
    """Cut the ring order into ``parts`` runs of districts with sizes as even as possible."""
    n = len(sizes)
    best: tuple[int, list[list[int]]] | None = None
    for cuts in itertools.combinations(range(1, n), parts - 1):
        bounds = (0, *cuts, n)
        groups = [list(range(bounds[i], bounds[i + 1])) for i in range(parts)]
        worst = max(sum(sizes[k] for k in g) for g in groups)
        if best is None or worst < best[0]:
            best = (worst, groups)
    assert best is not None
    return best[1]


def _by_angle(grids: list[int], cells: list[GridCell], rng: random.Random) -> list[int]:
    """Return grids sorted around their common centre, starting at a random bearing."""
    cx = sum(cells[g].geometry.centroid.x for g in grids) / len(grids)
    cy = sum(cells[g].geometry.centroid.y for g in grids) / len(grids)
    start = rng.uniform(-math.pi, math.pi)

    def bearing(g: int) -> float:
        c = cells[g].geometry.centroid
        return (math.atan2(c.y - cy, (c.x - cx) * 0.86) - start) % (2 * math.pi)

    return sorted(grids, key=bearing)


def _split_evenly(items: list[int], parts: int) -> list[list[int]]:
    q, r = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        end = start + q + (1 if i < r else 0)
        out.append(items[start:end])
        start = end
    return out


def _staffing(teams: list[TeamPlan], n_specs: int) -> list[list[int]]:
    """Return the specialists' indexes of each team, as many as its share of the grids (by the
    largest remainder, two at least): a branch staffs a team by the territory it covers."""
    total = sum(len(t.grids) for t in teams)
    quota = [n_specs * len(t.grids) / total for t in teams]
    counts = [max(2, int(q)) for q in quota]
    by_remainder = sorted(range(len(teams)), key=lambda k: (counts[k] - quota[k], k))
    while sum(counts) < n_specs:
        k = by_remainder.pop(0)
        counts[k] += 1
    while sum(counts) > n_specs:
        counts[counts.index(max(counts))] -= 1
    out, start = [], 0
    for n in counts:
        out.append(list(range(start, start + n)))
        start += n
    return out


def plan_teams(
    cells: list[GridCell], n_teams: int, rng: random.Random, people: People
) -> list[TeamPlan]:
    """Return the teams, each covering whole neighbouring districts or a slice of one."""
    by_code = {d.code: d for d in DISTRICTS}
    ring = [by_code[c] for c in _RING]
    grids_of = {d.name: [i for i, c in enumerate(cells) if c.district == d.name] for d in ring}
    short = {d.name: d.name.removesuffix("区") for d in ring}
    covers: list[tuple[str, list[int]]] = []
    if n_teams <= len(ring):
        for group in _split_ring([len(grids_of[d.name]) for d in ring], n_teams):
            names = [ring[k].name for k in group]
            label = "".join(short[n] for n in names) + "组"
            covers.append((label, [g for n in names for g in grids_of[n]]))
    else:
        total = len(cells)
        quota = [max(1.0, n_teams * len(grids_of[d.name]) / total) for d in ring]
        counts = [int(q) for q in quota]
        for k in sorted(range(len(ring)), key=lambda k: quota[k] - counts[k], reverse=True):
            if sum(counts) >= n_teams:
                break
            counts[k] += 1
        while sum(counts) > n_teams:
            counts[counts.index(max(counts))] -= 1
        for d, k in zip(ring, counts, strict=True):
            for j, part in enumerate(_split_evenly(_by_angle(grids_of[d.name], cells, rng), k)):
                covers.append((f"{short[d.name]}{_ORDINALS[j % 10]}组", part))
    spread = [0.045 - 0.09 * i / max(1, n_teams - 1) for i in range(n_teams)]
    rng.shuffle(spread)
    return [
        TeamPlan(
            index=i,
            code=f"T{i + 1:02d}",
            name=label,
            supervisor=people.name()[0],
            grids=grids,
            effect=spread[i],
        )
        for i, (label, grids) in enumerate(covers)
    ]


def plan_specialists(
    teams: list[TeamPlan],
    *,
    n_specs: int,
    n_leave: int,
    n_left: int,
    n_equity: int,
    pilot_start: date,
    as_of: date,
    rng: random.Random,
    people: People,
) -> list[SpecPlan]:
    """Return the specialists: mostly active, a few on leave, some who left."""
    per_team = _staffing(teams, n_specs)
    specs: list[SpecPlan] = []
    for team, members in zip(teams, per_team, strict=True):
        for _ in members:
            name, _male = people.name()
            transferred = rng.random() < 0.15
            hire = pilot_start - timedelta(
                days=rng.randint(200, 1100) if transferred else rng.randint(20, 150)
            )
            effect = max(-0.09, min(0.08, rng.gauss(0.0, 0.035)))
            specs.append(
                SpecPlan(
                    index=len(specs),
                    team=team.index,
                    employee_no=f"DW{len(specs) + 1:05d}",
                    name=name,
                    phone=people.phone(),
                    contract=ContractType.SERVICE if rng.random() < 0.18 else ContractType.LABOUR,
                    hire_date=hire,
                    effect=effect,
                    funnel=1.0 + 2.5 * effect,
                    speed=math.exp(rng.gauss(0.0, 0.25) - 4.0 * effect),
                )
            )
    # A clear star and a clear straggler make the meeting's discussion concrete.
    ranked = sorted(specs, key=lambda s: s.effect)
    ranked[-1].effect, ranked[-1].funnel, ranked[-1].speed = 0.08, 1.2, 0.6
    ranked[0].effect, ranked[0].funnel, ranked[0].speed = -0.1, 0.75, 1.8
    # Departures and leaves come from different teams, so every team keeps active people.
    team_order = [t.index for t in teams if len(per_team[t.index]) >= 3]
    rng.shuffle(team_order)
    picks: list[SpecPlan] = []
    for k in range(n_left + n_leave):
        team_idx = team_order[k % len(team_order)]
        candidates = [s for s in specs if s.team == team_idx and s not in picks and s.active]
        picks.append(rng.choice(candidates))
    left_days = sorted((rng.randint(150, 330) for _ in range(n_left - 1)), reverse=True)
    left_days.append(rng.randint(8, 25))  # the latest departure leaves grids uncovered
    for spec, days in zip(picks[:n_left], left_days, strict=True):
        spec.status = SpecialistStatus.LEFT
        spec.left_on = as_of - timedelta(days=days)
    for spec in picks[n_left:]:
        spec.status = SpecialistStatus.LEAVE
        spec.leave_from = as_of - timedelta(days=rng.randint(20, 80))
    for spec in rng.sample([s for s in specs if s.active], min(n_equity, len(specs))):
        spec.equity_gap = True
    return specs


def plan_ownership(
    teams: list[TeamPlan],
    specs: list[SpecPlan],
    *,
    n_grids: int,
    n_gaps: int,
    n_moves: int,
    pilot_start: date,
    as_of: date,
    rng: random.Random,
    cells: list[GridCell],
) -> Ownership:
    """Return who owned each grid when: the import at the pilot's start, a few manual moves,
    hand-overs when specialists left or went on leave, and some grids left without an owner."""
    own = Ownership(changes=[[] for _ in range(n_grids)])
    owner: list[int | None] = [None] * n_grids
    minute = {"n": 0}

    def record(day: date, grid: int, new: int | None, reason: AssignmentReason, actor: str) -> None:
        minute["n"] += 1
        at = at_local(day, 8 * 60 + 30 + minute["n"] % 300)
        own.changes[grid].append(Change(day, at, grid, owner[grid], new, reason, actor))
        owner[grid] = new

    members = {t.index: [s for s in specs if s.team == t.index] for t in teams}
    for team in teams:
        ordered = _by_angle(team.grids, cells, rng)
        for spec, grids in zip(
            members[team.index], _split_evenly(ordered, len(members[team.index])), strict=True
        ):
            for g in sorted(grids):
                record(pilot_start, g, spec.index, AssignmentReason.IMPORT, "system")

    def stays(team: int, exclude: int | None = None) -> list[SpecPlan]:
        return [s for s in members[team] if s.active and s.index != exclude]

    def actor_for(team: int) -> str:
        return SUPERVISOR_LOGIN if team == 0 else SENIOR_LOGIN

    events: list[tuple[date, int, str, int]] = []
    span = (as_of - pilot_start).days
    for k in range(n_moves):
        day = pilot_start + timedelta(days=rng.randint(90, max(91, span - 30)))
        events.append((day, k, "move", rng.randrange(n_grids)))
    last_left = max((s for s in specs if s.left_on), key=lambda s: s.left_on or as_of, default=None)
    for s in specs:
        if s.left_on:
            events.append((s.left_on, 10_000 + s.index, "left", s.index))
        if s.leave_from:
            events.append((s.leave_from, 10_000 + s.index, "leave", s.index))
    for day, _, kind, target in sorted(events):
        if kind == "move":
            current = owner[target]
            if current is None:
                continue
            team_idx = specs[current].team
            others = stays(team_idx, exclude=current)
            if others:
                new = rng.choice(others).index
                record(day, target, new, AssignmentReason.MANUAL, actor_for(team_idx))
            continue
        spec = specs[target]
        grids = [g for g in range(n_grids) if owner[g] == spec.index]
        uncovered = set(rng.sample(grids, min(n_gaps, len(grids)))) if spec is last_left else set()
        reason = AssignmentReason.SPECIALIST_LEFT if kind == "left" else AssignmentReason.MANUAL
        for g in grids:
            if g in uncovered:
                record(day, g, None, reason, SENIOR_LOGIN)
                continue
            heirs = stays(spec.team, exclude=spec.index)
            heir = min(heirs, key=lambda s: (sum(1 for o in owner if o == s.index), s.index))
            record(day, g, heir.index, reason, actor_for(spec.team))
    own.index()
    return own
