"""Persistency and funnel reports as a terminal table, CSV or JSON (the command line's output)."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from app.services.files.inert import csv_value
from app.services.metrics.funnel import FunnelRow
from app.services.metrics.persistency import PersistencyRow

PERSISTENCY_COLUMNS = (
    "group",
    "policies",
    "persisting_policies",
    "pending_policies",
    "premium_due",
    "premium_received",
    "persistency_premium",
    "persistency_count",
)
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
FUNNEL_COLUMNS = (
    "group",
    "cohort_size",
    *(f"reached_{s}" for s in ("pre_sell", "soft_sell", "cross_sell", "up_sell")),
    *(f"step_conversion_{i}" for i in range(1, 5)),
    *(f"cumulative_conversion_{i}" for i in range(1, 5)),
    *(f"median_days_{i}" for i in range(1, 5)),
)


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _rate(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.4f}"


def persistency_records(rows: Sequence[PersistencyRow]) -> list[dict[str, str]]:
    """Return the rows as the CSV columns DOMAIN.md names (rates 4 decimals, yuan 2)."""
    return [
        {
            "group": r.group,
            "policies": str(r.policies),
            "persisting_policies": str(r.persisting_policies),
            "pending_policies": str(r.pending_policies),
            "premium_due": _yuan(r.premium_due_fen),
            "premium_received": _yuan(r.premium_received_fen),
            "persistency_premium": _rate(r.persistency_premium),
            "persistency_count": _rate(r.persistency_count),
        }
        for r in rows
    ]


def funnel_records(rows: Sequence[FunnelRow]) -> list[dict[str, str]]:
    """Return the funnel rows as text cells keyed by FUNNEL_COLUMNS."""
    out = []
    for r in rows:
        rec = {"group": r.group, "cohort_size": str(r.cohort_size)}
        names = ("pre_sell", "soft_sell", "cross_sell", "up_sell")
        rec.update({f"reached_{n}": str(c) for n, c in zip(names, r.reached, strict=True)})
        rec.update({f"step_conversion_{i + 1}": _rate(v) for i, v in enumerate(r.step_conversion)})
        rec.update(
            {
                f"cumulative_conversion_{i + 1}": _rate(v)
                for i, v in enumerate(r.cumulative_conversion)
            }
        )
        rec.update(
            {
                f"median_days_{i + 1}": "" if v is None else f"{v:g}"
                for i, v in enumerate(r.median_days)
            }
        )
        out.append(rec)
    return out


# What a table shows at the head of each column (CSV and JSON keep DOMAIN.md's names).
TABLE_HEADINGS = {
    "group": "group",
    "policies": "policies",
    "persisting_policies": "persisting",
    "pending_policies": "pending",
    "premium_due": "premium due",
    "premium_received": "received",
    "persistency_premium": "by premium",
    "persistency_count": "by count",
    "cohort_size": "cohort",
    **{
        f"reached_{s}": s.replace("_", "-")
        for s in ("pre_sell", "soft_sell", "cross_sell", "up_sell")
    },
    **{f"step_conversion_{i}": f"step {i} %" for i in range(1, 5)},
    **{f"cumulative_conversion_{i}": f"to {i} %" for i in range(1, 5)},
    **{f"median_days_{i}": f"days {i}" for i in range(1, 5)},
}
RATE_COLUMNS = frozenset(
    ["persistency_premium", "persistency_count"]
    + [f"{k}_{i}" for k in ("step_conversion", "cumulative_conversion") for i in range(1, 5)]
)
TABLE_WIDTH = 120  # a terminal's width, at most
GROUP_WIDTH = 28  # longer group names are shortened with "…"


def _width(text: str) -> int:
    """Return the columns ``text`` takes in a terminal (Chinese characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _shortened(text: str, most: int) -> str:
    if _width(text) <= most:
        return text
    out = ""
    for ch in text:
        if _width(out + ch) > most - 1:
            break
        out += ch
    return out + "…"


def _percent(value: str) -> str:
    return "" if value == "" else f"{Decimal(value) * 100:.2f}%"


def _table(columns: Sequence[str], records: list[dict[str, str]]) -> str:
    """Return the records as aligned text for a terminal: rates as percentages, Chinese
    aligned by display width, no line over TABLE_WIDTH columns (a wide table is printed in
    blocks, each starting with the group)."""
    cells = [
        [_shortened(r[c], GROUP_WIDTH) if c == "group" else _percent(r[c]) if c in RATE_COLUMNS
         else r[c] for c in columns]
        for r in records
    ]  # fmt: skip
    headings = [TABLE_HEADINGS.get(c, c) for c in columns]
    widths = [max([_width(h)] + [_width(row[i]) for row in cells]) for i, h in enumerate(headings)]
    blocks: list[list[int]] = []
    for i in range(1, len(columns)):
        used = sum(widths[j] + 2 for j in [0, *(blocks[-1] if blocks else [])])
        if not blocks or used + widths[i] > TABLE_WIDTH:
            blocks.append([])
        blocks[-1].append(i)

    def line(values: list[str], shown: list[int]) -> str:
        out = [values[0] + " " * (widths[0] - _width(values[0]))]
        out += [" " * (widths[i] - _width(values[i])) + values[i] for i in shown]
        return "  ".join(out).rstrip()

    text = []
    for shown in blocks or [[]]:
        text.append(line(headings, shown))
        text.append(line(["-" * w for w in widths], shown))
        text += [line(row, shown) for row in cells]
        text.append("")
    return "\n".join(text[:-1]) + "\n"


def _render(columns: Sequence[str], records: list[dict[str, str]], fmt: str) -> str:
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: csv_value(v) for k, v in r.items()} for r in records)
        return buf.getvalue()
    if fmt == "json":
        return _json(records) + "\n"
    if fmt == "table":
        return _table(columns, records)
    raise ValueError(f"unknown format '{fmt}': use table, csv or json")


def _json(records: list[dict[str, str]]) -> str:
    """Return the records as a JSON list of objects: counts, amounts and rates as JSON numbers
    written exactly as in the CSV (never through a binary float), empty cells as null."""
    if not records:
        return "[]"
    objects = []
    for r in records:
        fields = [
            f"    {json.dumps(k, ensure_ascii=False)}: {_json_value(k, v)}" for k, v in r.items()
        ]
        objects.append("  {\n" + ",\n".join(fields) + "\n  }")
    return "[\n" + ",\n".join(objects) + "\n]"


def _json_value(key: str, value: str) -> str:
    if value == "":
        return "null"
    if key != "group" and _NUMBER.fullmatch(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def render_persistency(rows: Sequence[PersistencyRow], fmt: str) -> str:
    """Return the persistency rows as ``table`` (aligned text), ``csv`` or ``json`` with the
    columns DOMAIN.md names: rates as fractions with 4 decimals, amounts in yuan with 2."""
    return _render(PERSISTENCY_COLUMNS, persistency_records(rows), fmt)


def render_funnel(rows: Sequence[FunnelRow], fmt: str) -> str:
    """Return the funnel rows as ``table``, ``csv`` or ``json`` (conversions with 4 decimals)."""
    return _render(FUNNEL_COLUMNS, funnel_records(rows), fmt)
