"""The meeting workbook's hand-off sheet: persistency of the period's policies by their
customer's days from pool entry to first contact (app.services.metrics.handoff), each band with
its policy count, and a bar chart of the rates: does fast contact keep policies?"""

from __future__ import annotations

from decimal import Decimal

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList

from app.services.exports.labels import Texts
from app.services.exports.sheets import FELL_FONT, Col, write_table


def handoff_sheet(ws, data, t: Texts) -> int:
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
    ws.cell(row=last + 2, column=1, value=note).font = FELL_FONT
    if values:
        chart = BarChart()
        chart.title = t["handoff_title"]
        chart.add_data(Reference(ws, min_col=7, min_row=1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=last))
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.legend = None
        chart.dataLabels = DataLabelList(
            showVal=True, showSerName=False, showCatName=False, showLegendKey=False
        )
        chart.height, chart.width = 8, 16
        ws.add_chart(chart, f"A{last + 4}")
    return len(values)
