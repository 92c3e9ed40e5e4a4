"""Commands for departed agents' customers and the SMS gateway."""

from __future__ import annotations

import argparse

from app.cli.common import CommandError, Handlers, only_branch, open_db, parse_date, require

# Why an address is outside coverage (app.services.intake.coverage.REASONS, kept in step by a
# test: the parser is built without importing the services).
REASON_HELP = {
    "no_grid_district": "本市无网格的区县, a district of the city with no grids",
    "out_of_town": "外地地址, an address outside the city",
    "incomplete": "地址不全需核实, address incomplete, to be checked",
    "other": "其他, other: say why in --note",
}
REASON_CODES = tuple(REASON_HELP)


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add this module's commands to ``sub``; return their handlers by name."""
    p = sub.add_parser(
        "intake",
        parents=[common],
        help="an agent has left: pool, SMS, match, tasks; the addresses matching no grid",
        description="griddesk intake --agent CODE takes a departed agent's customers into the "
        "pool. griddesk intake unmatched lists the addresses matching no grid (with "
        "--outside-coverage: those marked outside coverage); intake outside CUSTOMER_NO... "
        "--reason R marks addresses outside coverage, intake restore CUSTOMER_NO... puts them "
        "back in the unmatched queue; intake rematch matches them all again.",
    )
    p.add_argument(
        "action",
        nargs="?",
        choices=("unmatched", "outside", "restore", "rematch"),
        help="unmatched: list the addresses matching no grid; outside: mark customers' "
        "addresses outside coverage; restore: put them back in the unmatched queue; rematch: "
        "match the queue and the outside addresses again (after new grids or rules). "
        "Without an action: run the intake of --agent",
    )
    p.add_argument("customers", nargs="*", metavar="CUSTOMER_NO", help="for outside and restore")
    p.add_argument("--agent", metavar="CODE", help="the departed agent's code")
    p.add_argument(
        "--date", type=parse_date, default=None, help="pool entry date (default: the leaving date)"
    )
    p.add_argument(
        "--outside-coverage",
        action="store_true",
        help="with unmatched: list the addresses marked outside coverage instead of the queue",
    )
    p.add_argument(
        "--reason",
        choices=REASON_CODES,
        help="with outside: why the addresses are outside coverage: "
        + "; ".join(f"{k} ({v})" for k, v in REASON_HELP.items()),
    )
    p.add_argument(
        "--note", default="", help="with outside: in your own words (required with --reason other)"
    )
    p.add_argument(
        "--format", choices=("table", "csv"), default="table", help="with unmatched: table or csv"
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

    action = getattr(args, "action", None)
    if action is not None:
        return _unmatched_action(args, action)
    if not args.agent:
        raise CommandError("say whose customers to take in: griddesk intake --agent CODE")
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

    from app.services.exports.scope import find_branch
    from app.services.intake.outbox import export_outbox, import_outbox_results

    db = open_db(args, writes=True)  # an export marks what it wrote as handed over
    require(db.user, db.user is None or db.user.may_import, "hand the SMS outbox to the gateway")
    with db.Session() as s, s.begin():
        if args.action == "export":
            # Without a user or --branch, every branch's messages; else the one branch.
            branch_id = None
            if args.branch or db.user is not None:
                branch_id = find_branch(s, args.branch, db.user)
            n = export_outbox(s, args.out, status=args.status, branch_id=branch_id)
            print(f"{args.out}: {n} {args.status} messages written for the SMS gateway")
            return 0
        r = import_outbox_results(
            s, args.file, branch_id=None if db.user is None else db.user.branch_id
        )
    unknown = f", {len(r.unknown_ids)} unknown message ids ignored" if r.unknown_ids else ""
    print(f"{r.file}: {r.rows} results read, {r.sent} sent, {r.failed} failed{unknown}")
    return 0


def _unmatched_action(args: argparse.Namespace, action: str) -> int:
    """The unmatched-address queue and the addresses outside coverage."""
    from sqlalchemy import select

    from app.models import Customer
    from app.services.intake import coverage
    from app.services.intake.unmatched import rematch_unmatched, unmatched_queue

    customers = list(getattr(args, "customers", None) or [])
    if action in ("unmatched", "rematch") and customers:
        raise CommandError(f"intake {action} takes no customer numbers")
    if action in ("outside", "restore") and not customers:
        raise CommandError(f"say which customers: griddesk intake {action} CUSTOMER_NO...")
    if action == "outside" and not getattr(args, "reason", None):
        raise CommandError(
            "say why the addresses are outside coverage: --reason " + "|".join(REASON_CODES)
        )
    db = open_db(args, writes=action != "unmatched")
    if action != "unmatched":
        require(
            db.user,
            db.user is None or db.user.may_move_across_teams,
            "file addresses matching no grid",
        )
    with db.Session() as s:
        branch_id = only_branch(s, db.user)
    if action == "unmatched":
        rows: list[tuple[str, ...]]
        header: tuple[str, ...]
        with db.Session() as s:
            if getattr(args, "outside_coverage", False):
                rows = [
                    (
                        r.customer_no,
                        r.name,
                        r.address,
                        r.district or "",
                        r.reason,
                        r.note,
                        r.marked_by,
                        f"{r.marked_at:%Y-%m-%d %H:%M}",
                        "" if r.days_waiting is None else str(r.days_waiting),
                    )
                    for r in coverage.outside_coverage(s, branch_id)
                ]
                header = (
                    "customer_no",
                    "name",
                    "address",
                    "district",
                    "reason",
                    "note",
                    "marked_by",
                    "marked_at_utc",
                    "days_waiting",
                )
            else:
                rows = [
                    (
                        r.customer_no,
                        r.name,
                        r.address,
                        "" if r.days_waiting is None else str(r.days_waiting),
                        " ".join(x.grid_code for x in r.suggestions),
                    )
                    for r in unmatched_queue(s, branch_id)
                ]
                header = ("customer_no", "name", "address", "days_waiting", "suggested_grids")
        _print_rows(header, rows, getattr(args, "format", "table"))
        return 0
    with db.Session() as s, s.begin():
        if action == "rematch":
            n = rematch_unmatched(s, branch_id, actor=db.actor)
            print(f"{n} customers without a grid were matched to one")
            return 0
        found = dict(
            s.execute(
                select(Customer.customer_no, Customer.id).where(
                    Customer.branch_id == branch_id, Customer.customer_no.in_(customers)
                )
            ).all()
        )
        missing = [no for no in customers if no not in found]
        if missing:
            raise CommandError(
                f"no customer {', '.join(missing)} in this branch; nothing was changed"
            )
        ids = [found[no] for no in customers]
        if action == "outside":
            coverage.mark_outside_coverage(
                s,
                customer_ids=ids,
                reason=args.reason,
                note=args.note or "",
                actor=db.actor,
                user=db.user,
            )
            print(f"{len(ids)} addresses marked outside coverage ({args.reason})")
        else:
            coverage.restore_to_queue(s, customer_ids=ids, actor=db.actor, user=db.user)
            print(f"{len(ids)} addresses put back in the unmatched queue")
    return 0


def _print_rows(header: tuple[str, ...], rows: list[tuple[str, ...]], fmt: str) -> None:
    import csv
    import sys

    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        return
    print("\t".join(header))
    for r in rows:
        print("\t".join(r))
    print(f"{len(rows)} customers")
