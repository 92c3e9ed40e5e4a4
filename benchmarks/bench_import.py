"""Importing a 1,000,000-row premium-dues CSV (and a smaller XLSX) into a fresh database.

    .venv/bin/python benchmarks/bench_import.py [--dues 1000000] [--per-policy 5]
        [--xlsx-dues 100000] [--db URL] [--skip-bad] [--keep DIR]

Generates, in a temporary folder, the departed agents, customers and policies the dues need
(one customer per two policies, annual premium, --per-policy dues a policy), imports them with
``import_file`` like ``griddesk import`` does, then:

- the dues CSV (all new rows), and the same file again (every row an update: the nightly case);
- an XLSX workbook of --xlsx-dues further dues (policy years after the CSV's);
- the dues CSV with its very last row broken (a date of 2024-02-30), which must be rejected
  with nothing written.

Each import runs in a fresh Python process so its peak resident memory (getrusage ru_maxrss)
is its own; "base" is the process's peak before the import started (interpreter, SQLAlchemy,
the app's modules). The time of the derived-data refresh that runs after policies and dues
(persistency base) is measured apart and included in the total. SQLite by default (a file in
the temporary folder); --db postgresql+psycopg://... runs against an empty PostgreSQL database
(its tables are created, and dropped at the end).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
ROADS = ("春熙路", "红星路", "人民南路", "蜀都大道", "天府大道", "建设路", "玉林路")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(folder: Path, *, dues: int, per_policy: int, xlsx_dues: int, seed: int) -> dict:
    """Write the exchange files; return their paths by name."""
    rng = random.Random(seed)
    policies = -(-dues // per_policy)
    customers = -(-policies // 2)
    files = {}
    files["agents"] = folder / "agents.csv"
    with files["agents"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["代理人代码", "姓名", "离职日期"])
        for a in range(100):
            w.writerow([f"A{a:04d}", rng.choice(SURNAMES) + rng.choice(GIVEN), "2024-01-31"])
    files["customers"] = folder / "customers.csv"
    with files["customers"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["客户号", "姓名", "手机号", "地址", "原代理人代码"])
        for c in range(customers):
            w.writerow(
                [
                    f"C{c:08d}",
                    rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    f"138{rng.randrange(10**8):08d}",
                    f"成都市{rng.choice(ROADS)}{rng.randrange(1, 999)}号",
                    f"A{c % 100:04d}",
                ]
            )
    issue = {}
    files["policies"] = folder / "policies.csv"
    with files["policies"].open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["保单号", "客户号", "产品", "生效日期", "缴费方式", "期交保费", "保单状态"])
        for p in range(policies):
            day = date(2015 + rng.randrange(6), 1 + rng.randrange(12), 1 + rng.randrange(28))
            issue[p] = day
            premium = rng.randrange(1000, 20000) * 100 + rng.choice((0, 50))
            w.writerow(
                [f"P{p:09d}", f"C{p // 2:08d}", "福寿年年", day.isoformat(), "年交",
                 f"{premium // 100:,}.{premium % 100:02d}", "有效"]
            )  # fmt: skip
    files["dues"] = folder / "dues.csv"
    files["dues_bad"] = folder / "dues_bad_last_row.csv"
    header = ["保单号", "保单年度", "应缴日期", "应收保费", "实收保费", "实收日期"]
    with (
        files["dues"].open("w", newline="", encoding="utf-8") as f,
        files["dues_bad"].open("w", newline="", encoding="utf-8") as g,
    ):
        w, wb = csv.writer(f), csv.writer(g)
        w.writerow(header)
        wb.writerow(header)
        n = 0
        for p in range(policies):
            for year in range(1, per_policy + 1):
                if n == dues:
                    break
                n += 1
                row = _csv_row(_due(rng, p, issue[p], year))
                w.writerow(row)
                wb.writerow(row if n < dues else [*row[:2], "2024-02-30", *row[3:]])
    files["dues_xlsx"] = folder / "dues.xlsx"
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("dues")
    sheet.append(header)
    for p in range(min(policies, xlsx_dues)):
        policy_no, year, due, fen, received_fen, received_on = _due(
            rng, p, issue[p], per_policy + 1
        )
        # Excel cells: real dates and numbers, not text.
        received = None if received_fen is None else received_fen / 100
        sheet.append([policy_no, year, due, fen / 100, received, received_on])
    book.save(files["dues_xlsx"])
    return {"files": {k: str(v) for k, v in files.items()}, "policies": policies}


def _due(rng: random.Random, p: int, issue: date, year: int) -> tuple:
    due = issue.replace(year=issue.year + year - 1)
    fen = 100_000 + (p % 97) * 1_250
    if rng.random() < 0.85:
        return (
            f"P{p:09d}",
            year,
            due,
            fen,
            fen,
            due.replace(day=min(28, due.day + rng.randrange(20))),
        )
    return f"P{p:09d}", year, due, fen, None, None


def _csv_row(due: tuple) -> list:
    """The row as the core systems write it: both date spellings, thousands separators."""
    policy_no, year, day, fen, received_fen, received_on = due
    return [
        policy_no,
        year,
        day.isoformat() if year % 2 else f"{day.year}/{day.month}/{day.day}",
        f"{fen // 100:,}.{fen % 100:02d}",
        "" if received_fen is None else f"{received_fen // 100}.{received_fen % 100:02d}",
        received_on.isoformat() if received_on else "",
    ]


def worker(kind: str, path: str, url: str) -> None:
    """Import one file in this (fresh) process and print what it took as JSON."""
    from sqlalchemy import func, select

    import app.services.importer as importer
    from app.db import make_engine
    from app.models import PremiumDue
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.importer import ImportFailed, import_file

    hook = {"seconds": 0.0}
    after = importer._after_import

    def timed_after(*args, **kw):
        t = time.perf_counter()
        after(*args, **kw)
        hook["seconds"] += time.perf_counter() - t

    importer._after_import = timed_after
    engine = make_engine(url)
    Session = session_factory(engine)
    base = _peak_mb()
    out: dict = {"kind": kind, "file": Path(path).name}
    t = time.perf_counter()
    with Session() as s:
        before = s.scalar(select(func.count()).select_from(PremiumDue))
        s.rollback()
        try:
            with s.begin():
                r = import_file(s, kind, path)
            out.update(rows=r.rows, inserted=r.inserted, updated=r.updated)
        except ImportFailed as exc:
            out.update(rejected=str(exc).splitlines()[1], rows=0)
        out["dues_before"] = before
        out["dues_after"] = s.scalar(select(func.count()).select_from(PremiumDue))
    out.update(seconds=time.perf_counter() - t, hook_seconds=hook["seconds"])
    out.update(base_rss_mb=base, peak_rss_mb=_peak_mb())
    print(json.dumps(out, ensure_ascii=False))


def run_worker(kind: str, path: str, url: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", kind, path, "--db", url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"worker failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(r: dict) -> None:
    """Print one line per import: rows, time (the derived-data refresh apart), rows/s, memory."""
    rows, secs, hook = r["rows"], r["seconds"], r["hook_seconds"]
    if "rejected" in r:
        what = f"{'rejected':>38}"
    else:
        what = f"{rows:>9,} rows {r['inserted']:>9,} new {r['updated']:>9,} upd"
    rate = f"{rows / secs:>7,.0f} rows/s ({rows / (secs - hook):>7,.0f} without)" if rows else ""
    print(
        f"{r['file']:<22} {what} {secs:6.1f} s (refresh {hook:5.1f} s) {rate:<32}"
        f" peak RSS {r['peak_rss_mb']:4.0f} MB (base {r['base_rss_mb']:.0f})"
    )
    if "rejected" in r:
        print(f"    {r['rejected']}; dues {r['dues_before']:,} before, {r['dues_after']:,} after")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dues", type=int, default=1_000_000)
    ap.add_argument("--per-policy", type=int, default=5)
    ap.add_argument("--xlsx-dues", type=int, default=100_000)
    ap.add_argument("--db", help="database URL (default: a SQLite file in the temp folder)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--skip-bad", action="store_true", help="skip the broken-last-row run")
    ap.add_argument("--keep", help="write the files and database here and keep them")
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.db)
        return 0

    from app.db import make_engine
    from app.models import Base

    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        url = args.db or f"sqlite:///{folder / 'bench.db'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        t = time.perf_counter()
        made = generate(
            folder,
            dues=args.dues,
            per_policy=args.per_policy,
            xlsx_dues=args.xlsx_dues,
            seed=args.seed,
        )
        files = made["files"]
        print(
            f"generated {args.dues:,} dues of {made['policies']:,} policies "
            f"({Path(files['dues']).stat().st_size / 2**20:.0f} MB CSV) and {args.xlsx_dues:,} "
            f"XLSX dues in {time.perf_counter() - t:.1f} s; database {engine.dialect.name}"
        )
        try:
            for kind, key in (
                ("agents", "agents"),
                ("customers", "customers"),
                ("policies", "policies"),
                ("dues", "dues"),
                ("dues", "dues"),
                ("dues", "dues_xlsx"),
            ):
                report(run_worker(kind, files[key], url))
            if not args.skip_bad:
                report(run_worker("dues", files["dues_bad"], url))
        finally:
            if args.db:
                Base.metadata.drop_all(engine)
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
