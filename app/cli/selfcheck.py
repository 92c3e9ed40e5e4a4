"""``griddesk selfcheck --out DIR``: proves an installed (or frozen) GridDesk works end to end.

Not listed in the help: it is for packaging and support. In a folder of its own it builds a demo
branch with the program's own ``demo`` command, writes the meeting workbook with its own
``export meeting`` command and reads it back with openpyxl, does the same with the detail
export of the tasks (the streamed writer, xlsxwriter), then opens the main window on that
database (signed in as the demo's senior supervisor), waits for the map page to draw its grids
with the bundled Leaflet and saves a chart as PNG (app/views/selfcheck.py). It prints one line
of JSON and exits 0 only if every check passed. It never opens any other database, so it
signs nobody in anywhere that matters.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from app.cli.common import Handlers

DEMO_USER, DEMO_PASSWORD = "senior", "demo1234"
DB_NAME = "selfcheck.db"


def register(sub, common: argparse.ArgumentParser) -> Handlers:
    """Add the hidden ``selfcheck`` command; return its handler by name."""
    p = sub.add_parser("selfcheck", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder for the demo database and the files")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per step")
    return {"selfcheck": cmd_selfcheck}


def own_command() -> list[str]:
    """Return the command line that runs this same program: the frozen executable, or this
    Python with ``-m app.cli``."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "app.cli"]


def run_own(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run this program with ``args`` as the demo's senior supervisor; raise on failure."""
    env = dict(os.environ, GRIDDESK_PASSWORD=DEMO_PASSWORD)
    done = subprocess.run(
        [*own_command(), *args],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"griddesk {' '.join(args[2:4])} exited {done.returncode}: {done.stderr.strip()[-500:]}"
        )
    return done


def read_workbook(path: Path, *, sheets_at_least: int = 2) -> dict:
    """Return what openpyxl reads back from a workbook: sheets and cells filled."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        sheets = wb.sheetnames
        cells = sum(
            1
            for ws in wb.worksheets
            for row in ws.iter_rows(values_only=True)
            for v in row
            if v not in (None, "")
        )
    finally:
        wb.close()
    if len(sheets) < sheets_at_least or cells < 50:
        raise RuntimeError(f"the workbook is nearly empty: {len(sheets)} sheets, {cells} cells")
    return {"sheets": len(sheets), "cells": cells}


def cmd_selfcheck(args: argparse.Namespace) -> int:
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db_file = out / DB_NAME
    for stale in out.glob(DB_NAME + "*"):  # always a fresh demo, never someone's data
        stale.unlink()
    url = f"sqlite:///{db_file.as_posix()}"
    # Settings of its own: closing the window must not overwrite the user's window layout.
    from app.settings import SETTINGS_DIR_ENV

    os.environ[SETTINGS_DIR_ENV] = str(out / "settings")
    checks: dict[str, object] = {}
    started = time.monotonic()
    ok = False
    try:
        run_own(["--db", url, "demo", "--size", "small"], timeout=args.timeout)
        checks["demo"] = "built"
        workbook = out / "meeting.xlsx"
        run_own(
            [
                "--db",
                url,
                "--user",
                DEMO_USER,
                "export",
                "meeting",
                "--period",
                _last_quarter(),
                "--out",
                str(workbook),
            ],
            timeout=args.timeout,
        )
        checks["workbook"] = read_workbook(workbook)
        # The streamed exports' writer (xlsxwriter) is another library: one table through it.
        detail = out / "tasks.xlsx"
        run_own(
            ["--db", url, "--user", DEMO_USER, "export", "detail", "--table", "tasks", "--out",
             str(detail)],
            timeout=args.timeout,
        )  # fmt: skip
        checks["detail"] = read_workbook(detail, sheets_at_least=1)
        from app.views.selfcheck import check_window

        checks.update(check_window(url, DEMO_USER, DEMO_PASSWORD, out=out, timeout=args.timeout))
        ok = True
    except Exception as exc:  # the verdict names what failed, on one line
        checks["error"] = f"{type(exc).__name__}: {exc}"
    verdict = {
        "ok": ok,
        "frozen": bool(getattr(sys, "frozen", False)),
        "seconds": round(time.monotonic() - started, 1),
        **checks,
    }
    print(json.dumps(verdict, ensure_ascii=False), flush=True)
    return 0 if ok else 1


def _last_quarter() -> str:
    from datetime import date

    today = date.today()
    q = (today.month - 1) // 3  # the quarter before the running one
    return f"{today.year - 1}-Q4" if q == 0 else f"{today.year}-Q{q}"
