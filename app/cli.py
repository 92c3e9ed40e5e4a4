"""The griddesk command line: the desktop app, and the same services for scripts and jobs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date

from app import __version__

DEBUG_ENV = "GRIDDESK_DEBUG"


class CommandError(Exception):
    """A failure to report to the user as one readable message (exit status 1)."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date: write it as 2024-03-31"
        ) from None


def _common() -> argparse.ArgumentParser:
    # --db may stand before or after the command: the subparsers carry it too, without a default
    # of their own so they do not overwrite a value given before the command.
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (sqlite:///file.db or postgresql://user@host/db); "
        "default: $GRIDDESK_DB, then the settings, then the local file",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="griddesk",
        description="GridDesk: the community grid workbench. Without a command, opens the app.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"GridDesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("init", parents=[common], help="create or migrate the database")

    p = sub.add_parser("demo", parents=[common], help="build a demo branch")
    p.add_argument("--size", choices=("small", "city", "large"), default="small")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--as-of", type=_date, default=None, help="the demo's today (default: today)")

    p = sub.add_parser("import", parents=[common], help="import an exchange file")
    p.add_argument(
        "kind",
        metavar="KIND",
        help="grids, teams, specialists, agents, customers, policies, dues or tasks",
    )
    p.add_argument("file")
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")

    p = sub.add_parser(
        "intake", parents=[common], help="an agent has left: pool, SMS, match, tasks"
    )
    p.add_argument("--agent", required=True, metavar="CODE", help="the departed agent's code")
    p.add_argument(
        "--date", type=_date, default=None, help="pool entry date (default: the leaving date)"
    )

    outbox = sub.add_parser("outbox", parents=[common], help="the SMS outbox and the gateway")
    osub = outbox.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = osub.add_parser("export", parents=[common], help="write the gateway's CSV")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--status", choices=("queued", "sent", "failed"), default="queued")
    p.add_argument("--branch", metavar="CODE", help="branch code (default: every branch)")
    p = osub.add_parser("import", parents=[common], help="read the gateway's results")
    p.add_argument("file")

    p = sub.add_parser("snapshot", parents=[common], help="copy the branch for offline review")
    p.add_argument("--to", required=True, metavar="FILE.sqlite", help="the snapshot file to write")
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")
    p.add_argument("--team", metavar="CODE", action="append", help="only these teams' customers")

    metrics = sub.add_parser("metrics", parents=[common], help="print persistency or the funnel")
    msub = metrics.add_subparsers(dest="metric", metavar="METRIC", required=True)
    p = msub.add_parser("persistency", parents=[common], help="13- or 25-month persistency")
    p.add_argument("--period", required=True, help="2024-03, 2024-Q1 or 2024")
    p.add_argument("--as-of", type=_date, default=None, help="report date (default: today)")
    p.add_argument("--month", type=int, choices=(13, 25), default=13)
    p.add_argument(
        "--by", choices=("grid", "specialist", "team", "payment_mode", "product", "cohort")
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p = msub.add_parser("funnel", parents=[common], help="the 4-sell funnel of a pool-entry cohort")
    p.add_argument("--cohort", required=True, help="2024-03, 2024-Q1 or 2024")
    p.add_argument("--by", choices=("grid", "specialist", "team", "cohort"))
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    rebalance = sub.add_parser("rebalance", parents=[common], help="rebalance workloads")
    rsub = rebalance.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = rsub.add_parser("propose", parents=[common], help="write a rebalancing plan")
    p.add_argument("--scope", default="branch", help="branch (default) or team:CODE")
    p.add_argument("--max-moves", type=int, default=None, metavar="N", help="default: no limit")
    p.add_argument("--max-distance-km", type=float, default=None, metavar="KM")
    p.add_argument("--grids-only", action="store_true", help="never move single customers")
    p.add_argument("--as-of", type=_date, default=None, help="default: today")
    p.add_argument("--time-limit", type=float, default=3.0, metavar="SECONDS")
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")
    p.add_argument("--out", required=True, metavar="PLAN.json")
    p = rsub.add_parser("apply", parents=[common], help="apply a plan in one transaction")
    p.add_argument("plan", metavar="PLAN.json")
    p = rsub.add_parser("undo", parents=[common], help="undo the latest rebalance")
    p.add_argument("--batch", type=int, default=None, help="the change batch to undo")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from app.main import run_app

        return run_app(getattr(args, "db", None))
    handler: Callable[[argparse.Namespace], int] = COMMANDS[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("griddesk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one readable line, never a traceback, unless debugging
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"griddesk {args.command}: {describe_error(exc)}", file=sys.stderr)
        return 1


def describe_error(exc: BaseException) -> str:
    """Return a message for the user about ``exc`` (no traceback, no password)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.db import DatabaseUrlError

    if isinstance(exc, (CommandError, DatabaseUrlError)):
        return str(exc)
    if isinstance(exc, OperationalError):
        orig = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return f"the database cannot be used: {orig}"
    if isinstance(exc, ProgrammingError):
        orig = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        return (
            f"the database refused the request: {orig} (is the schema current? run 'griddesk init')"
        )
    text = str(exc).strip() or type(exc).__name__
    return text


# --- commands ---------------------------------------------------------------------------------


def _open(args: argparse.Namespace, *, migrate_sqlite: bool = True):
    """Return (url, engine, sessionmaker) for the database the arguments choose."""
    from app.config import settings_db_url
    from app.db import (
        has_schema,
        is_sqlite,
        make_engine,
        make_sessionmaker,
        migrate,
        needs_migration,
        redact,
        resolve_url,
    )

    url = resolve_url(getattr(args, "db", None), settings_db_url())
    engine = make_engine(url)
    if needs_migration(engine):
        if is_sqlite(engine) and migrate_sqlite:
            migrate(engine)
        elif not has_schema(engine):
            raise CommandError(f"{redact(url)} has no GridDesk schema yet: run 'griddesk init'")
        else:
            raise CommandError(
                f"{redact(url)} has an older schema: run 'griddesk init' to migrate it"
            )
    return url, engine, make_sessionmaker(engine)


def cmd_init(args: argparse.Namespace) -> int:
    from app.config import settings_db_url
    from app.db import make_engine, migrate, redact, resolve_url

    url = resolve_url(getattr(args, "db", None), settings_db_url())
    migrate(make_engine(url))
    print(f"database ready: {redact(url)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.cli_progress import TerminalProgress
    from app.services.demo import build_demo

    _url, _engine, Session = _open(args)
    with Session() as s, s.begin():
        summary = build_demo(
            s, size=args.size, seed=args.seed, as_of=args.as_of, state=TerminalProgress()
        )
    print(
        f"demo branch built: {summary.grids} grids, {summary.teams} teams, "
        f"{summary.specialists} specialists, {summary.customers} customers, "
        f"{summary.policies} policies, {summary.dues} premium dues, {summary.tasks} tasks"
    )
    for login, role, password in summary.users:
        print(f"  user {login} ({role}), password {password}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli_progress import TerminalProgress
    from app.models import Branch
    from app.services.importer import KINDS, import_file

    if args.kind not in KINDS:
        raise CommandError(f"unknown kind '{args.kind}': choose one of {', '.join(KINDS)}")
    _url, _engine, Session = _open(args)
    with Session() as s, s.begin():
        branch_id = None
        if args.branch:
            branch_id = s.scalar(select(Branch.id).where(Branch.code == args.branch))
            if branch_id is None:
                raise CommandError(f"no branch with code '{args.branch}' in this database")
        result = import_file(s, args.kind, args.file, branch_id=branch_id, state=TerminalProgress())
    print(
        f"{result.file}: {result.rows} rows imported as {result.kind} "
        f"({result.inserted} new, {result.updated} updated)"
    )
    return 0


def cmd_intake(args: argparse.Namespace) -> int:
    from app.services.intake.intake import intake_agent

    _url, _engine, Session = _open(args)
    with Session() as s, s.begin():
        r = intake_agent(s, agent_code=args.agent, on_date=args.date, actor="cli")
    print(
        f"agent {r.agent_code}, pool entry {r.on_date}: {r.customers_entered} customers entered "
        f"({r.already_in_pool} already in the pool); matched by point {r.matched_by_point}, "
        f"by address {r.matched_by_address}, by rule {r.matched_by_rule}; "
        f"unmatched {r.unmatched}; in grids without an active specialist "
        f"{r.without_specialist}; {r.sms_queued} SMS queued, {r.tasks_created} tasks created"
    )
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models import Branch
    from app.services.intake.outbox import export_outbox, import_outbox_results

    _url, _engine, Session = _open(args)
    with Session() as s, s.begin():
        if args.action == "export":
            branch_id = None
            if args.branch:
                branch_id = s.scalar(select(Branch.id).where(Branch.code == args.branch))
                if branch_id is None:
                    raise CommandError(f"no branch with code '{args.branch}' in this database")
            n = export_outbox(s, args.out, status=args.status, branch_id=branch_id)
            print(f"{args.out}: {n} {args.status} messages written for the SMS gateway")
            return 0
        r = import_outbox_results(s, args.file)
    unknown = f", {len(r.unknown_ids)} unknown message ids ignored" if r.unknown_ids else ""
    print(f"{r.file}: {r.rows} results read, {r.sent} sent, {r.failed} failed{unknown}")
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from app.services.metrics.formatting import render_funnel, render_persistency
    from app.services.periods import Period

    _url, _engine, Session = _open(args)
    with Session() as s:
        if args.metric == "persistency":
            from app.services.metrics.persistency import persistency_report

            rows = persistency_report(
                s,
                period=Period.parse(args.period),
                as_of=args.as_of or date.today(),
                month=args.month,
                by=args.by,
            )
            out = render_persistency(rows, args.format)
        else:
            from app.services.metrics.funnel import funnel_report

            rows = funnel_report(s, cohort=Period.parse(args.cohort), by=args.by)
            out = render_funnel(rows, args.format)
    sys.stdout.write(out if out.endswith("\n") else out + "\n")
    return 0


def cmd_rebalance(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models import Branch, Team
    from app.services.rebalance.apply import apply_plan, undo_batch
    from app.services.rebalance.make import make_plan
    from app.services.rebalance.plan import read_plan, write_plan

    _url, _engine, Session = _open(args)
    if args.action == "apply":
        plan = read_plan(args.plan)
        with Session() as s, s.begin():
            r = apply_plan(s, plan, actor="cli", user_may_cross_teams=True)
        print(
            f"{args.plan}: applied as change batch {r.batch_id}: {r.grids_moved} grids, "
            f"{r.customers_moved} customers and {r.tasks_moved} open tasks moved, "
            f"{r.sms_queued} SMS queued"
        )
        return 0
    if args.action == "undo":
        with Session() as s, s.begin():
            u = undo_batch(s, actor="cli", batch_id=args.batch)
        print(
            f"rebalance {u.batch_id} undone: {u.grids_restored} grids, {u.customers_restored} "
            f"customers and {u.tasks_restored} open tasks back ({u.tasks_kept} tasks closed "
            f"since stay), {u.sms_queued} SMS queued"
        )
        return 0
    with Session() as s:
        branches = s.execute(select(Branch.id, Branch.code)).all()
        chosen = [b for b in branches if args.branch in (None, b.code)]
        if len(chosen) != 1:
            raise CommandError(
                f"no branch with code '{args.branch}' in this database"
                if args.branch
                else "the database holds no branch"
                if not branches
                else "the database holds several branches: choose one with --branch CODE"
            )
        team_ids = None
        if args.scope != "branch":
            code = args.scope.removeprefix("team:")
            team = s.scalar(
                select(Team.id).where(Team.branch_id == chosen[0].id, Team.code == code)
            )
            if not args.scope.startswith("team:") or team is None:
                raise CommandError(
                    f"--scope must be 'branch' or 'team:CODE' of a team, not '{args.scope}'"
                )
            team_ids = [team]
        plan = make_plan(
            s,
            branch_id=chosen[0].id,
            as_of=args.as_of or date.today(),
            team_ids=team_ids,
            max_moves=args.max_moves,
            max_distance_km=args.max_distance_km,
            allow_customer_moves=not args.grids_only,
            time_limit_s=args.time_limit,
        )
    write_plan(args.out, plan)
    grids = sum(1 for m in plan.moves if m.kind == "grid")
    print(
        f"{args.out}: {len(plan.moves)} moves ({grids} grids, {len(plan.moves) - grids} "
        f"customers); largest workload {plan.before_max:.1f} -> {plan.after_max:.1f} "
        f"(no plan can go below {plan.lower_bound:.1f})"
    )
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli_progress import TerminalProgress
    from app.models import Branch, Team
    from app.services.snapshot import plan_snapshot, take_snapshot

    _url, engine, Session = _open(args, migrate_sqlite=False)
    with Session() as s:
        stmt = (
            select(Branch.id)
            if not args.branch
            else select(Branch.id).where(Branch.code == args.branch)
        )
        ids = s.scalars(stmt).all()
        if len(ids) != 1:
            raise CommandError(
                f"no branch with code '{args.branch}'"
                if args.branch
                else "say which branch: --branch CODE"
            )
        team_ids = None
        if args.team:
            team_ids = s.scalars(
                select(Team.id).where(Team.branch_id == ids[0], Team.code.in_(args.team))
            ).all()
            if len(team_ids) != len(set(args.team)):
                raise CommandError(f"unknown team code among {', '.join(args.team)}")
    plan = plan_snapshot(engine, branch_id=ids[0], team_ids=team_ids)
    print(
        f"copying {plan.total_rows:,} rows, about {plan.estimated_bytes / 1e6:.0f} MB",
        file=sys.stderr,
    )
    result = take_snapshot(
        engine,
        args.to,
        branch_id=ids[0],
        team_ids=team_ids,
        taken_by="cli",
        state=TerminalProgress(),
    )
    print(
        f"snapshot written: {result.path} ({result.bytes / 1e6:.1f} MB, {sum(result.rows.values()):,} rows)"
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "snapshot": cmd_snapshot,
    "init": cmd_init,
    "demo": cmd_demo,
    "import": cmd_import,
    "intake": cmd_intake,
    "outbox": cmd_outbox,
    "metrics": cmd_metrics,
    "rebalance": cmd_rebalance,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
