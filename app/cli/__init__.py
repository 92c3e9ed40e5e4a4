"""The griddesk command line: the desktop app, and the same services for scripts and jobs.

Each module of this package registers its commands (``register(sub, common)``) and handles
them; this one assembles the parser and runs a command, turning any failure into one
readable line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from app import __version__
from app.cli import data, export, intake, metrics, rebalance, users
from app.cli.common import DEBUG_ENV, CommandError, Handlers, common_parser, describe_error
from app.cli.intake import cmd_intake, cmd_outbox

__all__ = ["CommandError", "build_parser", "cmd_intake", "cmd_outbox", "describe_error", "main"]

MODULES = (data, intake, metrics, rebalance, export, users)


def build_parser() -> tuple[argparse.ArgumentParser, Handlers]:
    """Return the parser and the handler of each command."""
    common = common_parser()
    parser = argparse.ArgumentParser(
        prog="griddesk",
        description="GridDesk: the community grid workbench. Without a command, opens the app.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"GridDesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    handlers: Handlers = {}
    for module in MODULES:
        handlers.update(module.register(sub, common))
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from app.main import run_app

        return run_app(getattr(args, "db", None))
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        print("griddesk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one readable line, never a traceback, unless debugging
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"griddesk {args.command}: {describe_error(exc)}", file=sys.stderr)
        return 1
