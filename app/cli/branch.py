"""The branch's own settings: griddesk branch [--max-amount YUAN]."""

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
    p.add_argument("--branch", metavar="CODE", help="branch code, when the database holds several")
    return {"branch": cmd_branch}


def cmd_branch(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models import Branch
    from app.services.branches import SettingError, branch_settings, set_amount_limit

    changing = args.max_amount is not None
    db = open_db(args, writes=changing)
    with db.Session() as s, s.begin():
        stmt = select(Branch.id).order_by(Branch.id)
        if args.branch:
            stmt = stmt.where(Branch.code == args.branch)
        elif db.user is not None:
            stmt = stmt.where(Branch.id == db.user.branch_id)
        ids = s.scalars(stmt).all()
        if not ids:
            raise CommandError(
                f"there is no branch '{args.branch}'" if args.branch else "no branch yet"
            )
        if len(ids) > 1:
            raise CommandError("this database holds several branches: say which (--branch CODE)")
        if changing:
            try:
                settings = set_amount_limit(
                    s, actor=db.user, branch_id=ids[0], yuan=args.max_amount
                )
            except SettingError as exc:
                raise CommandError(str(exc)) from None
        else:
            settings = branch_settings(s, ids[0])
    print(f"branch          {settings.code} {settings.name}")
    print(f"grace period    {settings.grace_days} days")
    print(f"amount limit    {settings.max_amount_yuan:,} yuan per premium, due or receipt")
    return 0
