"""Commands that write files for people: the meeting and scorecard workbooks, the detail export,
the map and the weekly visit lists."""

from __future__ import annotations

import argparse
from datetime import date

from app.cli.common import CommandError, Handlers, open_db, parse_date

SCOPE_HELP = "branch, team:CODE or specialist:EMPNO (default: all the user may see)"


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add this module's commands to ``sub``; return their handlers by name."""
    dated = argparse.ArgumentParser(add_help=False)
    dated.add_argument(
        "--as-of", type=parse_date, default=None, help="figures as of (default: today)"
    )
    dated.add_argument(
        "--lang", choices=("zh_CN", "en"), default="zh_CN", help="language of the file"
    )
    dated.add_argument(
        "--branch", metavar="CODE", help="branch code, when the database holds several"
    )
    shared = argparse.ArgumentParser(add_help=False, parents=[dated])
    shared.add_argument("--scope", help=SCOPE_HELP)
    export = sub.add_parser(
        "export", parents=[common], help="write the meeting workbook, details or the map"
    )
    esub = export.add_subparsers(dest="what", metavar="WHAT", required=True)
    p = esub.add_parser(
        "meeting", parents=[common, shared], help="the weekly meeting workbook (.xlsx)"
    )
    p.add_argument("--period", required=True, help="2024-03, 2024-Q1 or 2024")
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    p = esub.add_parser(
        "scorecard", parents=[common, shared], help="the monthly scorecard workbook (.xlsx)"
    )
    p.add_argument("--month", required=True, help="the month judged, e.g. 2025-10")
    p.add_argument("--out", required=True, metavar="FILE.xlsx", help="the workbook to write")
    p = esub.add_parser(
        "detail", parents=[common, shared], help="customers, policies and tasks of the scope"
    )
    p.add_argument(
        "--table",
        action="append",
        choices=("customers", "policies", "tasks"),
        help="only this table (repeatable; a .csv file takes exactly one)",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE.xlsx|FILE.csv",
        help="the file to write (by its ending)",
    )
    p = esub.add_parser(
        "map", parents=[common, shared], help="the grid map as one offline HTML file"
    )
    p.add_argument(
        "--measure",
        choices=("persistency", "open_tasks", "load", "coverage"),
        default="persistency",
        help="what colours the grids",
    )
    p.add_argument(
        "--out", required=True, metavar="FILE.html", help="the map page to write (works offline)"
    )
    _visits_parser(esub, common, dated)
    return {"export": cmd_export}


def _visits_parser(esub, common: argparse.ArgumentParser, dated: argparse.ArgumentParser) -> None:
    # Not importing app.services.visits.lists here: every command builds this parser, and the
    # visit lists bring their routing (numpy) with them.
    p = esub.add_parser(
        "visits",
        parents=[common, dated],
        help="weekly visit lists of a team's specialists or one specialist (.pdf or .xlsx)",
    )
    p.add_argument(
        "--week",
        required=True,
        help="the week: 2025-W49, or any day of it (2025-12-03); Monday to Sunday",
    )
    who = p.add_mutually_exclusive_group()
    who.add_argument(
        "--team",
        metavar="CODE",
        help="every active specialist of this team (default: every team you may see)",
    )
    who.add_argument("--specialist", metavar="EMPNO", help="only this specialist")
    p.add_argument(
        "--per-day",
        type=int,
        default=None,
        help="most customers planned a working day (default: what one A4 page holds)",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="FILE.pdf|FILE.xlsx",
        help="the file to write: a PDF (one A4 page per specialist and working day) or a "
        "workbook (a sheet per specialist), by its ending",
    )


