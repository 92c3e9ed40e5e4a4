"""Commands that create, fill and copy the database."""

from __future__ import annotations

import argparse
import sys

from app.cli.common import CommandError, Handlers, open_db, parse_date, require


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add this module's commands to ``sub``; return their handlers by name."""
    sub.add_parser("init", parents=[common], help="create or migrate the database")
    p = sub.add_parser("demo", parents=[common], help="build a demo branch")
    p.add_argument(
        "--size",
        choices=("small", "city", "large"),
        default="small",
        help="how big a branch: small (~5,000 customers), city or large (default small)",
    )
    p.add_argument("--seed", type=int, default=7, help="the same seed builds the same branch")
    p.add_argument(
        "--as-of", type=parse_date, default=None, help="the demo's today (default: today)"
    )
    p = sub.add_parser("import", parents=[common], help="import an exchange file")
    p.add_argument(
        "kind",
        metavar="KIND",
        help="grids, teams, specialists, agents, customers, policies, dues, tasks or assignments",
    )
    p.add_argument("file", help="the CSV (UTF-8 or GBK) or XLSX file to import")
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")
    p = sub.add_parser("snapshot", parents=[common], help="copy the branch for offline review")
    p.add_argument("--to", required=True, metavar="FILE.sqlite", help="the snapshot file to write")
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")
    p.add_argument("--team", metavar="CODE", action="append", help="only these teams' customers")
    sub.add_parser(
        "secure",
        parents=[common],
        help="enforce the roles in a shared PostgreSQL database itself (run as its owner)",
    )
    return {
        "init": cmd_init,
        "demo": cmd_demo,
        "import": cmd_import,
        "snapshot": cmd_snapshot,
        "secure": cmd_secure,
    }


def cmd_secure(args: argparse.Namespace) -> int:
    """Make the database enforce each role (app.services.database.roles) and give every account a
    database login; those sign in once a senior supervisor gives them a password."""
    from sqlalchemy import select, text

    from app.db import redact
    from app.models import User
    from app.services.database.roles import DatabaseRoleError, login_role, secure

    db = open_db(args, writes=True)
    require(db.user, db.user is None or db.user.may_import, "enforce database roles")
    try:
        secure(db.engine)
    except DatabaseRoleError as exc:
        raise CommandError(str(exc)) from None
    with db.Session() as s:  # secure() gave each of them a login
        logins = list(s.scalars(select(User.login).order_by(User.login)))
        database = s.scalar(text("SELECT current_database()"))
    print(f"{redact(db.url)} now enforces GridDesk's roles itself.")
    if logins:
        print("Database logins: " + ", ".join(login_role(x, database) for x in logins) + ".")
        print(
            "Each signs in once given a password: griddesk user reset LOGIN. Desktops "
            "then open the database by a URL without a user name "
            "(postgresql://host/database), and everyone signs in as themselves."
        )
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from app.config import settings_db_url_unless
    from app.db import make_engine, redact
    from app.opening import chosen_url, open_database, upgrade

    url = chosen_url(getattr(args, "db", None), settings_db_url_unless(getattr(args, "db", None)))
    # Creates a missing SQLite file, refuses a foreign file or an offline copy, and agrees to
    # create or upgrade a shared database's tables: that is what init is for.
    opened = open_database(url, creates=True, writes=True, confirm_migration=lambda *_: True)
    # A URL without a user name: init runs as whoever the server takes by default (its owner).
    engine = opened.engine or make_engine(url)
    upgrade(engine)  # also re-secures a database that enforces the roles
    print(f"database ready: {redact(opened.url)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.cli.progress import TerminalProgress
    from app.services.demo import build_demo

    db = open_db(args, writes=True, creates=True)
    require(db.user, db.user is None or db.user.may_import, "build a demo branch here")
    with db.Session() as s, s.begin():
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

    from app.cli.progress import TerminalProgress
    from app.services.exports.scope import find_branch
    from app.services.importer import KINDS, import_file

    if args.kind not in KINDS:
        raise CommandError(f"unknown kind '{args.kind}': choose one of {', '.join(KINDS)}")
    db = open_db(args, writes=True)
    require(db.user, db.user is None or db.user.may_import, "import files")
    with db.Session() as s, s.begin():
        # Without a user or --branch, the importer takes the only branch (or makes one in an
        # empty database).
        branch_id = find_branch(s, args.branch, db.user) if args.branch or db.user else None
        result = import_file(
            s, args.kind, args.file, branch_id=branch_id, state=TerminalProgress(), actor=db.actor
        )
    print(
        f"{result.file}: {result.rows} rows imported as {result.kind} "
        f"({result.inserted} new, {result.updated} updated)"
    )
    for notice in result.notices:
        print(f"  note: {notice}")
    return 0


def cmd_snapshot(args: argparse.Namespace) -> int:

    from app.cli.progress import TerminalProgress
    from app.services.exports.scope import find_branch, resolve_scope
    from app.services.files.snapshot import plan_snapshot, take_snapshot

    db = open_db(args, migrate_sqlite=False)
    engine, user = db.engine, db.user
    with db.Session() as s:
        ids = [find_branch(s, args.branch, user)]
        team_ids = None
        if args.team:
            found: set[int] = set()
            for code in args.team:
                scope = resolve_scope(s, f"team:{code}", branch_id=ids[0], user=user)
                found |= scope.team_ids or set()
            team_ids = sorted(found)
    if user is not None and ids[0] != user.branch_id:
        raise CommandError(f"{user.login} may not copy branch {args.branch}")
    plan = plan_snapshot(engine, branch_id=ids[0], user=user, team_ids=team_ids)
    print(
        f"copying {plan.total_rows:,} rows, about {plan.estimated_bytes / 1e6:.0f} MB",
        file=sys.stderr,
    )
    result = take_snapshot(
        engine,
        args.to,
        branch_id=ids[0],
        user=user,
        team_ids=team_ids,
        state=TerminalProgress(),
    )
    print(
        f"snapshot written: {result.path} ({result.bytes / 1e6:.1f} MB, {sum(result.rows.values()):,} rows)"
    )
    return 0
