"""Commands that propose, apply and undo rebalancing plans."""

from __future__ import annotations

import argparse
import sys

from app.cli import scenarios, scheduled
from app.cli.common import CommandError, Handlers, only_branch, open_db, parse_date, require


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add this module's commands to ``sub``; return their handlers by name."""
    rebalance = sub.add_parser("rebalance", parents=[common], help="rebalance workloads")
    rsub = rebalance.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = rsub.add_parser("propose", parents=[common], help="write a rebalancing plan")
    p.add_argument(
        "--scope",
        help="branch or team:CODE (default: the branch, or a supervisor's own teams)",
    )
    p.add_argument(
        "--max-moves",
        type=int,
        default=20,
        metavar="N",
        help="at most N moves, grids and single customers together (default 20, as the app; "
        "0: no limit)",
    )
    p.add_argument(
        "--max-distance-km",
        type=float,
        default=None,
        metavar="KM",
        help="give a grid only to a specialist whose grids lie within this distance",
    )
    p.add_argument("--grids-only", action="store_true", help="never move single customers")
    p.add_argument("--as-of", type=parse_date, default=None, help="default: today")
    p.add_argument(
        "--time-limit",
        type=float,
        default=None,
        metavar="SECONDS",
        help="a safety net only: the search is limited by work, so the same data and settings "
        "give the same plan (default 60)",
    )
    p.add_argument(
        "--weights",
        type=_weights,
        default=None,
        metavar="C,T,P",
        help="what a customer, an open task and 10,000 yuan of premium due in the next 90 days "
        "count in a workload (default: the app's settings, else 1,0.5,1)",
    )
    p.add_argument(
        "--move-costs",
        type=_move_costs,
        default=None,
        metavar="S0,S1,S2,S3,S4[,DAYS,FACTOR]",
        help="what moving one customer costs by the 4-sell step reached, and the factor for "
        "one moved in the last DAYS days (default: the app's settings, else 1,2,4,8,8,180,2)",
    )
    p.add_argument(
        "--keep-from-step",
        type=int,
        choices=range(1, 5),
        default=None,
        metavar="N",
        help="customers who reached 4-sell step N or a later one (1 pre-sell, 2 soft-sell, "
        "3 cross-sell, 4 up-sell) never move: they stay with their specialist as locked "
        "customers do",
    )
    p.add_argument(
        "--pick",
        default="knee",
        help="which plan of the trade-off to write: knee (default: where moving more customers "
        "stops buying much balance), balance (the best balance) or a point's number from 1",
    )
    p.add_argument(
        "--frontier",
        action="store_true",
        help="write every plan of the trade-off, PLAN-1.json, PLAN-2.json, … (best balance "
        "first), and print them as a table",
    )
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")
    p.add_argument(
        "--out", required=True, metavar="PLAN.json", help="the plan file to write (and review)"
    )
    p = rsub.add_parser("apply", parents=[common], help="apply a plan in one transaction")
    p.add_argument(
        "plan", metavar="PLAN.json", nargs="?", default=None, help="the plan file propose wrote"
    )
    p.add_argument(
        "--scenario",
        metavar="NAME",
        default=None,
        help="apply a kept scenario instead of a plan file",
    )
    p.add_argument(
        "--effective-on",
        type=parse_date,
        default=None,
        metavar="DATE",
        help="a later day from which the moves hold (e.g. the first of next month): the plan "
        "waits until then, nobody moves and no SMS goes out before (default: today, at once)",
    )
    scenarios.add_parsers(rsub, common)
    scheduled.add_parsers(rsub, common)
    p = rsub.add_parser("undo", parents=[common], help="undo the latest rebalance")
    p.add_argument("--batch", type=int, default=None, help="the change batch to undo")
    p = sub.add_parser(
        "history", parents=[common], help="list the change batches (rebalances, hand-overs)"
    )
    p.add_argument("--limit", type=int, default=20, metavar="N", help="the newest N (default 20)")
    p = sub.add_parser("undo", parents=[common], help="undo a change batch listed by history")
    p.add_argument("batch", type=int, metavar="BATCH", help="the batch number history shows")
    return {"rebalance": cmd_rebalance, "history": cmd_history, "undo": cmd_undo}


