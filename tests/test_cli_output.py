"""The command line's output is for people and scripts: tables align Chinese names by display
width and stay within 120 columns, rates read as percentages in tables and stay fractions in
CSV and JSON, and every option says what it does."""

from __future__ import annotations

import argparse
import csv
import io
import json
import unicodedata

import pytest

from app.cli import build_parser, main

AS_OF = "2026-11-20"


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from app.db import make_engine, migrate
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo

    path = tmp_path_factory.mktemp("output") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with session_factory(engine)() as s, s.begin():
        build_demo(s, size="small", seed=7)
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def run(demo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.setenv("GRIDDESK_PASSWORD", "demo1234")
    monkeypatch.delenv("GRIDDESK_DB", raising=False)

    def run(*argv: str) -> str:
        assert main(["--db", demo, "--user", "senior", *argv]) == 0, capsys.readouterr().err
        return capsys.readouterr().out

    return run


def sections(out: str) -> list[list[str]]:
    """The table's blocks (a wide table is printed as several, each repeating the group)."""
    blocks, block = [], []
    for line in out.splitlines():
        if line.strip():
            block.append(line)
        elif block:
            blocks.append(block)
            block = []
    return [*blocks, block] if block else blocks


@pytest.mark.parametrize(
    "argv",
    [
        ("metrics", "persistency", "--period", "2025", "--by", "specialist"),
        ("metrics", "persistency", "--period", "2025", "--by", "grid"),
        ("metrics", "funnel", "--cohort", "2025", "--by", "specialist"),
        ("metrics", "funnel", "--cohort", "2025", "--by", "team"),
    ],
)
def test_tables_align_chinese_names_and_stay_within_120_columns(run, argv):
    out = run(*argv, "--as-of", AS_OF) if argv[1] == "persistency" else run(*argv)
    blocks = sections(out)
    assert blocks and any(
        any("\u4e00" <= ch <= "\u9fff" for ch in line) for line in out.splitlines()
    )
    for block in blocks:
        assert all(width(line) <= 120 for line in block), max(block, key=width)
        # Right-aligned numbers end every row at the same display column.
        rows = [line for line in block if not set(line) <= {"-", " "}]
        assert len({width(line) for line in rows}) == 1, "\n".join(rows)


def test_rates_are_percentages_in_tables_and_fractions_in_csv_and_json(run):
    args = ("metrics", "persistency", "--period", "2025", "--as-of", AS_OF)
    table = run(*args)
    (row,) = list(csv.DictReader(io.StringIO(run(*args, "--format", "csv"))))
    (obj,) = json.loads(run(*args, "--format", "json"))
    fraction = row["persistency_premium"]
    assert 0 < float(fraction) <= 1 and obj["persistency_premium"] == float(fraction)
    assert f"{float(fraction) * 100:.2f}%" in table
    assert fraction not in table


def test_the_funnels_conversions_are_percentages_in_the_table(run):
    table = run("metrics", "funnel", "--cohort", "2025")
    (row,) = list(
        csv.DictReader(io.StringIO(run("metrics", "funnel", "--cohort", "2025", "--format", "csv")))
    )
    assert f"{float(row['step_conversion_1']) * 100:.2f}%" in table


def test_every_option_and_argument_says_what_it_does():
    parser, _ = build_parser()
    silent = []

    def walk(p: argparse.ArgumentParser, path: list[str]) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, [*path, name])
            elif action.dest != "help" and not action.help:
                silent.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")

    walk(parser, ["griddesk"])
    assert silent == []


def test_persistency_by_days_to_first_contact_matches_the_workbooks_bands(run, demo):
    """`--by contact_band` lists the bands in their order with the figures the service (and so
    the chart and the meeting workbook's sheet) gives."""
    from datetime import date

    from app.db import make_engine
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.metrics.handoff import BAND_KEYS, persistency_by_contact_band
    from app.services.periods import Period

    out = run("metrics", "persistency", "--period", "2025", "--as-of", AS_OF,
              "--by", "contact_band", "--format", "csv")  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out)))
    engine = make_engine(demo)
    with session_factory(engine)() as s:
        expected = persistency_by_contact_band(
            s, period=Period.parse("2025"), as_of=date.fromisoformat(AS_OF)
        )
    engine.dispose()
    shown = [r for r in expected if r.policies or r.pending_policies]
    # Policies whose customer never entered the pool come last, named so; the bands leave them.
    assert rows[-1]["group"] == "(never in the pool)"
    rows = rows[:-1]
    assert [r["group"] for r in rows] == [r.group for r in shown]
    assert [r["group"] for r in rows] == [k for k in BAND_KEYS if k in {r.group for r in shown}]
    for got, want in zip(rows, shown, strict=True):
        assert int(got["policies"]) == want.policies
        assert got["persistency_premium"] == f"{want.persistency_premium:.4f}"
