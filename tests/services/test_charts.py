"""Chart labels read the way supervisors read a calendar."""

from __future__ import annotations

import io
import logging
from datetime import date

import pytest
from matplotlib.figure import Figure

from app.services.metrics.activity import week_span
from app.services.render.charts import draw_activity
from app.services.render.fonts import configure_matplotlib


def test_iso_weeks_are_shown_as_the_days_they_cover():
    assert week_span("2026-W37") == "9/7–9/13"
    assert week_span("2025-W01") == "12/30–1/5"  # a week across the new year
    assert week_span("not a week") == "not a week"
    # The week still running on the data's last day ends there, not on its Sunday.
    assert week_span("2026-W48", until=date(2026, 11, 27)) == "11/23–11/27"
    assert week_span("2026-W47", until=date(2026, 11, 27)) == "11/16–11/22"
    assert week_span("2026-W48", until=date(2026, 11, 29)) == "11/23–11/29"


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


def test_the_funnel_chart_gives_each_step_its_count_share_conversion_and_median_days():
    """Beside each bar: how many reached the step and the share of the cohort the bar shows;
    then, from the second step, the share of the step before that went on, and, as the
    meeting workbook gives it, the median days from pool entry (none when nobody did)."""
    from app.services.render.charts import draw_funnel

    fig = Figure()
    draw_funnel(
        fig,
        steps=["Pre-sell", "Soft-sell", "Cross-sell", "Up-sell"],
        reached=[90, 60, 12, 0],
        cohort_size=100,
        step_conversion=[0.9, 0.6667, 0.2, 0.0],
        title="4-sell funnel",
        reached_label="share",
        reached_text="%1 customers, %2 of the cohort",
        conversion_text="%1 of the step before",
        median_days=[2.0, 24.0, 68.5, None],
        median_text="median %1 days",
        note="young cohort",
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts[0] == "90 customers, 90.0% of the cohort\nmedian 2 days"
    assert texts[1] == "60 customers, 60.0% of the cohort\n66.7% of the step before\nmedian 24 days"
    assert texts[2].endswith("20.0% of the step before\nmedian 68.5 days")
    assert texts[3] == "0 customers, 0.0% of the cohort\n0.0% of the step before"
    assert texts[4] == "young cohort"


def test_the_week_still_running_is_drawn_pale_and_says_how_many_days_it_has():
    """The last week on the data's last day (a Friday) has five days: its bars are hatched
    and pale, and it says so, so that a short week does not read as a slump."""
    fig = Figure()
    draw_activity(
        fig,
        weeks=["2026-W47", "2026-W48"],
        by_kind={"pre_sell": [30, 20], "servicing": [10, 5]},
        title="Tasks completed per week",
        ylabel="tasks",
        until=date(2026, 11, 27),
        partial_text="%1 days so far",
    )
    ax = fig.axes[0]
    by_week = {0: [], 1: []}
    for bar in ax.patches:
        by_week[round(bar.get_x() + bar.get_width() / 2)].append(bar)
    assert all(not b.get_hatch() and b.get_alpha() is None for b in by_week[0])
    assert all(b.get_hatch() == "///" and b.get_alpha() < 1 for b in by_week[1])
    assert [t.get_text() for t in ax.texts] == ["5 days so far"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["11/16–11/22", "11/23–11/27"]


def test_the_equity_chart_marks_flagged_names_and_says_why():
    from app.services.render.charts import draw_equity

    fig = Figure()
    draw_equity(
        fig,
        names=["王芳", "李强"],
        rate_without=[0.7, 0.9],
        rate_with=[0.95, 0.92],
        flagged=[True, False],
        title="Service equity",
        without_label="never bought more",
        with_label="bought more",
        flag_note="buyers served more than 10 points better",
        tasks_without=[14, 1_200],
        tasks_with=[35, 9],
    )
    ax = fig.axes[0]
    ticks = ax.get_xticklabels()
    assert [t.get_text() for t in ticks] == ["⚠ 王芳", "李强"]
    assert ticks[0].get_color() != ticks[1].get_color()
    assert ax.get_xlabel() == "⚠ buyers served more than 10 points better"
    # Each bar says how many tasks its rate rests on: 14 tasks, not a thousand, behind 70%.
    assert sorted(t.get_text() for t in ax.texts) == sorted(["14", "1,200", "35", "9"])


def test_a_hand_off_band_on_few_policies_is_drawn_pale_and_says_so():
    from app.services.render.charts import draw_handoff_persistency

    fig = Figure()
    draw_handoff_persistency(
        fig,
        bands=["0–7", "8–30", "31–90", "91+", "never"],
        rates=[0.9, 0.8, 1.0, None, 0.5],
        policies=[120, 45, 4, 0, 12],
        title="t",
        count_text="%1 policies",
        few=30,
        few_text="few",
    )
    (ax,) = fig.axes
    alphas = [bar.get_alpha() for bar in ax.patches]
    assert alphas == [1.0, 1.0, 0.35, 0.35, 0.35]
    notes = [t.get_text() for t in ax.texts]
    assert notes[2].endswith("\nfew") and notes[4].endswith("\nfew")
    assert not notes[0].endswith("few") and notes[3] == "—\n0 policies"


def test_a_trend_month_on_few_policies_is_drawn_hollow_and_the_chart_says_why():
    from matplotlib.colors import to_rgba

    from app.services.render.charts import Series, draw_persistency_trend

    def hollow_points(fig):
        (ax,) = fig.axes
        return [
            list(line.get_xdata())
            for line in ax.get_lines()
            if line.get_linestyle() == "None"
            and to_rgba(line.get_markerfacecolor()) == (1, 1, 1, 1)
        ]

    fig = Figure()
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    kw = {"months": months, "title": "t", "year_earlier_suffix": "", "few": 30}
    draw_persistency_trend(
        fig,
        current=[Series("金牛", [0.9, 0.8, None, 0.7], [100, 5, 0, 40])],
        few_label="few",
        **kw,
    )
    assert hollow_points(fig) == [[1]]  # the month on 5 policies; the empty month has no point
    assert fig.axes[0].get_xlabel() == "○ few"
    draw_persistency_trend(fig, current=[Series("金牛", [0.9, 0.8], [100, 40])], few_label="few",
                           **{**kw, "months": months[:2]})  # fmt: skip
    assert hollow_points(fig) == [] and fig.axes[0].get_xlabel() == ""


def test_the_wilson_interval_is_scipys_and_honest_at_the_ends():
    from scipy.stats import binomtest

    from app.services.metrics.rates import wilson_interval

    for k, n in [(0, 5), (5, 5), (3, 5), (24, 30), (870, 1000)]:
        expected = binomtest(k, n).proportion_ci(method="wilson")
        low, high = wilson_interval(k / n, n)
        assert low == pytest.approx(expected.low, abs=1e-9)
        assert high == pytest.approx(expected.high, abs=1e-9)
    # 100 % on five policies could well be 57 %; on a thousand it could not.
    assert wilson_interval(1.0, 5)[0] < 0.6 < wilson_interval(1.0, 1000)[0]
    assert wilson_interval(0.5, 0) is None


def test_the_trend_shades_each_months_wilson_range_when_asked():
    from matplotlib.collections import PolyCollection

    from app.services.metrics.rates import wilson_interval
    from app.services.render.charts import Series, draw_persistency_trend

    def bands(fig):
        (ax,) = fig.axes
        return [c for c in ax.collections if isinstance(c, PolyCollection)]

    fig = Figure()
    kw = {"months": ["2026-01", "2026-02", "2026-03"], "title": "t", "year_earlier_suffix": ""}
    line = Series("金牛", [0.9, 0.8, 0.7], [1000, 5, 40])
    draw_persistency_trend(fig, current=[line], **kw)
    assert bands(fig) == []  # only when asked
    other = Series("锦江", [0.5, 0.6, 0.7], [50, 50, 50])
    draw_persistency_trend(fig, current=[line, other], band_label="95% range", **kw)
    band, _other_band = bands(fig)  # each line has its own
    vertices = band.get_paths()[0].vertices
    spans = []
    for x, (rate, n) in enumerate([(0.9, 1000), (0.8, 5), (0.7, 40)]):
        ys = vertices[vertices[:, 0] == x][:, 1]
        assert (ys.min(), ys.max()) == pytest.approx(wilson_interval(rate, n))
        spans.append(ys.max() - ys.min())
    assert spans[1] > spans[2] > spans[0]  # five policies, forty, a thousand
    # The legend names the shading once.
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels.count("95% range") == 1
