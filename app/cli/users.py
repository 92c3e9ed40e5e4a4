"""Commands that manage the branch's user accounts (a senior supervisor's job)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import unicodedata
from collections.abc import Sequence

from app.cli.common import CommandError, Handlers, Opened, open_db, require
from app.models.enums import Role
from app.services.people.auth import UserInfo

NEW_PASSWORD_ENV = "GRIDDESK_NEW_PASSWORD"


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add this module's commands to ``sub``; return their handlers by name."""
    user = sub.add_parser(
        "user", parents=[common], help="add, list, reset or deactivate user accounts"
    )
    usub = user.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = usub.add_parser(
        "add",
        parents=[common],
        help="add a user (the new password comes from $GRIDDESK_NEW_PASSWORD or is asked for)",
    )
    p.add_argument("login", metavar="LOGIN", help="the user name to sign in with (no spaces)")
    p.add_argument("--name", required=True, help="the name the app shows")
    p.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
        help="senior_supervisor (the branch), supervisor (their teams) or analyst (reads, masked)",
    )
    p.add_argument(
        "--team",
        metavar="CODE",
        action="append",
        default=[],
        help="a team a supervisor leads (repeat for several)",
    )
    p.add_argument(
        "--branch",
        metavar="CODE",
        help="the branch of the first account, when the database holds several",
    )
    p = usub.add_parser(
        "reset",
        parents=[common],
        help="give a user a new password ($GRIDDESK_NEW_PASSWORD or asked for) and unlock them",
    )
    p.add_argument("login", metavar="LOGIN", help="whose password to reset")
    p = usub.add_parser("deactivate", parents=[common], help="stop a user from signing in")
    p.add_argument("login", metavar="LOGIN", help="whose account to deactivate")
    usub.add_parser("list", parents=[common], help="list the branch's users")
    return {"user": cmd_user}


def cmd_user(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(open_db(args))
    db = open_db(args, writes=True)
    if args.action == "add":
        return _add(args, db)
    actor = _require_senior(db)
    from app.services.people import accounts

    if args.action == "reset":
        password = new_password(args.login)
        with db.Session() as s, s.begin():
            row = accounts.reset_password(s, actor=actor, login=args.login, password=password)
        print(f"new password set for {row.login}")
    else:
        with db.Session() as s, s.begin():
            row = accounts.deactivate_account(s, actor=actor, login=args.login)
        print(f"{row.login} is deactivated: they can no longer sign in")
    return 0


def _require_senior(db: Opened) -> UserInfo:
    """Return the user the command runs as, once they are known to be a senior supervisor."""
    if db.user is None:
        raise CommandError("this database has no users yet: add a senior supervisor first")
    require(db.user, db.user.role is Role.SENIOR_SUPERVISOR, "manage user accounts")
    return db.user


def _add(args: argparse.Namespace, db: Opened) -> int:
    from app.services.people import accounts

    if db.user is not None:
        require(db.user, db.user.role is Role.SENIOR_SUPERVISOR, "manage user accounts")
    elif args.role != Role.SENIOR_SUPERVISOR:
        raise CommandError(
            "this database has no users yet: the first account must be a senior supervisor "
            "(--role senior_supervisor)"
        )
    password = new_password(args.login)
    with db.Session() as s, s.begin():
        row = accounts.add_account(
            s,
            actor=db.user,
            login=args.login,
            display_name=args.name,
            role=args.role,
            password=password,
            team_codes=args.team,
            branch_code=args.branch,
        )
    teams = f", teams {', '.join(row.team_codes)}" if row.team_codes else ""
    print(f"user {row.login} added ({row.role.value}{teams})")
    return 0


def _list(db: Opened) -> int:
    from sqlalchemy import select

    from app.models import Branch
    from app.models.base import utcnow
    from app.services.clock import local_text
    from app.services.people import accounts

    _require_senior(db)
    assert db.user is not None
    now = utcnow()
    with db.Session() as s:
        rows = accounts.list_accounts(s, actor=db.user)
        tz = s.scalar(select(Branch.timezone).where(Branch.id == db.user.branch_id))
    header = ("login", "name", "role", "teams", "active", "last sign-in")
    lines = [header]
    for r in rows:
        state = "yes" if r.active else "no"
        if r.active and r.locked(now):
            state = f"locked until {local_text(r.locked_until, tz, '%H:%M')}"
        lines.append(
            (
                r.login,
                r.display_name,
                r.role.value,
                ",".join(r.team_codes),
                state,
                local_text(r.last_sign_in, tz) or "never",
            )
        )
    sys.stdout.write(_aligned(lines))
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _aligned(lines: Sequence[tuple[str, ...]]) -> str:
    """Return the rows as left-aligned columns (Chinese characters count double)."""
    widths = [max(_width(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for line in lines:
        cells = [v + " " * (widths[i] - _width(v)) for i, v in enumerate(line)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out) + "\n"


def new_password(login: str) -> str:
    """Return the new password for ``login``: $GRIDDESK_NEW_PASSWORD, or asked twice in a
    terminal."""
    password = os.environ.get(NEW_PASSWORD_ENV)
    if password is not None:
        return password
    if sys.stdin is None or not sys.stdin.isatty():
        raise CommandError(
            f"no new password for {login}: set {NEW_PASSWORD_ENV}, or run the command in a "
            "terminal to be asked for it"
        )
    first = getpass.getpass(f"New password for {login}: ")
    if getpass.getpass(f"New password for {login} again: ") != first:
        raise CommandError("the two passwords differ: nothing changed")
    return first
