"""The measures a grid can be coloured by: each grid's colour, the legend and the tooltip
lines, in Chinese or English. Shared by the web map and the matplotlib fallback."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.services.mapping.data import GridRow, MapData
from app.services.metrics.persistency import FEW_POLICIES
from app.services.words import Texts

MEASURES: tuple[str, ...] = ("persistency", "open_tasks", "load", "coverage")

NO_DATA = "#d0d0d0"
# A grid whose rate rests on a few policies: pale, and outside the colour scale (one lapse in
# five policies would paint it red).
FEW_FILL = "#f4f1ea"
OUTLINE = "#4a4a4a"
PERSISTENCY_COLOURS = ("#d73027", "#fee08b", "#1a9850")  # low red, high green
OPEN_TASK_COLOURS = ("#fff5eb", "#fd8d3c", "#a63603")
# Load of the owner (customers / capacity): the upper bound (included) of each band, its colour.
LOAD_BANDS: tuple[tuple[float, str], ...] = (
    (0.8, "#1a9850"),
    (1.0, "#fee08b"),
    (1.2, "#fc8d59"),
    (float("inf"), "#d73027"),
)
UNCOVERED = "#d73027"
UNSERVED = "#fdae61"
COVERED = "#c7e9c0"


def labels(lang: str) -> Texts:
    """Return the map's words for a language code (Chinese for zh*, else English)."""
    return Texts("zh_CN" if lang.lower().startswith("zh") else "en")


@dataclass(frozen=True)
class Legend:
    """How to explain the colours: a gradient between two labelled ends, or swatches."""

    title: str
    kind: str  # "gradient" or "swatches"
    colours: tuple[str, ...]  # gradient stops (low to high) or swatch colours
    labels: tuple[str, ...]  # (low, high) for a gradient, one per swatch otherwise
    vmin: float = 0.0
    vmax: float = 1.0
    percent: bool = False
    no_data: str | None = None  # label of the grey swatch for grids without a value
    few: str | None = None  # label of the pale swatch for grids whose value rests on a few
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Colouring:
    """The fill colour of each grid (by code) and the legend that explains them."""

    fills: dict[str, str]
    legend: Legend


def colour_grids(data: MapData, *, measure: str, lang: str = "zh_CN") -> Colouring:
    """Return each grid's fill colour for ``measure`` and the legend."""
    if measure not in MEASURES:
        raise ValueError(f"unknown map measure '{measure}': choose one of {', '.join(MEASURES)}")
    t = labels(lang)
    notes = [t["map_unmatched_note"].format(n=data.unmatched)] if data.unmatched else []
    if data.outside_coverage:
        notes.append(t["map_outside_note"].format(n=data.outside_coverage))
    if measure == "persistency":
        values = {
            g.code: float(g.persistency_13)
            for g in data.grids
            if g.persistency_13 is not None and not few_policies(g)
        }
        few = frozenset(
            g.code for g in data.grids if g.persistency_13 is not None and few_policies(g)
        )
        if data.persistency_period:
            notes.insert(0, t["map_period"].format(p=data.persistency_period))
        return _gradient(
            values, data, PERSISTENCY_COLOURS, t["map_persistency"], t, notes, percent=True, few=few
        )
    if measure == "open_tasks":
        values = {
            g.code: float(g.owner_open_tasks) for g in data.grids if g.owner_open_tasks is not None
        }
        return _gradient(values, data, OPEN_TASK_COLOURS, t["map_open_tasks"], t, notes, floor=0.0)
    if measure == "load":
        fills = {}
        for g in data.grids:
            load = g.load
            fills[g.code] = NO_DATA if load is None else _band(load)
        band_labels = []
        lower = None
        for upper, _colour in LOAD_BANDS:
            if lower is None:
                band_labels.append(t["map_under"].format(a=_pct(upper)))
            elif upper == float("inf"):
                band_labels.append(t["map_over"].format(a=_pct(lower)))
            else:
                band_labels.append(t["map_between"].format(a=_pct(lower), b=_pct(upper)))
            lower = upper
        legend = Legend(
            title=t["map_load"],
            kind="swatches",
            colours=tuple(c for _u, c in LOAD_BANDS) + (NO_DATA,),
            labels=(*band_labels, t["map_no_owner"]),
            notes=tuple(notes),
        )
        return Colouring(fills, legend)
    fills = {}
    for g in data.grids:
        fills[g.code] = UNCOVERED if g.uncovered else UNSERVED if g.unserved else COVERED
    legend = Legend(
        title=t["map_coverage"],
        kind="swatches",
        colours=(UNCOVERED, UNSERVED, COVERED),
        labels=(t["map_uncovered"], t["map_unserved"], t["map_covered"]),
        notes=tuple(notes),
    )
    return Colouring(fills, legend)


