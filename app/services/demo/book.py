"""The demo book: pool customers with their policies, dues, tasks, SMS and history, as rows."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import shapely

from app.models.enums import AssignmentReason, MatchMethod, NotificationTemplate, PaymentMode
from app.services.demo.city import CITY, ORIGIN, GridCell
from app.services.demo.dates import at_local
from app.services.demo.people import People, rural_address, street_address
from app.services.demo.policies import PolicyDraft, draw_policy, simulate_policy
from app.services.demo.rand import ri
from app.services.demo.staff import SENIOR_LOGIN, SUPERVISOR_LOGIN, Ownership, SpecPlan, TeamPlan
from app.services.demo.story import Story, climb, lognormal_days, pay_chance
from app.services.demo.tasks import Row, TaskWriter

SHARE_UNMATCHED = 0.03
SHARE_WITH_POINT = 0.70
# How unevenly pool customers spread over the grids (sigma of a lognormal weight), and the
# sparse grids on the city's edge with a small share of a typical grid's customers.
GRID_SPREAD = 0.15
SHARE_SPARSE_GRIDS = 0.01
SPARSE_WEIGHT = 0.1
# Orphan policies are young: an agent's book is mostly what they sold in their last couple of
# years (the mean, in days, of an exponential gap between issue and the agent leaving).
BOOK_AGE_DAYS = 240


def outskirts(cells: list[GridCell], count: int) -> list[int]:
    """Return the indexes of the ``count`` grids whose centres lie farthest from the city's."""
    x0, y0 = ORIGIN

    def far(k: int) -> float:
        c = cells[k].geometry.centroid
        return math.hypot((c.x - x0) * math.cos(math.radians(y0)), c.y - y0)

    return sorted(range(len(cells)), key=far, reverse=True)[:count]


@dataclass(frozen=True)
class AgentPlan:
    id: int
    code: str
    name: str
    left_on: date
    district: str
    customers: int


class PointPool:
    """Hands out geocoded points lying inside a grid, drawn in batches."""

    def __init__(self, cells: list[GridCell], rng: np.random.Generator) -> None:
        self._cells = cells
        self._rng = rng
        self._pools: dict[int, list[tuple[float, float]]] = {}

    def take(self, grid: int) -> tuple[float, float]:
        pool = self._pools.setdefault(grid, [])
        while not pool:
            geom = self._cells[grid].geometry
            minx, miny, maxx, maxy = geom.bounds
            cand = np.round(self._rng.uniform((minx, miny), (maxx, maxy), size=(48, 2)), 6)
            inside = cand[shapely.contains_xy(geom, cand[:, 0], cand[:, 1])]
            pool.extend((float(x), float(y)) for x, y in inside[::-1])
        return pool.pop()