def cmd_history(args: argparse.Namespace) -> int:
    """Print the change batches the user may see, newest first."""
    from sqlalchemy import select

    from app.models import Branch
    from app.services.clock import local_text
    from app.services.rebalance.batches import list_batches

    db = open_db(args)
    user = db.user
    with db.Session() as s:
        branch_id = only_branch(s, user)
        rows = list_batches(
            s,
            branch_id=branch_id,
            team_scope=None if user is None else user.team_scope(),
            limit=args.limit,
        )
    if not rows:
        print("no change batches")
        return 0
    with db.Session() as s:
        zone = s.scalar(select(Branch.timezone).where(Branch.id == branch_id))
    print(
        f"{'batch':>5}  {'recorded':<16}  {'effective':<10}  {'by':<12}  {'what':<22}  "
        f"{'grids':>5}  {'customers':>9}  {'tasks':>5}  {'SMS':>5}  state"
    )
    for r in rows:
        what = {
            "handover": f"hand-over of {r.leaver}",
            "intake": f"intake of {r.leaver}",
            "reassign": "tasks reassigned",
            "import": f"history imported ({r.events})",
        }.get(r.kind, "rebalance")
        state = f"undone by {r.undone_by}" if r.undone_at else "can be undone"
        effective = r.effective_on.isoformat() if r.effective_on else ""
        print(
            f"{r.id:>5}  {local_text(r.created_at, zone):<16}  {effective:<10}  "
            f"{r.actor[:12]:<12}  {what[:22]:<22}  {r.grids:>5}  {r.customers:>9}  {r.tasks:>5}  "
            f"{r.sms:>5}  {state}"
        )
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    """Undo one change batch by its number."""
    args.action, args.branch = "undo", None
    return cmd_rebalance(args)


def _scenario(s, args: argparse.Namespace, user):
    from app.services.rebalance.scenarios import load_scenario

    branch_id = only_branch(s, user)
    scope = None if user is None else user.team_scope()
    return load_scenario(s, args.scenario, branch_id=branch_id, team_scope=scope)


def _schedule(args: argparse.Namespace, db, what: str) -> int:
    from app.services.rebalance.plan_file import read_plan
    from app.services.rebalance.scheduled import schedule_plan

    user = db.user
    with db.Session() as s, s.begin():
        plan = read_plan(args.plan) if args.scenario is None else _scenario(s, args, user)
        info = schedule_plan(
            s,
            plan,
            effective_on=args.effective_on,
            actor=db.actor,
            user_may_cross_teams=user is None or user.may_move_across_teams,
            team_scope=None if user is None else user.team_scope(),
            branch_scope=None if user is None else user.branch_id,
        )
    print(
        f"{what}: scheduled as plan {info.id}, to take effect on {info.effective_on}: nobody "
        "moves and no SMS goes out before; `griddesk rebalance cancel "
        f"{info.id}` cancels it"
    )
    return 0


def _move_costs(text: str):
    from app.services.rebalance.disruption import MoveCosts

    try:
        return MoveCosts.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _pick(text: str) -> str | int:
    if text in ("knee", "balance"):
        return text
    if text.isdigit() and int(text) >= 1:
        return int(text) - 1
    raise CommandError(f"--pick must be knee, balance or a point's number from 1, not '{text}'")


def _weights(text: str):
    from app.services.rebalance.workload import Weights

    try:
        c, t, p = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not three numbers: write customer,task,premium weights as 1,0.5,1"
        ) from None
    if min(c, t, p) < 0:
        raise argparse.ArgumentTypeError(f"'{text}': weights cannot be negative")
    return Weights(customer=c, open_task=t, premium_per_10k_yuan=p)


def cmd_rebalance(args: argparse.Namespace) -> int:
    from app.config import settings_move_costs, settings_weights
    from app.services.exports.scope import find_branch, resolve_scope
    from app.services.rebalance.apply import apply_plan, undo_batch
    from app.services.rebalance.make import make_plan
    from app.services.rebalance.plan_file import read_plan, write_plan
    from app.services.rebalance.problem import SAFETY_LIMIT_S

    if args.action in scenarios.ACTIONS:
        return scenarios.run(args)
    if args.action in scheduled.ACTIONS:
        return scheduled.run(args)
    db = open_db(args, writes=args.action in ("apply", "undo"))
    user, Session = db.user, db.Session  # noqa: N806
    if args.action in ("apply", "undo"):
        require(user, user is None or user.may_reassign_tasks, "change assignments")
    cross = user is None or user.may_move_across_teams
    scope = None if user is None else user.team_scope()
    if args.action == "apply":
        if (args.plan is None) == (args.scenario is None):
            raise CommandError("apply a plan file or --scenario NAME (one of them)")
        what = args.plan or f'scenario "{args.scenario}"'
        if args.effective_on is not None:
            return _schedule(args, db, what)
        with Session() as s, s.begin():
            plan = read_plan(args.plan) if args.scenario is None else _scenario(s, args, user)
            r = apply_plan(
                s,
                plan,
                actor=db.actor,
                user_may_cross_teams=cross,
                team_scope=scope,
                branch_scope=None if user is None else user.branch_id,
            )
        print(
            f"{what}: applied as change batch {r.batch_id}: {r.grids_moved} grids, "
            f"{r.customers_moved} customers and {r.tasks_moved} open tasks moved; "
            f"SMS: {r.sms_queued} queued, {r.sms_replaced} replaced, {r.sms_withdrawn} withdrawn"
        )
        return 0
    if args.action == "undo":
        with Session() as s, s.begin():
            u = undo_batch(
                s,
                actor=db.actor,
                team_scope=scope,
                batch_id=args.batch,
                branch_id=None if user is None else user.branch_id,
            )
        print(
            f"change batch {u.batch_id} undone: {u.grids_restored} grids, {u.customers_restored} "
            f"customers and {u.tasks_restored} open tasks back ({u.tasks_kept} tasks closed "
            f"since stay); SMS: {u.sms_queued} queued, {u.sms_replaced} replaced, "
            f"{u.sms_withdrawn} withdrawn"
        )
        return 0
    with Session() as s:
        # The one lookup every command uses: the user's branch (or the one with --branch, or
        # the only one), then the scope, refused outside the user's teams.
        branch_id = find_branch(s, args.branch, user)
        target = resolve_scope(s, args.scope, branch_id=branch_id, user=user)
        if target.kind == "specialist":
            raise CommandError(
                f"--scope must be 'branch' or 'team:CODE' of a team, not '{args.scope}'"
            )
        team_ids = None if target.team_ids is None else sorted(target.team_ids)
        if team_ids is not None and len(team_ids) > 1 and not cross:
            # One plan over several teams would move grids between them, which only a senior
            # supervisor may apply: a supervisor of several teams plans them one at a time.
            raise CommandError(
                f"{user.login if user else ''} leads several teams: propose for one of them "
                "with --scope team:CODE"
            )
        plan = make_plan(
            s,
            branch_id=branch_id,
            as_of=args.as_of or db.today(),
            team_ids=team_ids,
            max_moves=args.max_moves or None,
            max_distance_km=args.max_distance_km,
            allow_customer_moves=not args.grids_only,
            time_limit_s=args.time_limit or SAFETY_LIMIT_S,
            weights=args.weights or settings_weights(),
            move_costs=args.move_costs or settings_move_costs(),
            pick=_pick(args.pick),
            keep_from_step=args.keep_from_step,
        )
    if args.frontier and plan.frontier:
        _write_frontier(args.out, plan)
        return 0
    write_plan(args.out, plan)
    _describe(args.out, plan)
    return 0


