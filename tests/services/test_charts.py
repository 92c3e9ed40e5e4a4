"""Chart labels read the way supervisors read a calendar."""

from __future__ import annotations

import io
import logging
from datetime import date

from matplotlib.figure import Figure

from app.services.charts import draw_activity
from app.services.fonts import configure_matplotlib
from app.services.metrics.activity import week_span


def test_iso_weeks_are_shown_as_the_days_they_cover():
    assert week_span("2026-W37") == "9/7–9/13"
    assert week_span("2025-W01") == "12/30–1/5"  # a week across the new year
    assert week_span("not a week") == "not a week"
    # The week still running on the data's last day ends there, not on its Sunday.
    assert week_span("2026-W48", until=date(2026, 11, 27)) == "11/23–11/27"
    assert week_span("2026-W47", until=date(2026, 11, 27)) == "11/16–11/22"
    assert week_span("2026-W48", until=date(2026, 11, 29)) == "11/23–11/29"


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


def test_chinese_titles_draw_bold_without_a_missing_font_weight(caplog):
    """The bundled CJK font has no bold face: titles are outlined instead, and rendering
    logs no findfont complaint."""
    configure_matplotlib()
    fig = Figure()
    draw_activity(
        fig,
        weeks=["2026-W46", "2026-W47"],
        by_kind={"pre_sell": [3, 4]},
        title="每周完成的任务",
        ylabel="任务",
    )
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        fig.savefig(io.BytesIO(), format="png")
    assert not [r for r in caplog.records if "weight" in r.getMessage()]
    title = fig._suptitle
    assert title is not None and title.get_path_effects()


def test_the_funnel_chart_gives_each_step_its_median_days():
    """Beside each bar: how many reached the step, the step conversion and, as the meeting
    workbook gives it, the median days from pool entry to the step (none when nobody did)."""
    from app.services.charts import draw_funnel

    fig = Figure()
    draw_funnel(
        fig,
        steps=["Pre-sell", "Soft-sell", "Cross-sell", "Up-sell"],
        reached=[90, 60, 12, 0],
        cohort_size=100,
        step_conversion=[0.9, 0.6667, 0.2, 0.0],
        title="4-sell funnel",
        reached_label="share",
        conversion_label="step conversion",
        median_days=[2.0, 24.0, 68.5, None],
        median_label="median %1 days",
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0].endswith("\nmedian 2 days") and texts[2].endswith("\nmedian 68.5 days")
    assert "median" not in texts[3] and texts[3].startswith("0")