class BookWriter:
    """Writes customers agent by agent into row buffers that the caller inserts and clears."""

    def __init__(
        self,
        *,
        seed: int,
        branch_id: int,
        as_of: date,
        pilot_start: date,
        cells: list[GridCell],
        grid_ids: list[int],
        teams: list[TeamPlan],
        specs: list[SpecPlan],
        ownership: Ownership,
        unmatched_places: list[str],
        extra_policies: float,
        next_id: Callable[[str], int],
    ) -> None:
        self.rng = random.Random(seed)
        self.people = People(random.Random(seed + 1))
        self.points = PointPool(cells, np.random.default_rng(seed + 2))
        self.branch_id = branch_id
        self.as_of = as_of
        self.pilot_start = pilot_start
        self.horizon = as_of + timedelta(days=90)
        self.cells = cells
        self.grid_ids = grid_ids
        self.specs = specs
        self.team_effect = [t.effect for t in teams]
        self.supervised_team = 0
        self.ownership = ownership
        self.unmatched_places = unmatched_places
        self._extra_q = extra_policies / (1.0 + extra_policies)
        self.next_id = next_id
        self.writer = TaskWriter(self.rng, as_of=as_of, specs=specs, next_id=next_id)
        self.customers: list[Row] = []
        self.policies: list[Row] = []
        self.dues: list[Row] = []
        # Some grids hold more pool customers than others (older estates, more agents' clients),
        # and a couple on the city's edge hardly any yet (new estates): the rates on so few
        # policies are the ones marked "few".
        weights = [math.exp(self.rng.gauss(0.0, GRID_SPREAD)) for _ in cells]
        for k in outskirts(cells, max(2, round(SHARE_SPARSE_GRIDS * len(cells)))):
            weights[k] *= SPARSE_WEIGHT
        self._grids_in: dict[str, tuple[list[int], list[float]]] = {}
        for district in dict.fromkeys(c.district for c in cells):
            grids = [i for i, c in enumerate(cells) if c.district == district]
            cum = list(itertools.accumulate(weights[i] for i in grids))
            self._grids_in[district] = (grids, cum)
        self._all_grids = (list(range(len(cells))), list(itertools.accumulate(weights)))

    def take_rows(self) -> dict[str, list[Row]]:
        """Return the buffered rows by table, in insertion order, and clear the buffers."""
        out = {
            "customer": self.customers,
            "policy": self.policies,
            "premium_due": self.dues,
            "task": self.writer.tasks,
            "notification": self.writer.notifications,
            "assignment_event": self.writer.events,
        }
        self.customers, self.policies, self.dues = [], [], []
        self.writer.tasks, self.writer.notifications, self.writer.events = [], [], []
        return out

    # -- one customer ---------------------------------------------------------------------------

    def _pick_grid(self, agent: AgentPlan) -> int:
        grids, cum = self._grids_in[agent.district] if self.rng.random() < 0.5 else self._all_grids
        return self.rng.choices(grids, cum_weights=cum)[0]

    def customer(self, agent: AgentPlan, *, unmatched: bool = False) -> None:
        """Add one customer of ``agent`` (``unmatched``: with an address no grid covers)."""
        rng, people = self.rng, self.people
        cid = self.next_id("customer")
        name, male = people.name()
        birth = people.birth_date(on=self.as_of, min_age=28, max_age=72)
        phone = people.phone() if rng.random() > 0.015 else None
        u = rng.random()
        if unmatched:  # drawn all the same, so the customers after it stay as they were
            u = 0.0
        grid: int | None = None
        lon = lat = None
        method: MatchMethod | None = None
        if u < SHARE_UNMATCHED:
            address = rural_address(rng, place=rng.choice(self.unmatched_places))
        else:
            grid = self._pick_grid(agent)
            cell = self.cells[grid]
            place = rng.choice(cell.communities)
            address = street_address(rng, city=CITY, district=cell.district, place=place)
            if u < SHARE_UNMATCHED + SHARE_WITH_POINT:
                lon, lat = self.points.take(grid)
                method = MatchMethod.POINT
            else:
                method = MatchMethod.ADDRESS
        matched = max(agent.left_on, self.pilot_start)
        story = Story(
            customer_id=cid,
            name=name,
            phone=phone,
            agent_left=agent.left_on,
            matched=matched,
            matched_at=at_local(matched, ri(rng, 14 * 60, 18 * 60)),
            grid=grid,
        )
        locked = self._history(story, agent)
        if grid is None:
            if rng.random() < 0.6:
                day = matched + timedelta(days=lognormal_days(rng, 2.0))
                if day <= self.as_of:
                    story.steps.append(day)
                    story.level = 1
        else:
            first = story.serving(matched)
            climb(rng, story, self.specs[first] if first is not None else None, as_of=self.as_of)
        self.customers.append(
            {
                "id": cid,
                "branch_id": self.branch_id,
                "customer_no": f"DC{cid:08d}",
                "name": name,
                "phone": phone,
                "id_number": people.id_number(birth=birth, male=male),
                "address": address,
                "lon": lon,
                "lat": lat,
                "agent_id": agent.id,
                "grid_id": None if grid is None else self.grid_ids[grid],
                "match_method": None if method is None else method.value,
                "specialist_id": None if story.current is None else self.specs[story.current].id,
                "pool_entered_on": agent.left_on,
                "step": 0,
                "locked": locked,
                "version": 1,
            }
        )
        self._policies(story)
        w = self.writer
        w.pre_sell(story)
        w.ladder(story)

    def _history(self, story: Story, agent: AgentPlan) -> bool:
        """Fill the customer's serving timeline and write its SMS and assignment events; return
        whether the customer was moved by hand (such customers are locked)."""
        w, rng = self.writer, self.rng
        w.sms(
            story,
            NotificationTemplate.AGENT_CHANGE.value,
            f"【社区网格服务】尊敬的{story.name}客户：您的原服务人员{agent.name}已离职，"
            "公司将安排您所在社区的网格专员为您提供保单服务，敬请留意来电。",
            at_local(agent.left_on, ri(rng, 9 * 60, 11 * 60)),
        )
        if story.grid is None:
            return False
        own = self.ownership
        first = own.owner_on(story.grid, story.matched)
        story.days.append(story.matched)
        story.specs.append(first)
        if first is not None:
            w.event(
                story,
                old=None,
                new=first,
                reason=AssignmentReason.AUTO_MATCH,
                actor="system",
                at=story.matched_at,
            )
        for ch in own.changes_after(story.grid, story.matched):
            story.days.append(ch.day)
            story.specs.append(ch.new)
            w.event(story, old=ch.old, new=ch.new, reason=ch.reason, actor=ch.actor, at=ch.at)
            if ch.new is not None:
                self._specialist_sms(story, ch.new, ch.at)
        current = story.current
        last = story.days[-1]
        if current is None or rng.random() >= 0.01 or (self.as_of - last).days < 20:
            return False
        team = self.specs[current].team
        others = [s for s in self.specs if s.team == team and s.active and s.index != current]
        if not others:
            return False
        day = last + timedelta(days=ri(rng, 1, (self.as_of - last).days - 1))
        new = rng.choice(others).index
        at = at_local(day, ri(rng, 9 * 60, 17 * 60))
        actor = SUPERVISOR_LOGIN if team == self.supervised_team else SENIOR_LOGIN
        story.days.append(day)
        story.specs.append(new)
        w.event(story, old=current, new=new, reason=AssignmentReason.MANUAL, actor=actor, at=at)
        self._specialist_sms(story, new, at)
        return True

    def _specialist_sms(self, story: Story, spec: int, at: datetime) -> None:
        s = self.specs[spec]
        self.writer.sms(
            story,
            NotificationTemplate.SPECIALIST_CHANGE.value,
            f"【社区网格服务】尊敬的{story.name}客户：您的网格服务专员已变更为{s.name}，"
            f"联系电话{s.phone}，欢迎随时联系。",
            at + timedelta(minutes=5),
        )

    def _policies(self, story: Story) -> None:
        rng = self.rng
        count = 1
        while rng.random() < self._extra_q:
            count += 1
        earliest = self.as_of - timedelta(days=1460)
        latest = story.agent_left - timedelta(days=20)
        drafts = []
        for _ in range(count):
            issue = latest - timedelta(days=int(rng.expovariate(1.0 / BOOK_AGE_DAYS)))
            if issue < earliest:  # sold long ago by an agent who stayed long
                issue = earliest + timedelta(days=ri(rng, 0, (latest - earliest).days))
            drafts.append(draw_policy(rng, issue=issue))
        for draft in sorted(drafts, key=lambda d: d.issue):
            self._policy(story, draft)
        if story.level == 4:
            draft = draw_policy(rng, issue=story.steps[3], annual=rng.random() < 0.7)
            pid, policy_no = self._policy(story, draft)
            self.writer.up_sell(story, pid, policy_no)

    def _policy(self, story: Story, draft: PolicyDraft) -> tuple[int, str]:
        pid = self.next_id("policy")
        policy_no = f"DP{draft.issue.year}{pid:08d}"

        def chance(due: date, year: int) -> float:
            return pay_chance(
                story,
                due,
                year,
                specs=self.specs,
                team_effect=self.team_effect,
                pilot_start=self.pilot_start,
            )

        life = simulate_policy(
            self.rng, draft, as_of=self.as_of, horizon=self.horizon, pay_chance=chance
        )
        self.policies.append(
            {
                "id": pid,
                "policy_no": policy_no,
                "customer_id": story.customer_id,
                "product": draft.product.name,
                "issue_date": draft.issue,
                "payment_mode": draft.mode.value,
                "modal_premium_fen": draft.modal_fen,
                "status": life.status.value,
                "status_date": life.status_date,
            }
        )
        collect_all = draft.mode in (PaymentMode.ANNUAL, PaymentMode.SEMIANNUAL)
        for row in life.dues:
            self.dues.append(
                {
                    "id": self.next_id("premium_due"),
                    "policy_id": pid,
                    "policy_year": row.year,
                    "due_date": row.due,
                    "amount_due_fen": row.amount_fen,
                    "amount_received_fen": row.received_fen,
                    "received_on": row.received_on,
                }
            )
            if row.year >= 2 and (collect_all or row.first_of_year):
                self.writer.renewal(story, row, pid)
        return pid, policy_no