def cmd_export(args: argparse.Namespace) -> int:

    from app.cli.progress import TerminalProgress
    from app.services.exports import ExportError, ScopeError, find_branch, resolve_scope

    db = open_db(args)
    as_of = args.as_of or db.today()
    user = db.user
    with db.Session() as s:
        try:
            branch_id = find_branch(s, args.branch, user)
            if args.what == "visits":
                return _visits(s, args, branch_id=branch_id, as_of=as_of, user=user)
            scope = resolve_scope(s, args.scope, branch_id=branch_id, user=user)
            if args.what == "meeting":
                result = _meeting(s, args, scope=scope, as_of=as_of, user=user)
            elif args.what == "scorecard":
                result = _scorecard(s, args, scope=scope, as_of=as_of, user=user)
            elif args.what == "detail":
                from app.services.exports.detail import write_detail

                result = write_detail(
                    s,
                    args.out,
                    scope=scope,
                    lang=args.lang,
                    user=user,
                    tables=args.table,
                    state=TerminalProgress(),
                )
            else:
                return _map(s, args, scope=scope, as_of=as_of)
        except (ScopeError, ExportError) as exc:
            raise CommandError(str(exc)) from None
    print(f"written: {result.path} ({', '.join(result.sheets)}; {result.rows:,} rows)")
    return 0


def _meeting(s, args: argparse.Namespace, *, scope, as_of: date, user):
    from app.cli.progress import TerminalProgress
    from app.services.exports.meeting import write_meeting_workbook
    from app.services.periods import Period, PeriodError

    try:
        period = Period.parse(args.period)
    except PeriodError as exc:
        raise CommandError(str(exc)) from None
    return write_meeting_workbook(
        s,
        args.out,
        period=period,
        as_of=as_of,
        scope=scope,
        lang=args.lang,
        user=user,
        state=TerminalProgress(),
    )


def _scorecard(s, args: argparse.Namespace, *, scope, as_of: date, user):
    from app.cli.progress import TerminalProgress
    from app.services.exports.scorecard import write_scorecard_workbook
    from app.services.periods import Period, PeriodError

    try:
        month = Period.parse(args.month)
    except PeriodError as exc:
        raise CommandError(str(exc)) from None
    if month.kind != "month":
        raise CommandError(f"--month takes a month such as 2025-10, not '{args.month}'")
    return write_scorecard_workbook(
        s,
        args.out,
        month=month,
        as_of=as_of,
        scope=scope,
        lang=args.lang,
        user=user,
        state=TerminalProgress(),
    )


def _visits(s, args: argparse.Namespace, *, branch_id: int, as_of: date, user) -> int:
    from app.cli.progress import TerminalProgress
    from app.services.exports import Texts, resolve_scope
    from app.services.exports.visits import scope_specialists, write_visit_lists
    from app.services.visits.lists import WeekError, week_of

    try:
        monday = week_of(args.week)
    except WeekError as exc:
        raise CommandError(str(exc)) from None
    if args.per_day is None:
        from app.services.visits.lists import MAX_PER_DAY

        args.per_day = MAX_PER_DAY
    if args.per_day < 1:
        raise CommandError("--per-day must be at least 1")
    text = (
        f"team:{args.team}"
        if args.team
        else f"specialist:{args.specialist}"
        if args.specialist
        else None
    )
    scope = resolve_scope(s, text, branch_id=branch_id, user=user)
    ids = scope_specialists(s, scope)
    if not ids:
        raise CommandError(f"no active specialist in {scope.describe(Texts('en'))}")
    result = write_visit_lists(
        s,
        args.out,
        specialist_ids=ids,
        week_monday=monday,
        as_of=as_of,
        user=user,
        lang=args.lang,
        per_day=args.per_day,
        state=TerminalProgress(),
    )
    print(f"written: {result.path} ({len(ids)} specialists; {result.rows:,} customers)")
    return 0


def _map(s, args: argparse.Namespace, *, scope, as_of: date) -> int:
    from app.services.exports.files import atomic_target
    from app.services.mapping import build_map_html, load_map_data

    if scope.specialist_ids is not None:
        raise CommandError("the map shows a branch or teams: use --scope branch or team:CODE")
    data = load_map_data(s, branch_id=scope.branch_id, team_ids=scope.team_ids, as_of=as_of)
    html = build_map_html(data, measure=args.measure, lang=args.lang, asset_mode="inline")
    with atomic_target(args.out, suffixes=(".html", ".htm")) as partial:
        partial.write_text(html, encoding="utf-8")
    print(f"written: {args.out} ({len(data.grids)} grids, {len(data.points):,} customers)")
    return 0
