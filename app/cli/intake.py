"""Commands for departed agents' customers and the SMS gateway."""

from __future__ import annotations

import argparse

from app.cli.common import CommandError, Handlers, open_db, parse_date, require


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add this module's commands to ``sub``; return their handlers by name."""
    p = sub.add_parser(
        "intake", parents=[common], help="an agent has left: pool, SMS, match, tasks"
    )
    p.add_argument("--agent", required=True, metavar="CODE", help="the departed agent's code")
    p.add_argument(
        "--date", type=parse_date, default=None, help="pool entry date (default: the leaving date)"
    )
    outbox = sub.add_parser("outbox", parents=[common], help="the SMS outbox and the gateway")
    osub = outbox.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = osub.add_parser("export", parents=[common], help="write the gateway's CSV")
    p.add_argument("--out", required=True, metavar="FILE", help="the CSV file for the SMS gateway")
    p.add_argument(
        "--status",
        choices=("queued", "exported", "sent", "failed"),
        default="queued",
        help="queued (default: and marks them handed to the gateway), or exported to write a "
        "lost file again",
    )
    p.add_argument("--branch", metavar="CODE", help="branch code (default: every branch)")
    p = osub.add_parser("import", parents=[common], help="read the gateway's results")
    p.add_argument("file", help="the gateway's results file (CSV)")
    return {"intake": cmd_intake, "outbox": cmd_outbox}


def cmd_intake(args: argparse.Namespace) -> int:
    from app.services.intake.intake import intake_agent

    db = open_db(args, writes=True)
    require(db.user, db.user is None or db.user.may_move_across_teams, "run an intake")
    with db.Session() as s, s.begin():
        r = intake_agent(s, agent_code=args.agent, on_date=args.date, actor=db.actor, user=db.user)
    print(
        f"agent {r.agent_code}, pool entry {r.on_date}: {r.customers_entered} customers entered "
        f"({r.already_in_pool} already in the pool); matched by point {r.matched_by_point}, "
        f"by address {r.matched_by_address}, by rule {r.matched_by_rule}; "
        f"unmatched {r.unmatched}; in grids without an active specialist "
        f"{r.without_specialist}; SMS: {r.sms_queued} queued, {r.sms_replaced} replaced, "
        f"{r.sms_withdrawn} withdrawn; {r.tasks_created} tasks created; "
        f"{r.no_policy_in_force} customers with no policy in force left out"
    )
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models import Branch
    from app.services.intake.outbox import export_outbox, import_outbox_results

    db = open_db(args, writes=True)  # an export marks what it wrote as handed over
    require(db.user, db.user is None or db.user.may_import, "hand the SMS outbox to the gateway")
    with db.Session() as s, s.begin():
        if args.action == "export":
            branch_id = None if db.user is None else db.user.branch_id
            if args.branch:
                chosen = s.scalar(select(Branch.id).where(Branch.code == args.branch))
                if chosen is None:
                    raise CommandError(f"no branch with code '{args.branch}' in this database")
                if db.user is not None and chosen != branch_id:
                    raise CommandError(f"{db.user.login} may not export branch {args.branch}")
                branch_id = chosen
            n = export_outbox(s, args.out, status=args.status, branch_id=branch_id)
            print(f"{args.out}: {n} {args.status} messages written for the SMS gateway")
            return 0
        r = import_outbox_results(
            s, args.file, branch_id=None if db.user is None else db.user.branch_id
        )
    unknown = f", {len(r.unknown_ids)} unknown message ids ignored" if r.unknown_ids else ""
    print(f"{r.file}: {r.rows} results read, {r.sent} sent, {r.failed} failed{unknown}")
    return 0
