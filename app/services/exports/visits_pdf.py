"""The weekly visit list as a PDF to print: for each specialist, one A4 portrait page per
working day (Monday to Friday), the day's customers in route order.

Drawn with matplotlib's PDF backend (``PdfPages`` over plain ``Figure`` objects): no Qt, so the
command line and the background job write the same file, and matplotlib is already a
dependency. Chinese text uses the bundled Noto Sans CJK SC font (``app.services.render.fonts``),
embedded as a subset (``pdf.fonttype`` 42), so the page prints the same on any machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from app.services.exports.sheets import CLOSING, text_width
from app.services.exports.visit_words import gathered_text, grid_text, km, route_text, todo_text
from app.services.messages import Message
from app.services.progress import JobState, NullState, check
from app.services.visits.lists import Day, Stop, VisitList
from app.services.words import Texts

A4 = (8.27, 11.69)  # inches, portrait
LEFT, RIGHT, TOP, BOTTOM = 0.45, 7.85, 10.95, 0.75  # the printed area, inches from bottom-left
FONT_SIZE = 8.0
LINE = 0.145  # inches per text line at FONT_SIZE
ROW_GAP = 0.07
MAX_LINES = 3  # lines a cell may take; longer text ends in "…"
# Columns: (key, left edge in inches, width in narrow characters for wrapping).
COLUMNS = (
    ("no", 0.45, 4),
    ("customer", 0.78, 15),
    ("phone", 1.80, 13),
    ("grid", 2.72, 16),
    ("address", 3.78, 30),
    ("todo", 5.62, 39),
)


def render_pdf(
    lists: Sequence[VisitList],
    path: Path,
    t: Texts,
    *,
    per_day: int,
    state: JobState | None = None,
) -> list[str]:
    """Write every list's days, one page each, to ``path``; return one label per page."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    from app.services.render.fonts import configure_matplotlib

    state = state or NullState()
    configure_matplotlib()
    pages = [(vl, day) for vl in lists for day in vl.days]
    labels = []
    meta = {"Title": t["visits_title"], "Creator": "GridDesk"}
    style = matplotlib.rc_context({"pdf.fonttype": 42, "font.size": FONT_SIZE})
    with style, PdfPages(path, metadata=meta) as pdf:
        for n, (vl, day) in enumerate(pages, 1):
            fig = Figure(figsize=A4)
            _page(fig, vl, day, t, page=(n, len(pages)), per_day=per_day)
            pdf.savefig(fig)
            labels.append(f"{vl.employee_no} {day.day.isoformat()}")
            check(state)
            state.report(0.5 + 0.5 * n / len(pages), Message("progress.visit_file"))
    return labels


def wrap(text: str, width: int, lines: int = MAX_LINES) -> list[str]:
    """Return ``text`` broken into lines of at most ``width`` narrow characters (CJK count
    two), at most ``lines`` of them, the last ending in "…" when cut."""
    out: list[str] = []
    for para in text.split("\n"):
        current = ""
        for ch in para:
            if text_width(current + ch) > width and ch not in CLOSING:
                out.append(current)
                current = ch.lstrip()
            else:
                current += ch
        out.append(current)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: max(0, len(out[-1]) - 1)] + "…"
    return out


def _inch(fig, x: float, y: float, text: str, **kw) -> None:
    fig.text(x / A4[0], y / A4[1], text, va="top", ha="left", **kw)


def _page(fig, vl: VisitList, day: Day, t: Texts, *, page, per_day: int) -> None:
    y = TOP
    _inch(fig, LEFT, y, f"{t['visits_title']} · {vl.week_label}", fontsize=15, color="#1F3864")
    y -= 0.32
    who = f"{vl.employee_no} {vl.specialist_name}（{vl.team_name}）"
    weekday = t[f"weekday_{day.day.weekday()}"]
    _inch(fig, LEFT, y, f"{who} · {day.day:%Y-%m-%d} {weekday}", fontsize=11)
    y -= 0.24
    day_line = t["visits_day_line"].format(n=len(day.stops), route=km(day.route_m))
    week_line = t["visits_week_route"].format(route=route_text(vl, t))
    _inch(fig, LEFT, y, f"{day_line} · {week_line}", fontsize=9)
    y -= 0.3
    y = _table(fig, day.stops, y, t)
    notes = []
    if any(not s.located for s in day.stops):
        notes.append("※ " + t["visits_no_coords"])
    if vl.unplanned and day is vl.days[-1]:
        notes.append(t["visits_unplanned_note"].format(n=len(vl.unplanned), per_day=per_day))
    if not day.stops:
        notes.append(t["visits_empty_day"])
    notes.append(gathered_text(vl, t))
    _notes(fig, notes, y - 0.1)
    masking = t["visits_unmasked_short"] if vl.contact_data_shown else t["visits_masked_short"]
    footer = t["visits_footer"].format(
        as_of=vl.as_of.isoformat(), masking=masking, page=page[0], pages=page[1]
    )
    fig.text(0.5, BOTTOM / 2 / A4[1], footer, ha="center", va="center", fontsize=7, color="#555")


def _headers(t: Texts) -> dict[str, str]:
    return {
        "no": t["visits_order"],
        "customer": t["customer_name"],
        "phone": t["phone"],
        "grid": t["grid"],
        "address": t["address"],
        "todo": t["visits_todo"],
    }


def _cells(i: int, s: Stop, t: Texts) -> dict[str, list[str]]:
    cells = {
        "no": [str(i)],
        "customer": [s.name, s.customer_no],
        "phone": [s.phone or "—"],
        "grid": [grid_text(s, t)],
        "address": [s.address + ("" if s.located else " ※")],
        "todo": ["\n".join(todo_text(x, t) for x in s.todos)],
    }
    return {
        key: [line for text in cells[key] for line in wrap(text, width)]
        for key, _x, width in COLUMNS
    }


def _table(fig, stops: Sequence[Stop], y: float, t: Texts) -> float:
    """Draw the header and the stops from ``y`` down; return where the table ends."""
    heads = _headers(t)
    for key, x, _w in COLUMNS:
        _inch(fig, x, y, heads[key], color="#1F3864")
    y -= LINE + 0.04
    _rule(fig, y, "#8EA9DB", 0.8)
    y -= ROW_GAP
    grid = None
    for i, s in enumerate(stops, 1):
        cells = _cells(i, s, t)
        if grid is not None and s.grid_code != grid:
            _rule(fig, y + ROW_GAP / 2, "#8EA9DB", 0.6)  # a new community begins
        grid = s.grid_code
        for key, x, _w in COLUMNS:
            for k, line in enumerate(cells[key][: MAX_LINES + 1]):
                colour = "#666" if key == "customer" and k else "black"
                _inch(fig, x, y - k * LINE, line, color=colour)
        y -= max(len(v) for v in cells.values()) * LINE + ROW_GAP
        _rule(fig, y + ROW_GAP / 2, "#DDDDDD", 0.4)
    return y


def _rule(fig, y: float, colour: str, width: float) -> None:
    from matplotlib.lines import Line2D

    yy = y / A4[1]
    fig.add_artist(Line2D([LEFT / A4[0], RIGHT / A4[0]], [yy, yy], color=colour, linewidth=width))


def _notes(fig, notes: Sequence[str], y: float) -> None:
    for note in notes:
        for line in wrap(note, 118, lines=4):
            if y < BOTTOM + LINE:
                return
            _inch(fig, LEFT, y, line, fontsize=7.5, color="#444")
            y -= LINE
        y -= 0.04
