"""Draws GridDesk's charts on a matplotlib Figure (never pyplot): the same functions serve the
app's canvases and PNG export. Inputs are plain series; labels arrive already translated."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FuncFormatter, PercentFormatter

from app.services.messages import arg
from app.services.metrics.activity import week_monday, week_span
from app.services.metrics.rates import wilson_interval

PALETTE = ("#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f59f00", "#0c8599", "#c92a2a", "#5f3dc4")
MUTED = "#8c959f"
FLAG_RED = "#c92a2a"


@dataclass(frozen=True)
class Series:
    """One line of a trend: a label and one value per x position (None where no data)."""

    label: str
    values: Sequence[float | None]
    # The policies (or customers) each value rests on, when known: a value on a few is drawn
    # hollow (see ``few`` below).
    bases: Sequence[int] = ()


def _bold(text: Text) -> None:
    """Draw ``text`` bold with any font: the bundled CJK face has no bold weight (matplotlib
    would log a warning and draw it regular), so the glyphs get a thin outline of their own
    colour instead."""
    text.set_fontweight("normal")
    text.set_path_effects([patheffects.withStroke(linewidth=0.8, foreground=text.get_color())])


def _note(ax, text: str, xy, xycoords, ha: str, *, colour: str = MUTED, size: int = 8) -> None:
    """Write ``text`` in small type just above the point ``xy`` (in ``xycoords``)."""
    ax.annotate(
        text,
        xy,
        xycoords=xycoords,
        xytext=(0, 3),
        textcoords="offset points",
        ha=ha,
        va="bottom",
        color=colour,
        fontsize=size,
    )


def _finish(fig: Figure, title: str) -> None:
    _bold(fig.suptitle(title, x=0.01, ha="left", fontsize=12))
    fig.set_layout_engine("constrained")


def draw_persistency_trend(
    fig: Figure,
    *,
    months: Sequence[str],
    current: Sequence[Series],
    year_earlier: Sequence[Series] = (),
    title: str,
    year_earlier_suffix: str,
    pilot_month: str | None = None,
    pilot_label: str = "",
    pending_months: Sequence[str] = (),
    pending_label: str = "",
    few: int = 0,
    few_label: str = "",
    band_label: str = "",
) -> None:
    """Draw persistency per cohort month, each group with its year-earlier line dashed; the
    months still partly in their grace period are shaded and named. A month whose rate rests
    on fewer than ``few`` policies (a series' ``bases``) is drawn as a hollow point, and
    ``few_label`` says what that means under the months. With ``band_label`` each line with
    its bases carries a shaded band, the 95 % Wilson interval of each month's rate on its
    policies, named in the legend by ``band_label``."""
    fig.clear()
    ax = fig.add_subplot()
    x = range(len(months))
    pending = [i for i, m in enumerate(months) if m in set(pending_months)]
    if pending:
        ax.axvspan(min(pending) - 0.5, max(pending) + 0.5, color=MUTED, alpha=0.12, lw=0)
        # Over the plot's top edge, ending where the band ends: never over a point.
        _note(ax, pending_label, (max(pending) + 0.5, 1.0), ("data", "axes fraction"), "right")
    hollow = False
    for i, s in enumerate(current):
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(x, _nan(s.values), marker="o", markersize=3, lw=2, color=colour, label=s.label)
        if band_label and s.bases:
            low, high = _wilson_band(s)
            # One legend entry says what the shading is, whatever the number of lines.
            named = not any(c.get_label() == band_label for c in ax.collections)
            ax.fill_between(
                x, low, high, color=colour, alpha=0.13, lw=0, label=band_label if named else None
            )
        thin = [
            (j, v)
            for j, (v, n) in enumerate(zip(s.values, s.bases, strict=False))
            if v is not None and n < few
        ]
        if thin:
            hollow = True
            ax.plot(
                [j for j, _ in thin],
                [v for _, v in thin],
                ls="none",
                marker="o",
                markersize=7,
                markerfacecolor="white",
                markeredgecolor=colour,
                zorder=3,
            )
    for i, s in enumerate(year_earlier):
        colour = PALETTE[i % len(PALETTE)]
        ax.plot(
            x,
            _nan(s.values),
            lw=1.2,
            ls="--",
            color=colour,
            alpha=0.6,
            label=f"{s.label} {year_earlier_suffix}",
        )
    if pilot_month is not None and pilot_month in months:
        px = list(months).index(pilot_month)
        ax.axvline(px, color=MUTED, lw=1, ls=":")
        ax.annotate(
            pilot_label,
            (px, 0.02),
            xycoords=("data", "axes fraction"),
            xytext=(4, 0),
            textcoords="offset points",
            color=MUTED,
            fontsize=8,
        )
    ax.set_xticks(list(x))
    ax.set_xticklabels(months, rotation=45, ha="right", fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if hollow and few_label:
        ax.set_xlabel("○ " + few_label, color=MUTED, fontsize=8, loc="right")
    if current or year_earlier:
        ax.legend(fontsize=8, ncols=2, frameon=False, loc="lower right")
    _finish(fig, title)


def _wilson_band(s: Series) -> tuple[list[float], list[float]]:
    """Return the lower and upper ends of each value's 95 % Wilson interval (NaN where none)."""
    low, high = [], []
    for v, n in zip(s.values, s.bases, strict=False):
        ends = wilson_interval(v, n) if v is not None else None
        low.append(ends[0] if ends else math.nan)
        high.append(ends[1] if ends else math.nan)
    return low, high


def draw_funnel(
    fig: Figure,
    *,
    steps: Sequence[str],
    reached: Sequence[int],
    cohort_size: int,
    step_conversion: Sequence[float | None],
    title: str,
    reached_label: str,
    reached_text: str = "%1 · %2",
    conversion_text: str = "%1",
    median_days: Sequence[float | None] = (),
    median_text: str = "",
    note: str = "",
) -> None:
    """Draw the 4-sell funnel: the share of the cohort that reached each step as bars, and
    beside each bar how many that is (``reached_text``: %1 the number, %2 the share, which
    the bar shows), the share of the step before that went on (``conversion_text``, from the
    second step on) and the median days from pool entry (``median_text``). ``note`` goes
    under the chart (a cohort too young for the later steps)."""
    fig.clear()
    ax = fig.add_subplot()
    y = list(range(len(steps)))[::-1]
    widths = [n / cohort_size if cohort_size else 0 for n in reached]
    bars = ax.barh(y, widths, color=PALETTE[: len(steps)], height=0.6)
    days = list(median_days) or [None] * len(steps)
    rows = zip(bars, reached, widths, step_conversion, days, strict=True)
    for i, (bar, n, share, conv, d) in enumerate(rows):
        lines = [arg(reached_text, f"{n:,}", f"{share * 100:.1f}%")]
        if i and conv is not None:  # the first step's conversion is its share
            lines.append(arg(conversion_text, f"{conv * 100:.1f}%"))
        if d is not None and median_text:
            lines.append(arg(median_text, f"{d:g}"))
        ax.annotate(
            "\n".join(lines),
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
            linespacing=1.4,
        )
    ax.set_yticks(y)
    ax.set_yticklabels(steps)
    ax.set_xlim(0, 1.5)  # room for the labels right of the bars
    ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])  # but no rate above 100 %
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(reached_label)
    ax.spines[["top", "right"]].set_visible(False)
    if note:
        _note(ax, note, (1.0, 0.0), "axes fraction", "right", size=9)
    _finish(fig, title)


