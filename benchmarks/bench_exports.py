"""The meeting workbook on the `city` demo, and 200,000 detail rows written three ways.

    .venv/bin/python benchmarks/bench_exports.py [--db benchmarks/data/city.db] [--runs 3]
        [--rows 200000] [--as-of 2026-11-25] [--period 2026-Q3]

The database is copied to a temporary folder first (nothing is written to it, but SQLite
readers may leave a -shm file). Every measurement runs in a fresh Python process, so its peak
resident memory (getrusage ru_maxrss) is its own; "base" is that process's peak after the
imports, before the work.

1. The meeting workbook (``write_meeting_workbook``) of the whole branch for --period.
2. The first --rows task rows of the branch, as the detail export reads them (``detail_tables``:
   the same query, code names and local times), written by
   - ``source``: reading and converting only (the floor of every writer),
   - ``openpyxl``: the app's streamed writer (``write_xlsx``, openpyxl write-only), with lxml
     when it is installed, and ``openpyxl-no-lxml`` the same with openpyxl told not to use it,
   - ``xlsxwriter``: xlsxwriter's constant_memory mode with the same formats,
   - ``csv``: the app's CSV writer (``write_csv``).
   Variants alternate run by run, so load from other work on the machine hits them alike.

Goals (issue #5): the meeting workbook under 3 s; openpyxl within 1.3 x xlsxwriter with a
peak under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VARIANTS = ("source", "openpyxl", "openpyxl-no-lxml", "xlsxwriter", "csv")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(spec: dict) -> dict:
    """Run one measurement in this process and return its figures."""
    from datetime import date
    from itertools import islice

    from app.db import make_engine
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.exports import find_branch, resolve_scope
    from app.services.exports.detail import detail_tables, write_csv, write_xlsx
    from app.services.exports.meeting import write_meeting_workbook
    from app.services.periods import Period

    Session = session_factory(make_engine(f"sqlite:///{spec['db']}"))  # noqa: N806
    out = Path(spec["out"])
    import openpyxl  # noqa: F401 - imported before "base", like the app would have it
    import xlsxwriter

    base = _peak_mb()
    with Session() as s:
        scope = resolve_scope(s, None, branch_id=find_branch(s))
        start = time.perf_counter()
        if spec["what"] == "meeting":
            result = write_meeting_workbook(
                s,
                out,
                period=Period.parse(spec["period"]),
                as_of=date.fromisoformat(spec["as_of"]),
                scope=scope,
            )
            rows = result.rows
        else:
            (table,) = detail_tables(s, scope=scope, tables=["tasks"])
            stream = islice(table.rows, spec["rows"])
            table = table.__class__(table.key, table.title, table.columns, spec["rows"], stream)
            variant = spec["variant"]
            if variant == "source":
                rows = sum(1 for _ in table.rows)
            elif variant.startswith("openpyxl"):
                rows = write_xlsx(out, [table])
            elif variant == "csv":
                rows = write_csv(out, table)
            else:
                rows = _xlsxwriter(xlsxwriter, out, table)
        seconds = time.perf_counter() - start
    size = out.stat().st_size if out.exists() else 0
    return {"seconds": seconds, "peak_mb": _peak_mb(), "base_mb": base, "rows": rows, "bytes": size}


def _xlsxwriter(xlsxwriter, out: Path, table) -> int:
    """The same sheet through xlsxwriter's constant-memory mode: header style, number formats,
    widths, frozen header, autofilter, landscape fitted to width."""
    from app.services.exports.sheets import FORMATS, fit_width, text_width

    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True})
    ws = wb.add_worksheet(table.title)
    header = wb.add_format({"bold": True, "font_color": "#1F3864", "bg_color": "#DDEBF7"})
    formats = {k: wb.add_format({"num_format": v}) for k, v in FORMATS.items() if k != "text"}
    for c, col in enumerate(table.columns):
        width = max(text_width(col.header), col.width or len(FORMATS[col.kind]))
        ws.set_column(c, c, fit_width(width), formats.get(col.kind))
    ws.freeze_panes(1, 0)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.write_row(0, 0, [col.header for col in table.columns], header)
    kinds = [(c, formats[col.kind]) for c, col in enumerate(table.columns) if col.kind != "text"]
    n = 0
    for n, row in enumerate(table.rows, 1):
        ws.write_row(n, 0, row)
        for c, fmt in kinds:  # dates and datetimes need a format in xlsxwriter
            if row[c] is not None:
                ws.write(n, c, row[c], fmt)
    ws.autofilter(0, 0, n, len(table.columns) - 1)
    wb.close()
    return n


def run_child(spec: dict) -> dict:
    env = dict(os.environ)
    if spec.get("variant") == "openpyxl-no-lxml":
        env["OPENPYXL_LXML"] = "False"  # openpyxl's own switch: its pure-Python XML writer
    done = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed: {spec}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default=str(ROOT / "benchmarks" / "data" / "city.db"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--rows", type=int, default=200_000)
    p.add_argument("--as-of", default="2026-11-25")
    p.add_argument("--period", default="2026-Q3")
    p.add_argument("--only", choices=("meeting", "detail"))
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return

    with tempfile.TemporaryDirectory(prefix="bench-exports-") as tmp:
        db = Path(tmp) / "city.db"
        shutil.copy(args.db, db)
        print(f"database: {args.db} (copied); openpyxl with lxml: {_has_lxml()}")
        if args.only != "detail":
            runs = [
                run_child(
                    {
                        "what": "meeting",
                        "db": str(db),
                        "out": str(Path(tmp) / f"meeting{i}.xlsx"),
                        "period": args.period,
                        "as_of": args.as_of,
                    }
                )
                for i in range(args.runs)
            ]
            _report("meeting workbook", runs)
        if args.only != "meeting":
            results: dict[str, list[dict]] = {v: [] for v in VARIANTS}
            for i in range(args.runs):
                for v in VARIANTS:
                    suffix = ".csv" if v == "csv" else ".xlsx"
                    spec = {
                        "what": "detail",
                        "variant": v,
                        "db": str(db),
                        "rows": args.rows,
                        "out": str(Path(tmp) / f"{v}{i}{suffix}"),
                    }
                    results[v].append(run_child(spec))
            for v in VARIANTS:
                _report(f"{args.rows:,} task rows: {v}", results[v])
            med = {v: statistics.median(r["seconds"] for r in results[v]) for v in VARIANTS}
            ratios = [
                a["seconds"] / b["seconds"]
                for a, b in zip(results["openpyxl"], results["xlsxwriter"], strict=True)
            ]
            print(
                f"openpyxl / xlsxwriter: {statistics.median(ratios):.2f} x (per run: "
                f"{', '.join(f'{r:.2f}' for r in ratios)}); "
                f"writers above the source: openpyxl {med['openpyxl'] - med['source']:.1f} s, "
                f"xlsxwriter {med['xlsxwriter'] - med['source']:.1f} s, "
                f"csv {med['csv'] - med['source']:.1f} s"
            )


def _has_lxml() -> bool:
    from openpyxl import LXML

    return bool(LXML)


def _report(name: str, runs: list[dict]) -> None:
    secs = [r["seconds"] for r in runs]
    peak = max(r["peak_mb"] for r in runs)
    base = statistics.median(r["base_mb"] for r in runs)
    print(
        f"{name:<34} median {statistics.median(secs):6.2f} s (runs {', '.join(f'{s:.2f}' for s in secs)}); "
        f"peak {peak:.0f} MB (base {base:.0f} MB); {runs[0]['rows']:,} rows, "
        f"{runs[0]['bytes'] / 1e6:.1f} MB file"
    )


if __name__ == "__main__":
    main()