def plan_agents(
    *,
    n_customers: int,
    as_of: date,
    pilot_start: date,
    districts: list[tuple[str, int]],
    next_id: Callable[[str], int],
    rng: random.Random,
    people: People,
) -> list[AgentPlan]:
    """Return the departed agents, with portfolios adding up to ``n_customers`` and leaving
    dates over the last two years: a backlog before the pilot, then a steady flow, the latest
    yesterday (their customers' SMS are still queued). ``districts`` pairs each district with
    its number of grids: grids are drawn smaller where more people live, so an agent's
    district is drawn in proportion to them."""
    names = [name for name, _ in districts]
    cum = list(itertools.accumulate(n for _, n in districts))
    agents: list[AgentPlan] = []
    pilot_days = (as_of - pilot_start).days
    left = n_customers
    while left > 0:
        size = min(left, max(3, int(rng.gammavariate(2.0, 15.0))))
        left -= size
        aid = next_id("agent")
        if not agents:
            days = 1
        elif rng.random() < 0.55:
            days = ri(rng, pilot_days + 1, 730)
        else:
            days = ri(rng, 2, pilot_days)
        agents.append(
            AgentPlan(
                id=aid,
                code=f"DA{aid:06d}",
                name=people.name()[0],
                left_on=as_of - timedelta(days=days),
                district=rng.choices(names, cum_weights=cum)[0],
                customers=size,
            )
        )
    agents.sort(key=lambda a: (a.left_on, a.id))
    return agents


def agent_rows(agents: list[AgentPlan], branch_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": a.id,
            "branch_id": branch_id,
            "agent_code": a.code,
            "name": a.name,
            "left_on": a.left_on,
        }
        for a in agents
    ]
