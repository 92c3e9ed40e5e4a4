"""The branch's own settings: griddesk branch [--max-amount YUAN] [--handoff-targets S,C,V]
[--scorecard-standards R,P,T,C]."""

from __future__ import annotations

import argparse

from app.cli.common import CommandError, Handlers, open_db


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    p = sub.add_parser("branch", parents=[common], help="show or change the branch's settings")
    p.add_argument(
        "--max-amount",
        type=int,
        metavar="YUAN",
        help="the largest premium, due or receipt an import accepts (default 100,000,000)",
    )
    p.add_argument(
        "--handoff-targets",
        metavar="SMS,CONTACT,SERVICE",
        help="days from pool entry by which the SMS is sent, the customer first contacted and "
        "first served (default 1,7,30)",
    )
    p.add_argument(
        "--scorecard-standards",
        metavar="RENEWAL,PERSISTENCY,TASKS,CONTACT",
        help="the monthly scorecard's standards in whole percent: renewal premium collected, "
        "13-month persistency, tasks done on time, first contact on time (default 90,85,80,80; "
        "the service-equity standard is always: no flag)",
    )
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")
    return {"branch": cmd_branch}


def cmd_branch(args: argparse.Namespace) -> int:

    from app.services.exports.scope import find_branch
    from app.services.people.branches import (
        SettingError,
        branch_settings,
        set_amount_limit,
        set_handoff_targets,
        set_scorecard_standards,
    )

    targets = _targets(args.handoff_targets) if args.handoff_targets else None
    standards = _standards(args.scorecard_standards) if args.scorecard_standards else None
    changing = args.max_amount is not None or targets is not None or standards is not None
    db = open_db(args, writes=changing)
    with db.Session() as s, s.begin():
        branch_id = find_branch(s, args.branch, db.user)
        try:
            if args.max_amount is not None:
                set_amount_limit(s, actor=db.user, branch_id=branch_id, yuan=args.max_amount)
            if targets is not None:
                set_handoff_targets(s, actor=db.user, branch_id=branch_id, targets=targets)
            if standards is not None:
                set_scorecard_standards(s, actor=db.user, branch_id=branch_id, standards=standards)
        except SettingError as exc:
            raise CommandError(str(exc)) from None
        settings = branch_settings(s, branch_id)
    print(f"branch          {settings.code} {settings.name}")
    print(f"grace period    {settings.grace_days} days")
    print(f"amount limit    {settings.max_amount_yuan:,} yuan per premium, due or receipt")
    h = settings.handoff
    print(
        f"hand-off        SMS sent within {h.sms_days} days of pool entry, first contact "
        f"within {h.contact_days}, first service within {h.service_days}"
    )
    c = settings.scorecard
    print(
        f"scorecard       renewal collected >= {c.renewal_pct} %, 13-month persistency >= "
        f"{c.persistency_pct} %, tasks on time >= {c.tasks_pct} %, first contact on time >= "
        f"{c.contact_pct} %, no service-equity flag"
    )
    return 0


def _standards(text: str):
    from app.services.metrics.scorecard import Standards

    parts = [p.strip().rstrip("%").strip() for p in text.split(",")]
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise CommandError(
            "--scorecard-standards takes four whole percentages, RENEWAL,PERSISTENCY,TASKS,"
            f"CONTACT (for example 90,85,80,80), not '{text}'"
        )
    return Standards(*(int(p) for p in parts))


def _targets(text: str):
    from app.services.metrics.handoff import HandoffTargets

    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise CommandError(
            f"--handoff-targets takes three whole numbers of days, SMS,CONTACT,SERVICE "
            f"(for example 1,7,30), not '{text}'"
        )
    return HandoffTargets(*(int(p) for p in parts))
