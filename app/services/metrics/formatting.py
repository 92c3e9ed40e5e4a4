"""Persistency and funnel reports as a terminal table, CSV or JSON (the command line's output)."""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal

from app.services.inert import csv_value
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


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _table(columns: Sequence[str], records: list[dict[str, str]]) -> str:
    widths = [max([_width(c)] + [_width(r[c]) for r in records]) for c in columns]

    def line(values):
        cells = []
        for i, v in enumerate(values):
            pad = " " * (widths[i] - _width(v))
            cells.append(v + pad if i == 0 else pad + v)
        return "  ".join(cells).rstrip()

    out = [line(columns), line(["-" * w for w in widths])]
    out += [line([r[c] for c in columns]) for r in records]
    return "\n".join(out) + "\n"


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
