"""The griddesk command line: the desktop app, and the same services for scripts and jobs.

Each module of this package registers its commands (``register(sub, common)``) and handles
them; this one assembles the parser and runs a command, turning any failure into one
readable line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from app import __version__
from app.cli import branch, data, export, intake, metrics, rebalance, selfcheck, users
from app.cli.common import DEBUG_ENV, CommandError, Handlers, common_parser, describe_error
from app.cli.intake import cmd_intake, cmd_outbox
from app.logs import log_start, setup_logging

__all__ = ["CommandError", "build_parser", "cmd_intake", "cmd_outbox", "describe_error", "main"]

MODULES = (data, intake, metrics, rebalance, export, users, branch, selfcheck)

log = logging.getLogger("griddesk.cli")


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
    setup_logging()
    status = 1
    try:
        log_start(f"command {args.command}", _database_for_log(args))
        status = handlers[args.command](args)
        return status
    except KeyboardInterrupt:
        print("griddesk: interrupted", file=sys.stderr)
        status = 130
        return status
    except Exception as exc:  # one readable line, never a traceback, unless debugging
        log.error("command %s failed", args.command, exc_info=True)
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"griddesk {args.command}: {describe_error(exc)}", file=sys.stderr)
        return 1
    finally:
        log.info("command %s ended with exit status %s", args.command, status)


def _database_for_log(args: argparse.Namespace) -> str:
    """Return the database URL the command is about to use, as far as the log need know it
    (the password is redacted anyway: none is looked up)."""
    from app.config import settings_db_url_unless
    from app.db import ENV_VAR, default_url

    flag = getattr(args, "db", None)
    for candidate in (flag, os.environ.get(ENV_VAR), settings_db_url_unless(flag)):
        if candidate and candidate.strip():
            return candidate.strip()
    return default_url()
