"""The scorecard's table: one row per specialist, for each figure this month's value with a
met / not met mark (a text mark and a colour, never colour alone) and the previous month with
the change; tooltips give the definition, the standard and n of m."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from app.services.metrics.persistency import FEW_POLICIES
from app.services.metrics.scorecard import MEASURES, Mark, Scorecard, ScorecardRow
from app.views.i18n import arg, translate
from app.views.labels import SPECIALIST_STATUSES, label, pct, yuan
from app.views.table_models import Column, RowTableModel

MET_BG, MET_FG = QBrush(QColor("#c6efce")), QBrush(QColor("#006100"))
NOT_MET_BG, NOT_MET_FG = QBrush(QColor("#f8cbad")), QBrush(QColor("#9c0006"))
FEW_FG = QBrush(QColor("#8c959f"))  # a rate on a few policies: shown, pale, not judged


def measure_names() -> dict[str, str]:
    return {
        "renewal": translate("ScorecardPage", "Renewal\ncollected"),
        "persistency": translate("ScorecardPage", "13-month\npersistency"),
        "tasks": translate("ScorecardPage", "Tasks\non time"),
        "contact": translate("ScorecardPage", "First contact\non time"),
        "equity": translate("ScorecardPage", "Service\nequity"),
    }


def definitions(card: Scorecard | None) -> dict[str, str]:
    """What each figure counts, for the headers' tooltips."""
    grace = str(card.grace_days) if card else "60"
    return {
        "renewal": arg(
            translate(
                "ScorecardPage",
                "Renewal premiums (policy year 2 on) due in the month, for who served the customer "
                "on the due date: received within the %1-day grace period and by the as-of date "
                "(capped at the amount due), over the amount due. Rows still in their grace period "
                "are pending and left out.",
            ),
            grace,
        ),
        "persistency": translate(
            "ScorecardPage",
            "13-month persistency, premium basis, of the policies whose second-year premium fell "
            "due in the month: the meeting workbook's figure by specialist.",
        ),
        "tasks": translate(
            "ScorecardPage",
            "Tasks due in the month (cancelled ones left out), for who holds them: done on or "
            "before the due date, of those settled (done, failed, or past due). Tasks not yet "
            "due are pending.",
        ),
        "contact": translate(
            "ScorecardPage",
            "Customers who entered the pool in the 90 days to the month's end first contacted "
            "within the branch's target, of those settled: the roster's hand-off figure on the "
            "month's last day.",
        ),
        "equity": translate(
            "ScorecardPage",
            "Completion-rate gap of servicing and renewal tasks (365 days to the month's end) "
            "between customers who bought more and those who did not, in points. The standard "
            "is no flag.",
        ),
    }


def value_text(mark: Mark, figure=None) -> str:
    figure = figure or mark.now
    if mark.measure == "equity":
        return "—" if figure.value is None else f"{float(figure.value):+.1f}"
    return pct(figure.value)


def mark_text(mark: Mark) -> str:
    """The cell: a text mark, then the value (✓ met, ✗ not met, ⚠ flagged, "few")."""
    if mark.now.few:
        return arg(translate("ScorecardPage", "%1 few"), value_text(mark))
    if mark.met is None:
        return value_text(mark) if mark.now.pending or mark.now.value is not None else "—"
    if mark.measure == "equity":
        sign = "✓" if mark.met else "⚠"
        return f"{sign} {value_text(mark)}"
    return f"{'✓' if mark.met else '✗'} {value_text(mark)}"


def change_text(mark: Mark) -> str:
    before = value_text(mark, mark.before)
    if mark.change is None:
        return before
    points = f"{float(mark.change):+.1f}"
    # In points, as the header's tooltip says: "pts" on every cell took a laptop's room.
    return arg(translate("ScorecardPage", "%1 (%2)"), before, points)


def n_of_m(mark: Mark) -> str:
    f = mark.now
    if mark.measure in ("renewal", "persistency"):
        text = arg(
            translate("ScorecardPage", "%1 of %2 due"), yuan(f.numerator), yuan(f.denominator)
        )
        unit = (
            translate("ScorecardPage", "rows")
            if mark.measure == "renewal"
            else translate("ScorecardPage", "policies")
        )
        if f.policies is not None:
            text += " · " + arg(
                translate("ScorecardPage", "%1 rows settled")
                if mark.measure == "renewal"
                else translate("ScorecardPage", "%1 policies"),
                f"{f.policies:,}",
            )
    elif mark.measure == "equity":
        return arg(
            translate("ScorecardPage", "%1 servicing and renewal tasks compared"),
            f"{f.denominator:,}",
        )
    else:
        text = arg(translate("ScorecardPage", "%1 of %2"), f"{f.numerator:,}", f"{f.denominator:,}")
        unit = (
            translate("ScorecardPage", "tasks")
            if mark.measure == "tasks"
            else translate("ScorecardPage", "customers")
        )
    if f.pending:
        text += arg(translate("ScorecardPage", "; %1 %2 pending"), f"{f.pending:,}", unit)
    return text


