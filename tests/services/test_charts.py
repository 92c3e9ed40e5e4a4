"""Chart labels read the way supervisors read a calendar."""

from __future__ import annotations

from matplotlib.figure import Figure

from app.services.charts import draw_activity
from app.services.metrics.activity import week_span


def test_iso_weeks_are_shown_as_the_days_they_cover():
    assert week_span("2026-W37") == "9/7–9/13"
    assert week_span("2025-W01") == "12/30–1/5"  # a week across the new year
    assert week_span("not a week") == "not a week"


def test_the_activity_chart_labels_weeks_by_their_days():
    fig = Figure()
    draw_activity(
        fig,
        weeks=["2026-W46", "2026-W47"],
        by_kind={"pre_sell": [3, 4], "servicing": [1, 0]},
        title="Tasks completed per week",
        ylabel="tasks",
    )
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["11/9–11/15", "11/16–11/22"]