def _describe(out: str, plan) -> None:
    grids = sum(1 for m in plan.moves if m.kind == "grid")
    print(
        f"{out}: {len(plan.moves)} moves ({grids} grids, {len(plan.moves) - grids} "
        f"customers); largest workload {plan.before_max:.1f} -> {plan.after_max:.1f} "
        f"(no plan can go below {plan.lower_bound:.1f}); {plan.customers_moved} customers "
        f"re-contacted, {plan.relationships_broken} relationships broken (4-sell step 2 or "
        f"more), {plan.customers_moved} SMS, disruption {plan.disruption:.0f}; "
        + _capacity_text(plan)
        + _kept_text(plan)
    )
    _warn_solver(plan)


def _warn_solver(plan) -> None:
    """Say on standard error when a solver step failed, or the time limit stopped one, while
    the plan was made."""
    if plan.clock_stops:
        print(
            "warning: the time limit stopped the search ("
            + ", ".join(plan.clock_stops)
            + ") before its work was done: the plan may differ from one proposed again "
            "(raise --time-limit)",
            file=sys.stderr,
        )
    if plan.solver_failures:
        print(
            "warning: the exact solver failed in "
            + "; ".join(plan.solver_failures)
            + ": the plan is what the search found without it",
            file=sys.stderr,
        )


def _kept_text(plan) -> str:
    if plan.keep_from_step is None:
        return ""
    return (
        f"; {plan.step_locked} customers at 4-sell step {plan.keep_from_step} or beyond kept "
        "with their specialist"
    )


def _capacity_text(plan) -> str:
    if plan.above_capacity == 0:
        return "nobody ends above capacity"
    if plan.capacity_short:
        return (
            f"capacity falls short by {plan.capacity_short} customers in total "
            "(the excess shared in proportion to capacity)"
        )
    return f"{plan.above_capacity} customers stay above capacity although the team has room"


def _write_frontier(out: str, plan) -> None:
    """Write one plan file per point of the trade-off and print them as a table."""
    from pathlib import Path

    from app.services.rebalance.plan_file import write_plan

    target = Path(out)
    print(f"largest workload today {plan.before_max:.1f}; the plans, best balance first:")
    print(
        f"{'#':>2}  {'largest':>9}  {'moves':>5}  {'customers':>9}  {'broken':>6}  "
        f"{'disruption':>10}  file"
    )
    for i in range(len(plan.frontier)):
        p = plan.at_point(i)
        name = target.with_name(f"{target.stem}-{i + 1}{target.suffix or '.json'}")
        write_plan(name, p)
        mark = "*" if i == plan.point else " "
        print(
            f"{i + 1:>2}{mark} {p.after_max:>9.1f}  {len(p.moves):>5}  {p.customers_moved:>9}  "
            f"{p.relationships_broken:>6}  {p.disruption:>10.0f}  {name}"
        )
    print("* recommended: where moving more customers stops buying much balance")
    _warn_solver(plan)