def draw_activity(
    fig: Figure,
    *,
    weeks: Sequence[str],
    by_kind: Mapping[str, Sequence[int]],
    title: str,
    ylabel: str,
    until: date | None = None,
    partial_text: str = "",
) -> None:
    """Draw tasks completed per week, stacked by kind; the week holding ``until`` (the data's
    last day) is labelled up to that day, drawn hatched and pale, and ``partial_text`` (%1:
    its days so far) written over it, so that a short week does not read as a slump."""
    fig.clear()
    ax = fig.add_subplot()
    bottom = [0] * len(weeks)
    partial = [week_span(w, until) != week_span(w) for w in weeks]
    for i, (kind, counts) in enumerate(by_kind.items()):
        bars = ax.bar(
            range(len(weeks)), counts, bottom=bottom, color=PALETTE[i % len(PALETTE)], label=kind
        )
        for bar, short in zip(bars, partial, strict=True):
            if short:
                bar.set_alpha(0.45)
                bar.set_hatch("///")
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    for x, short in enumerate(partial):
        if short and until is not None and partial_text:
            monday = week_monday(weeks[x])
            days = str((until - monday).days + 1)
            _note(ax, arg(partial_text, days), (x, bottom[x]), "data", "center")
    ax.set_xticks(range(len(weeks)))
    ax.set_xticklabels([week_span(w, until) for w in weeks], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if by_kind:
        ax.legend(fontsize=8, frameon=False, ncols=3)
    _finish(fig, title)


def draw_equity(
    fig: Figure,
    *,
    names: Sequence[str],
    rate_without: Sequence[float | None],
    rate_with: Sequence[float | None],
    flagged: Sequence[bool],
    title: str,
    without_label: str,
    with_label: str,
    flag_note: str = "",
    tasks_without: Sequence[int] = (),
    tasks_with: Sequence[int] = (),
    ylabel: str = "",
) -> None:
    """Draw each specialist's service completion rate for customers who did and did not buy
    more, side by side, each bar topped by the number of tasks it rests on; flagged
    specialists' names in red with a ⚠, which ``flag_note`` explains under them."""
    fig.clear()
    ax = fig.add_subplot()
    n = len(names)
    xs = range(n)
    sides = (
        (-0.2, rate_without, tasks_without, PALETTE[0], without_label),
        (0.2, rate_with, tasks_with, PALETTE[1], with_label),
    )
    for shift, rates, counts, colour, name in sides:
        heights = _zero(rates)
        ax.bar([x + shift for x in xs], heights, width=0.4, color=colour, label=name)
        for x, h, count in zip(xs, heights, counts, strict=False):
            _note(ax, f"{count:,}", (x + shift, h), "data", "center", size=6)
    ax.set_xticks(list(xs))
    # Upright while the names fit side by side (short Chinese names do up to about a dozen).
    upright = n <= 12
    # Flagged names in red and marked (an outline smudges small CJK glyphs).
    shown = ["⚠ " + name if flag else name for name, flag in zip(names, flagged, strict=True)]
    ax.set_xticklabels(shown, rotation=0 if upright else 60, ha="center" if upright else "right",
                       fontsize=8)  # fmt: skip
    for tick, flag in zip(ax.get_xticklabels(), flagged, strict=True):
        if flag:
            tick.set_color(FLAG_RED)
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(ylabel, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    # Above the bars, not over the last specialist's.
    ax.legend(fontsize=8, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2)
    if flag_note and any(flagged):  # under the names it explains, clear of the legend
        ax.set_xlabel("⚠ " + flag_note, color=FLAG_RED, fontsize=8, loc="right")
    _finish(fig, title)


def draw_handoff_persistency(
    fig: Figure,
    *,
    bands: Sequence[str],
    rates: Sequence[float | None],
    policies: Sequence[int],
    title: str,
    count_text: str,
    ylabel: str = "",
    note: str = "",
    few: int = 0,
    few_text: str = "",
) -> None:
    """Draw persistency per first-contact delay band, one bar per band, each topped by its
    rate and its policy count (``count_text`` with %1 for the count); a band without policies
    shows no bar and says so with its zero count. A band on fewer than ``few`` policies is
    drawn pale, with ``few_text`` under its count: too small to read as news."""
    fig.clear()
    ax = fig.add_subplot()
    xs = list(range(len(bands)))
    heights = _zero(rates)
    colours = [PALETTE[0]] * (len(bands) - 1) + [MUTED]  # "never" apart, in grey
    for x, h, n, colour in zip(xs, heights, policies, colours, strict=True):
        ax.bar([x], [h], width=0.6, color=colour, alpha=0.35 if n < few else 1.0)
    for x, rate, h, n in zip(xs, rates, heights, policies, strict=True):
        top = "—" if rate is None else f"{rate * 100:.1f}%"
        text = f"{top}\n{arg(count_text, f'{n:,}')}"
        if 0 < n < few and few_text:
            text += f"\n{few_text}"
        _note(ax, text, (x, h), "data", "center", colour=MUTED if n < few else "#24292f", size=9)
    ax.set_xticks(xs)
    ax.set_xticklabels(list(bands), fontsize=9)
    ax.set_ylim(0, 1.2)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel(ylabel, fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    if note:
        ax.set_xlabel(note, color=MUTED, fontsize=8, loc="right")
    _finish(fig, title)


@dataclass(frozen=True)
class WorkloadBar:
    """One specialist in the rebalancing chart."""

    label: str
    load_before: float
    load_after: float
    customers_before: int
    customers_after: int
    capacity: int


def draw_workload_comparison(
    fig: Figure,
    bars: Sequence[WorkloadBar],
    *,
    title: str,
    before_label: str,
    after_label: str,
    workload_label: str,
    customers_label: str,
    capacity_label: str,
    bound: float | None = None,
    bound_label: str = "",
) -> None:
    """Draw each specialist's workload today and after a plan (left) and customers against
    capacity (right) as horizontal bars; anyone ending above capacity in red."""
    fig.clear()
    left, right = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    y = list(range(len(bars)))[::-1]
    h = 0.38
    over = [b.customers_after > max(b.capacity, b.customers_before) for b in bars]
    after_colours = ["#c92a2a" if o else PALETTE[0] for o in over]
    left.barh(
        [v + h / 2 for v in y], [b.load_before for b in bars], h, color=MUTED, label=before_label
    )
    left.barh(
        [v - h / 2 for v in y],
        [b.load_after for b in bars],
        h,
        color=after_colours,
        label=after_label,
    )
    if bound:
        left.axvline(bound, color=PALETTE[2], lw=1.2, ls="--", label=bound_label)
    left.set_xlabel(workload_label)
    right.barh([v + h / 2 for v in y], [b.customers_before for b in bars], h, color=MUTED)
    right.barh([v - h / 2 for v in y], [b.customers_after for b in bars], h, color=after_colours)
    right.scatter(
        [b.capacity for b in bars],
        y,
        marker="|",
        s=260,
        linewidths=2.2,
        color="#1b1f23",
        zorder=3,
        label=capacity_label,
    )
    right.set_xlabel(customers_label)
    left.set_yticks(y)
    left.set_yticklabels([b.label for b in bars], fontsize=8)
    for tick, flag in zip(left.get_yticklabels(), over, strict=True):
        if flag:
            tick.set_color("#c92a2a")
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    # One legend above both panels: inside either it would cover the lowest bars.
    handles, labels = left.get_legend_handles_labels()
    more, more_labels = right.get_legend_handles_labels()
    _finish(fig, title)
    fig.legend(
        handles + more,
        labels + more_labels,
        loc="outside lower center",
        ncols=4,
        fontsize=8,
        frameon=False,
    )


def _nan(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _zero(values: Sequence[float | None]) -> list[float]:
    return [0.0 if v is None else float(v) for v in values]