def _gradient(
    values: dict[str, float],
    data: MapData,
    colours: tuple[str, ...],
    title: str,
    t: Texts,
    notes: list[str],
    *,
    percent: bool = False,
    floor: float | None = None,
    few: frozenset[str] = frozenset(),
) -> Colouring:
    few_label = t["map_few"].format(n=FEW_POLICIES) if few else None
    if not values:
        # Nothing to scale (e.g. no policy has reached its year-2 due date yet): say so.
        legend = Legend(
            title=title,
            kind="swatches",
            colours=(NO_DATA,) + ((FEW_FILL,) if few else ()),
            labels=(t["map_no_data"],) + ((few_label,) if few_label else ()),
            notes=tuple(notes),
        )
        return Colouring(
            {g.code: FEW_FILL if g.code in few else NO_DATA for g in data.grids}, legend
        )
    vmin, vmax = min(values.values()), max(values.values())
    if floor is not None:
        vmin = min(vmin, floor)
    if vmax <= vmin:
        vmax = vmin + (0.01 if percent else 1.0)
    from branca.colormap import LinearColormap  # ~0.25 s to import: only when a map is coloured

    scale = LinearColormap(list(colours), vmin=vmin, vmax=vmax)
    fills = {
        g.code: scale(values[g.code])
        if g.code in values
        else FEW_FILL
        if g.code in few
        else NO_DATA
        for g in data.grids
    }
    fmt = _pct1 if percent else _count
    legend = Legend(
        title=title,
        kind="gradient",
        colours=colours,
        labels=(fmt(vmin), fmt(vmax)),
        vmin=vmin,
        vmax=vmax,
        percent=percent,
        no_data=t["map_no_data"] if len(values) + len(few) < len(data.grids) else None,
        few=few_label,
        notes=tuple(notes),
    )
    return Colouring({k: _hex(v) for k, v in fills.items()}, legend)


def few_policies(g: GridRow) -> bool:
    """Say whether the grid's persistency rests on too few policies to be coloured."""
    return g.persistency_policies is not None and g.persistency_policies < FEW_POLICIES


def _band(load: float) -> str:
    for upper, colour in LOAD_BANDS:
        if load <= upper:
            return colour
    return LOAD_BANDS[-1][1]


def _hex(colour: str) -> str:
    # branca returns #rrggbbaa; Leaflet and matplotlib both read #rrggbb.
    return colour[:7]


def _pct(x: float | Decimal) -> str:
    return f"{float(x) * 100:.0f}%"


def _pct1(x: float | Decimal) -> str:
    return f"{float(x) * 100:.1f}%"


def _count(x: float) -> str:
    return f"{x:.0f}"


def tooltip_lines(g: GridRow, *, lang: str = "zh_CN") -> list[tuple[str, str]]:
    """Return (label, value) lines describing a grid: code and name, district, owner, figures."""
    t = labels(lang)
    owner = "—"
    if g.owner_name:
        owner = f"{g.owner_name} ({g.owner_employee_no})" if g.owner_employee_no else g.owner_name
    if g.uncovered:
        owner = f"{owner} · {t['map_uncovered']}" if g.owner_name else t["map_uncovered"]
    lines = [
        (t["map_grid"], f"{g.code} {g.name}"),
        (t["map_district"], g.district or "—"),
        (t["map_owner"], owner),
    ]
    if g.team_name:
        lines.append((t["map_team"], g.team_name))
    lines.append((t["map_customers"], str(g.customers)))
    if g.unserved:
        lines.append((t["map_unserved_short"], str(g.unserved)))
    if g.owner_customers is not None:
        cap = str(g.owner_capacity) if g.owner_capacity else "—"
        share = f" ({_pct(g.load)})" if g.load is not None else ""
        lines.append((t["map_owner_load"], f"{g.owner_customers} / {cap}{share}"))
    if g.owner_open_tasks is not None:
        lines.append((t["map_open_tasks_short"], str(g.owner_open_tasks)))
    persistency = "—"
    if g.persistency_13 is not None:
        persistency = _pct1(g.persistency_13)
        if g.persistency_policies is not None:
            base = t["map_policies_few" if few_policies(g) else "map_policies"]
            persistency += f" ({base.format(n=f'{g.persistency_policies:,}')})"
    lines.append((t["map_persistency_short"], persistency))
    return lines
