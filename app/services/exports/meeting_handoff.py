"""The meeting workbook's hand-off sheet: persistency of the period's policies by their
customer's days from pool entry to first contact (app.services.metrics.handoff), each band with
its policy count, and a bar chart of the rates: does fast contact keep policies?"""

from __future__ import annotations

from decimal import Decimal

from app.services.exports.sheets import FELL_FONT, Col, write_table
from app.services.files.xlsx_layout import Chart, Series, Sheet
from app.services.words import Texts


def handoff_sheet(ws: Sheet, data, t: Texts) -> int:
    """Write the band table and its chart on ``ws``; return the number of data rows."""
    cols = [
        Col(t["contact_band"]),
        Col(t["policies"], "int"),
        Col(t["persisting_policies"], "int"),
        Col(t["pending_policies"], "int"),
        Col(t["premium_due"], "money"),
        Col(t["premium_received"], "money"),
        Col(t["persistency_premium"], "pct"),
        Col(t["persistency_count"], "pct"),
    ]
    values = [
        [
            t[f"band_{r.group_key}"],
            r.policies,
            r.persisting_policies,
            r.pending_policies,
            Decimal(r.premium_due_fen) / 100,
            Decimal(r.premium_received_fen) / 100,
            r.persistency_premium,
            r.persistency_count,
        ]
        for r in data.handoff_bands
    ]
    last = write_table(ws, cols, values)
    targets = data.handoff_targets
    note = t["note_handoff"].format(
        contact=targets.contact_days, service=targets.service_days, period=data.period.label
    )
    ws.write(last + 2, 1, note, FELL_FONT)
    if values:  # a column per band: the premium-basis rate
        ws.charts.append(
            Chart(
                "column",
                f"A{last + 4}",
                [
                    Series(
                        (2, 7, last, 7),
                        (2, 1, last, 1),
                        name=(1, 7),
                        options={"data_labels": {"value": True}},
                    )
                ],
                title=t["handoff_title"],
                y_axis={"num_format": "0%", "min": 0},
                size_cm=(16, 8),
            )
        )
    return len(values)
