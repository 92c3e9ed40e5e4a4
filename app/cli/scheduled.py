"""Plans with a later effective date on the command line: ``rebalance apply PLAN
--effective-on D`` schedules one (in :mod:`app.cli.rebalance`); ``rebalance scheduled`` lists
them, ``rebalance cancel ID`` cancels one before its day, and ``rebalance release`` applies
those whose day has come (GridDesk does it when it opens; a scheduled task on the server can
run this every morning)."""

from __future__ import annotations

import argparse

from app.cli.common import only_branch, open_db, require

ACTIONS = ("scheduled", "cancel", "release")


def add_parsers(rsub, common: argparse.ArgumentParser) -> None:
    """Add the scheduled-plan actions to the ``rebalance`` command's subparsers."""
    rsub.add_parser(
        "scheduled",
        parents=[common],
        help="list the plans waiting for their effective date, then those decided",
    )
    p = rsub.add_parser("cancel", parents=[common], help="cancel a plan before its effective date")
    p.add_argument("id", type=int, metavar="ID", help="the number `rebalance scheduled` shows")
    rsub.add_parser(
        "release",
        parents=[common],
        help="apply the scheduled plans whose effective date has come (refusing overtaken ones)",
    )


def run(args: argparse.Namespace) -> int:
    """Carry out one of ACTIONS."""
    from app.services.rebalance.scheduled import cancel_scheduled, list_scheduled, release_due

    writes = args.action in ("cancel", "release")
    db = open_db(args, writes=writes)
    user = db.user
    if writes:
        require(user, user is None or user.may_reassign_tasks, "cancel or release plans")
    scope = None if user is None else user.team_scope()
    with db.Session() as s:
        branch_id = only_branch(s, user)
    if args.action == "cancel":
        with db.Session() as s, s.begin():
            info = cancel_scheduled(
                s, args.id, actor=db.actor, branch_id=branch_id, team_scope=scope
            )
        print(f"scheduled plan {info.id} (from {info.effective_on}) cancelled")
        return 0
    if args.action == "release":
        with db.Session() as s, s.begin():
            done = release_due(s, branch_id=branch_id, team_scope=scope, released_by=db.actor)
        if not done:
            print("no scheduled plan is due")
        for r in done:
            if r.applied is not None:
                a = r.applied
                print(
                    f"scheduled plan {r.id} (from {r.effective_on}): applied as change batch "
                    f"{a.batch_id}: {a.grids_moved} grids, {a.customers_moved} customers and "
                    f"{a.tasks_moved} open tasks moved; SMS: {a.sms_queued} queued"
                )
            else:
                print(f"scheduled plan {r.id} (from {r.effective_on}): refused: {r.refused}")
        return 0
    with db.Session() as s:
        rows = list_scheduled(s, branch_id=branch_id, team_scope=scope)
    if not rows:
        print("no scheduled plans")
        return 0
    print(
        f"{'id':>4}  {'effective':<10}  {'status':<9}  {'team':<6}  {'moves':>5}  {'by':<12}  note"
    )
    for info in rows:
        note = info.outcome or (f"change batch {info.batch_id}" if info.batch_id else "")
        print(
            f"{info.id:>4}  {info.effective_on.isoformat():<10}  {info.status:<9}  "
            f"{info.team_code or 'branch':<6}  {info.moves:>5}  {info.author:<12}  {note}"
        )
    return 0