def verdict(mark: Mark) -> str:
    if mark.measure == "equity":
        if mark.met is None:
            return translate("ScorecardPage", "Too few tasks to compare: not judged")
        return (
            translate("ScorecardPage", "No flag: met")
            if mark.met
            else translate("ScorecardPage", "Flagged: not met")
        )
    standard = f"{mark.standard}%"
    if mark.now.few:
        return arg(
            translate("ScorecardPage", "Fewer than %1 policies: too few to judge (standard %2)"),
            str(FEW_POLICIES),
            standard,
        )
    if mark.met is None:
        return arg(
            translate("ScorecardPage", "Nothing settled yet: not judged (standard %1)"), standard
        )
    if mark.met:
        return arg(translate("ScorecardPage", "Met: standard %1"), standard)
    return arg(translate("ScorecardPage", "Not met: standard %1"), standard)


def _mark_column(m: str, name: str, tip: str) -> Column:
    def tooltip(r: ScorecardRow) -> str:
        mark = r.mark(m)
        return f"{verdict(mark)}\n{n_of_m(mark)}"

    return Column(
        m,
        name,
        lambda r: r.mark(m).now.value,
        text=lambda v: "",
        numeric=True,
        tooltip=tooltip,
        header_tip=tip,
        kind="percent" if m != "equity" else "number",
    )


def _change_of(m: str) -> Callable[[ScorecardRow], Decimal | None]:
    """A row's change in measure ``m`` (bound here, not in a lambda default in the loop)."""
    return lambda r: r.mark(m).change


def scorecard_columns(card: Scorecard | None) -> list[Column]:
    names, tips = measure_names(), definitions(card)
    before = card.previous.label if card else ""
    cols: list[Column] = [
        Column("employee_no", translate("ScorecardPage", "Employee\nno."), lambda r: r.employee_no),
        Column("name", translate("ScorecardPage", "Name"), lambda r: r.name),
        Column("team", translate("ScorecardPage", "Team"), lambda r: r.team_name),
        Column(
            "status",
            translate("ScorecardPage", "Status"),
            lambda r: label(SPECIALIST_STATUSES, r.status),
        ),
    ]
    for m in MEASURES:
        cols.append(_mark_column(m, names[m], tips[m]))
        cols.append(
            Column(
                f"{m}_before",
                arg(
                    translate("ScorecardPage", "%1\n(change)"),
                    before or translate("ScorecardPage", "Previous"),
                ),
                _change_of(m),
                text=lambda v: "",
                numeric=True,
                kind="number",
                header_tip=translate(
                    "ScorecardPage", "The previous month's value and the change, in points"
                ),
            )
        )
    cols.append(
        Column(
            "met",
            translate("ScorecardPage", "Standards\nmet"),
            lambda r: r.met,
            text=lambda v: "",
            numeric=True,
            header_tip=translate(
                "ScorecardPage", "Standards met of the figures that could be judged"
            ),
        )
    )
    return cols


class ScorecardModel(RowTableModel):
    """Rows of the scorecard; mark cells carry a text mark and a colour."""

    def __init__(self, parent=None) -> None:
        super().__init__(scorecard_columns(None), parent)

    def set_card(self, card: Scorecard) -> None:
        self.beginResetModel()
        self.columns = scorecard_columns(card)
        self._rows = list(card.rows)
        self.endResetModel()

    def _mark(self, index) -> tuple[Mark | None, bool]:
        key = self.columns[index.column()].key
        m = key.removesuffix("_before")
        if m not in MEASURES:
            return None, False
        return self.row_at(index.row()).mark(m), key.endswith("_before")

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        mark, before = self._mark(index)
        if mark is not None:
            if role == Qt.ItemDataRole.DisplayRole:
                return change_text(mark) if before else mark_text(mark)
            if role == Qt.ItemDataRole.ForegroundRole and (
                mark.before.few if before else mark.now.few
            ):
                return FEW_FG
            if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
                if before or mark.met is None:
                    return None
                bg = role == Qt.ItemDataRole.BackgroundRole
                return (
                    (MET_BG if bg else MET_FG) if mark.met else (NOT_MET_BG if bg else NOT_MET_FG)
                )
        elif role == Qt.ItemDataRole.DisplayRole and self.columns[index.column()].key == "met":
            r = self.row_at(index.row())
            return f"{r.met} / {r.judged}"
        return super().data(index, role)
