"""Commands that print persistency and the 4-sell funnel."""

from __future__ import annotations

import argparse
import sys

from app.cli.common import Handlers, open_db, parse_date

FORMATS = ("table", "csv", "json")
FORMAT_HELP = "table for people (rates in %%), csv or json for programs (rates as fractions)"


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add this module's commands to ``sub``; return their handlers by name."""
    metrics = sub.add_parser("metrics", parents=[common], help="print persistency or the funnel")
    msub = metrics.add_subparsers(dest="metric", metavar="METRIC", required=True)
    p = msub.add_parser("persistency", parents=[common], help="13- or 25-month persistency")
    p.add_argument("--period", required=True, help="2024-03, 2024-Q1 or 2024")
    p.add_argument("--as-of", type=parse_date, default=None, help="report date (default: today)")
    p.add_argument(
        "--month",
        type=int,
        choices=(13, 25),
        default=13,
        help="13-month (policy year 2) or 25-month (year 3) persistency; default 13",
    )
    p.add_argument(
        "--by",
        choices=("grid", "specialist", "team", "payment_mode", "product", "cohort", "contact_band"),
        help="one row per group (default: one row for everything you see)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    p = msub.add_parser("funnel", parents=[common], help="the 4-sell funnel of a pool-entry cohort")
    p.add_argument("--cohort", required=True, help="2024-03, 2024-Q1 or 2024")
    p.add_argument(
        "--by",
        choices=("grid", "specialist", "team", "cohort"),
        help="one row per group (default: one row for the whole cohort)",
    )
    p.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    return {"metrics": cmd_metrics}


def cmd_metrics(args: argparse.Namespace) -> int:
    from app.services.metrics.formatting import render_funnel, render_persistency
    from app.services.periods import Period

    db = open_db(args)
    user = db.user
    # What the user sees: a supervisor their teams, everyone else their branch.
    branch_id = None if user is None else user.branch_id
    team_ids = None if user is None else user.team_scope()
    with db.Session() as s:
        if args.metric == "persistency":
            from app.services.metrics.persistency import persistency_report

            rows = persistency_report(
                s,
                period=Period.parse(args.period),
                as_of=args.as_of or db.today(),
                month=args.month,
                by=args.by,
                branch_id=branch_id,
                team_ids=team_ids,
            )
            out = render_persistency(rows, args.format)
        else:
            from app.services.metrics.funnel import funnel_report

            funnel = funnel_report(
                s,
                cohort=Period.parse(args.cohort),
                by=args.by,
                branch_id=branch_id,
                team_ids=team_ids,
            )
            out = render_funnel(funnel, args.format)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0
