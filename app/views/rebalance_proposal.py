"""What the rebalancing page asks the optimiser for, the background job that asks it, and
the one-paragraph summary of the plan it gets back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from app.services.progress import JobState
from app.services.rebalance.disruption import MoveCosts
from app.services.rebalance.editing import describe_counts, workload_changes
from app.services.rebalance.plan import Plan
from app.services.rebalance.workload import Weights
from app.views.i18n import arg, translate
from app.views.labels import counted, listed, moves, sentence_gap
from app.views.labels import customers as customer_count
from app.views.labels import grids as grid_count


@dataclass(frozen=True)
class ProposalRequest:
    branch_id: int
    as_of: date
    team_ids: tuple[int, ...] | None
    max_moves: int | None
    max_distance_km: float | None
    allow_customer_moves: bool
    time_limit_s: float
    weights: Weights = Weights()  # noqa: RUF009 - frozen
    move_costs: MoveCosts = MoveCosts()  # noqa: RUF009 - frozen
    keep_from_step: int | None = None


def run_proposal(
    Session: sessionmaker[Session],  # noqa: N803
    request: ProposalRequest,
    state: JobState,
) -> Plan:
    """Return the plan the optimiser proposes for the request (the background job)."""
    from app.services.rebalance.make import make_plan

    with Session() as s:
        return make_plan(
            s,
            branch_id=request.branch_id,
            as_of=request.as_of,
            team_ids=request.team_ids,
            max_moves=request.max_moves,
            max_distance_km=request.max_distance_km,
            allow_customer_moves=request.allow_customer_moves,
            time_limit_s=request.time_limit_s,
            weights=request.weights,
            move_costs=request.move_costs,
            keep_from_step=request.keep_from_step,
            state=state,
        )


# The summary names at most this many specialists left above capacity, the worst first.
STILL_OVER_NAMED = 5


def solver_note(plan: Plan) -> str:
    """Say that a solver step failed while the plan was made ('' when none did)."""
    if not plan.solver_failures:
        return ""
    return arg(
        translate(
            "RebalancePage",
            "The exact solver failed in %1 step(s) (%2): this plan is what the search found "
            "without it, possibly less balanced. Propose again; if it repeats, tell whoever looks "
            "after GridDesk.",
        ),
        str(len(plan.solver_failures)),
        "; ".join(plan.solver_failures),
    )


def clock_note(plan: Plan) -> str:
    """Say that the time limit stopped part of the search ('' when it did not)."""
    if not plan.clock_stops:
        return ""
    return arg(
        translate(
            "RebalancePage",
            "The search stopped on its time limit (%1) before its work was done, as on a very slow "
            "or busy computer: this plan may differ from one proposed again. Close other work and "
            "propose again.",
        ),
        ", ".join(plan.clock_stops),
    )


def plan_summary(plan: Plan) -> str:
    """Return the one-paragraph summary of a plan shown above its tables."""
    grids, singles, customers = describe_counts(plan)
    text = arg(
        translate(
            "RebalancePage",
            "Largest workload %1 now, %2 after (no plan within these rules goes below %3).",
        ),
        f"{plan.before_max:,.1f}",
        f"{plan.after_max:,.1f}",
        f"{min(plan.lower_bound, plan.before_max):,.1f}",
    )
    moves_text = (
        translate("RebalancePage", "%1: %2 and %3; %4.")
        if singles
        else translate("RebalancePage", "%1, all whole grids; %4.")
    )
    text += sentence_gap() + (
        arg(
            moves_text,
            moves(len(plan.moves)),
            grid_count(grids),
            counted(
                singles,
                translate("RebalancePage", "%1 single customer"),
                translate("RebalancePage", "%1 single customers"),
            ),
            counted(
                customers,
                translate("RebalancePage", "%1 customer changes specialist"),
                translate("RebalancePage", "%1 customers change specialist"),
            ),
        )
    )
    text += sentence_gap() + (
        arg(
            translate(
                "RebalancePage",
                "What it breaks: %1 customers re-contacted, %2 relationships broken (4-sell step 2 "
                "or more), %3 SMS, disruption %4.",
            ),
            f"{plan.customers_moved:,}",
            f"{plan.relationships_broken:,}",
            f"{plan.customers_moved:,}",
            f"{plan.disruption:,.0f}",
        )
    )
    text += sentence_gap() + capacity_sentence(plan)
    if plan.solver_failures:
        text += sentence_gap() + solver_note(plan)
    if plan.clock_stops:
        text += sentence_gap() + clock_note(plan)
    if plan.keep_from_step is not None:
        text += sentence_gap() + (
            arg(
                translate(
                    "RebalancePage",
                    "%1 customers at 4-sell step %2 or beyond stay with their specialist.",
                ),
                f"{plan.step_locked:,}",
                str(plan.keep_from_step),
            )
        )
    changes = workload_changes(plan)
    over = [w for w in changes if w.over_capacity]
    if over:
        text += sentence_gap() + arg(
            translate("RebalancePage", "Above capacity afterwards: %1."),
            listed(w.name for w in over),
        )
    # Over capacity today and still after (the rules let a plan shed some of their customers
    # but do not force them under): the supervisor should know, the worst first.
    still = sorted(
        (w for w in changes if not w.over_capacity and w.customers_after > w.capacity),
        key=lambda w: w.capacity - w.customers_after,
    )
    if still:
        names = [
            arg(
                translate("RebalancePage", "%1 (%2 / %3)"),
                w.name,
                f"{w.customers_after:,}",
                f"{w.capacity:,}",
            )
            for w in still
        ]
        shown = listed(names[:STILL_OVER_NAMED])
        if len(names) > STILL_OVER_NAMED:
            shown += " " + arg(
                translate("RebalancePage", "and %1 more"), str(len(names) - STILL_OVER_NAMED)
            )
        text += sentence_gap() + arg(translate("RebalancePage", "Still above capacity: %1."), shown)
    return text


def capacity_sentence(plan: Plan) -> str:
    """Return what the plan does about capacity: nobody above it, or by how much the team's
    capacity falls short (the excess shared in proportion to capacity), or how many customers
    stay above it although there is room (the move limit or the neighbours prevent more)."""
    if plan.above_capacity == 0:
        return translate("RebalancePage", "Nobody ends above capacity.")
    if plan.capacity_short:
        return arg(
            translate(
                "RebalancePage",
                "Capacity falls short by %1 customers in total: the excess is shared in "
                "proportion to capacity.",
            ),
            f"{plan.capacity_short:,}",
        )
    return arg(
        translate(
            "RebalancePage",
            "%1 customers stay above capacity although the team has room: more moves or a wider "
            "reach would bring them within it.",
        ),
        f"{plan.above_capacity:,}",
    )


def point_label(plan: Plan, index: int, *, recommended: bool) -> str:
    """Return how the trade-off chooser names one plan of the proposal's frontier."""
    p = plan.frontier[index]
    text = arg(
        translate("RebalancePage", "Largest %1 · %2 · %3 · disruption %4"),
        f"{p.after_max:,.1f}",
        moves(p.moves),
        customer_count(p.customers),
        f"{p.disruption:,.0f}",
    )
    if index == 0:
        text += " " + translate("RebalancePage", "(best balance)")
    if recommended:
        text += " " + translate("RebalancePage", "(recommended)")
    return text
