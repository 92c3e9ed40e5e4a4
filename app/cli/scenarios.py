"""Rebalancing scenarios on the command line: keep a plan file under a name, list the kept
ones, compare two of them (or one with today) and delete one. Applying one is
``rebalance apply --scenario NAME`` (in :mod:`app.cli.rebalance`)."""

from __future__ import annotations

import argparse
import unicodedata

from app.cli.common import only_branch, open_db, require

ACTIONS = ("keep", "scenarios", "compare", "rename", "delete")


def add_parsers(rsub, common: argparse.ArgumentParser) -> None:
    """Add the scenario actions to the ``rebalance`` command's subparsers."""
    p = rsub.add_parser(
        "keep", parents=[common], help="keep a plan file in the database as a named scenario"
    )
    p.add_argument("plan", metavar="PLAN.json", help="the plan file propose wrote")
    p.add_argument("--name", required=True, help="the scenario's name, unique in the branch")
    rsub.add_parser("scenarios", parents=[common], help="list the kept scenarios, newest first")
    p = rsub.add_parser(
        "compare",
        parents=[common],
        help="compare two scenarios, or one with today, side by side",
    )
    p.add_argument("left", metavar="NAME", help="a kept scenario")
    p.add_argument(
        "right",
        metavar="NAME|today",
        nargs="?",
        default="today",
        help="another kept scenario, or today (the default): the assignments as they are",
    )
    p = rsub.add_parser("rename", parents=[common], help="give a kept scenario another name")
    p.add_argument("name", metavar="NAME", help="the scenario to rename")
    p.add_argument("new_name", metavar="NEW_NAME", help="its new name, unique in the branch")
    p = rsub.add_parser("delete", parents=[common], help="delete a kept scenario")
    p.add_argument("name", metavar="NAME", help="the scenario to delete")


def run(args: argparse.Namespace) -> int:
    """Carry out one of ACTIONS."""
    from app.services.rebalance.plan_file import read_plan
    from app.services.rebalance.scenarios import (
        compare,
        delete_scenario,
        keep_scenario,
        list_scenarios,
    )

    writes = args.action in ("keep", "rename", "delete")
    db = open_db(args, writes=writes)
    user = db.user
    if writes:
        require(user, user is None or user.may_reassign_tasks, "keep, rename or delete scenarios")
    scope = None if user is None else user.team_scope()
    if args.action == "keep":
        plan = read_plan(args.plan)
        with db.Session() as s, s.begin():
            kept = keep_scenario(
                s,
                plan,
                name=args.name,
                author=db.actor,
                team_scope=scope,
                branch_scope=None if user is None else user.branch_id,
            )
        print(
            f'{args.plan}: kept as scenario "{kept.name}" ({kept.moves} moves, '
            f"{kept.customers_moved} customers moved)"
        )
        return 0
    with db.Session() as s:
        branch_id = only_branch(s, user)
    if args.action == "rename":
        from app.services.rebalance.scenarios import rename_scenario

        with db.Session() as s, s.begin():
            new = rename_scenario(
                s, args.name, args.new_name, branch_id=branch_id, team_scope=scope
            )
        print(f'scenario "{args.name}" is now "{new}"')
        return 0
    if args.action == "delete":
        with db.Session() as s, s.begin():
            delete_scenario(s, args.name, branch_id=branch_id, team_scope=scope)
        print(f'scenario "{args.name}" deleted')
        return 0
    if args.action == "scenarios":
        from sqlalchemy import select

        from app.models import Branch

        with db.Session() as s:
            rows = list_scenarios(s, branch_id=branch_id, team_scope=scope)
            zone = s.scalar(select(Branch.timezone).where(Branch.id == branch_id))
        _print_list(rows, zone)
        return 0
    with db.Session() as s:
        c = compare(
            s, args.left, args.right, branch_id=branch_id, team_scope=scope, as_of=db.today()
        )
    _print_comparison(c)
    return 0


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _print_rows(headings: list[str], rows: list[list[str]], left: int = 1) -> None:
    """Print aligned columns (Chinese by display width): the first ``left`` to the left."""
    widths = [max(_width(r[i]) for r in [headings, *rows]) for i in range(len(headings))]

    def line(values: list[str]) -> str:
        cells = [
            v + " " * (w - _width(v)) if i < left else " " * (w - _width(v)) + v
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    print(line(headings))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def _print_list(rows, zone: str) -> None:
    from app.services.clock import local_text

    if not rows:
        print("no scenarios kept")
        return
    _print_rows(
        ["name", "kept", "by", "scope", "as of", "moves", "customers", "largest", "settings"],
        [
            [
                r.name,
                local_text(r.created_at, zone),
                r.author,
                r.team_code or "branch",
                r.as_of.isoformat(),
                str(r.moves),
                str(r.customers_moved),
                f"{r.largest_before:.1f} -> {r.largest_after:.1f}",
                _settings(r),
            ]
            for r in rows
        ],
        left=5,
    )


def _settings(r) -> str:
    parts = [f"at most {r.max_moves} moves" if r.max_moves else "no move limit"]
    if r.max_distance_km:
        parts.append(f"within {r.max_distance_km:g} km")
    if r.keep_from_step is not None:
        parts.append(f"steps {r.keep_from_step}+ kept")
    return ", ".join(parts)


def _print_comparison(c) -> None:
    a, b = c.left, c.right
    print(f"{a.name} (as of {a.as_of}) against {b.name} (as of {b.as_of})")
    _print_rows(
        ["", a.name, b.name],
        [
            ["moves", str(a.moves), str(b.moves)],
            ["customers moved", str(a.customers_moved), str(b.customers_moved)],
            ["SMS", str(a.sms), str(b.sms)],
            ["relationships broken", str(a.relationships_broken), str(b.relationships_broken)],
            ["largest workload", f"{a.largest:.1f}", f"{b.largest:.1f}"],
            ["customers above capacity", str(a.above_capacity), str(b.above_capacity)],
            ["specialists above capacity", str(len(a.over_capacity)), str(len(b.over_capacity))],
        ],
    )
    print()

    def cell(value, fmt: str) -> str:
        return "" if value is None else format(value, fmt)

    _print_rows(
        [
            "specialist",
            "team",
            "capacity",
            f"{a.name}: customers",
            "load",
            f"{b.name}: customers",
            "load",
        ],
        [
            [
                f"{r.name} ({r.employee_no})",
                r.team_code,
                str(r.capacity),
                cell(r.left_customers, "d") + (" *" if r.employee_no in a.over_capacity else ""),
                cell(r.left_load, ".1f"),
                cell(r.right_customers, "d") + (" *" if r.employee_no in b.over_capacity else ""),
                cell(r.right_load, ".1f"),
            ]
            for r in c.rows
        ],
        left=2,
    )
    if a.over_capacity or b.over_capacity:
        print("* above capacity")
    print()
    if not c.grids:
        print("every grid has the same owner in both")
        return
    print(f"{len(c.grids)} grids whose owner differs:")
    _print_rows(
        ["grid", a.name, b.name],
        [[d.grid_code, d.left_name, d.right_name] for d in c.grids],
        left=3,
    )
