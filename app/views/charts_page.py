"""Charts: persistency trend, the 4-sell funnel, weekly activity and service equity."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
)

from app.services.changes import Changes
from app.services.files.table_file import atomic_file
from app.services.metrics.equity import DEFAULT_THRESHOLD_POINTS
from app.services.metrics.funnel import YOUNG_COHORT_DAYS, cohort_age_days
from app.services.metrics.persistency import FEW_POLICIES
from app.services.people import org
from app.services.periods import Period
from app.services.render import chart_data, charts
from app.services.render.fonts import configure_matplotlib
from app.views.context import AppContext
from app.views.errors import show_error
from app.views.i18n import arg, translate
from app.views.labels import STEPS, TASK_KINDS, label
from app.views.pages import PageWidget
from app.views.table_export import default_file_name, save_folder

CHARTS = ("trend", "funnel", "activity", "equity", "handoff")


def chart_titles() -> dict[str, str]:
    return {
        "trend": translate("ChartsPage", "Persistency by due month"),
        "funnel": translate("ChartsPage", "4-sell funnel"),
        "activity": translate("ChartsPage", "Tasks completed per week"),
        "equity": translate("ChartsPage", "Service equity"),
        "handoff": translate("ChartsPage", "Persistency by days to first contact"),
    }


def band_names() -> dict[str, str]:
    """The first-contact delay bands (app.services.metrics.handoff.BAND_KEYS), in words."""
    return {
        "0-7": translate("ChartsPage", "0–7 days"),
        "8-30": translate("ChartsPage", "8–30 days"),
        "31-90": translate("ChartsPage", "31–90 days"),
        "91+": translate("ChartsPage", "over 90 days"),
        "never": translate("ChartsPage", "never contacted"),
    }


def cohort_choices(as_of: date) -> list[Period]:
    """Return the pool-entry cohorts offered: the last 24 months, the last 8 quarters, 2 years."""
    months = Period(date(as_of.year - 2, as_of.month, 1), as_of, "").months()[::-1]
    quarters = []
    y, q = as_of.year, (as_of.month - 1) // 3 + 1
    for _ in range(8):
        quarters.append(Period.parse(f"{y}-Q{q}"))
        y, q = (y - 1, 4) if q == 1 else (y, q - 1)
    years = [Period.parse(str(as_of.year - i)) for i in range(3)]
    return months + quarters + years


class ChartsPage(PageWidget):
    """Signals: drawn(str) after a chart has been redrawn with new data (its key)."""

    reads_persistency = True

    drawn = Signal(str)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loaded = False
        configure_matplotlib()
        with ctx.Session() as s:
            teams = org.teams(s, branch_id=ctx.user.branch_id, team_ids=ctx.user.team_scope())

        self.chart = QComboBox()
        self.chart.setObjectName("chart")
        for key, title in chart_titles().items():
            self.chart.addItem(title, key)
        self.scope = QComboBox()
        self.scope.setObjectName("scope")
        if ctx.user.sees_all_teams:
            self.scope.addItem(self.tr("Whole branch"), None)
        elif len(teams) > 1:
            self.scope.addItem(self.tr("All my teams"), None)
        if len(teams) > 1:
            self.scope.addItem(self.tr("Compare teams"), "by_team")
        for t in teams:
            self.scope.addItem(t.name, t.id)
        self.month = QComboBox()
        self.month.setObjectName("month")
        self.month.addItem(self.tr("13-month"), 13)
        self.month.addItem(self.tr("25-month"), 25)
        self.cohort = QComboBox()
        self.cohort.setObjectName("cohort")
        cohorts = cohort_choices(ctx.as_of)
        for p in cohorts:
            self.cohort.addItem(p.label, p.label)
        # The newest month old enough to judge every step (months come newest first).
        old_enough = [
            i
            for i, p in enumerate(cohorts)
            if cohort_age_days(p, ctx.as_of)[0] >= YOUNG_COHORT_DAYS
        ]
        self.cohort.setCurrentIndex(old_enough[0] if old_enough else 0)
        self.band = QCheckBox(self.tr("95% range"))
        self.band.setObjectName("band")
        self.band.setToolTip(
            self.tr(
                "Shade around each month the range its rate could well have had by chance, "
                "given how few policies it rests on (a 95% Wilson interval)"
            )
        )
        self.band.toggled.connect(self._redraw)
        self._shown: tuple[str, object] | None = None
        self.save = QPushButton(self.tr("Save chart as PNG…"))
        self.save.setObjectName("save_png")
        self.save.clicked.connect(lambda: self.save_png())  # not the checked flag
        self.status = QLabel()
        self.status.setObjectName("status")

        top = QHBoxLayout()
        top.addWidget(self.chart)
        top.addWidget(self.scope)
        top.addWidget(self.month)
        top.addWidget(self.cohort)
        top.addWidget(self.band)
        top.addStretch(1)
        top.addWidget(self.status)
        top.addWidget(self.save)

        self.figure = Figure(figsize=(9, 5), dpi=100)
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setObjectName("canvas")
        self.save_action = QAction(self.tr("Save chart as PNG…"), self.canvas)
        self.save_action.triggered.connect(lambda: self.save_png())
        self.canvas.addAction(self.save_action)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)

        for combo in (self.chart, self.scope, self.month, self.cohort):
            combo.currentIndexChanged.connect(self.reload)
        self._sync_controls()

    def activate(self) -> None:
        if not self._loaded:
            self.reload()

    def current_chart(self) -> str:
        return self.chart.currentData()

    def _sync_controls(self) -> None:
        key = self.current_chart()
        self.month.setVisible(key in ("trend", "handoff"))
        self.band.setVisible(key == "trend")
        self.cohort.setVisible(key == "funnel")
        # Only the trend draws one line per team: elsewhere "Compare teams" is not offered,
        # and a chart chosen while it was falls back to the whole scope.
        row = self.scope.findData("by_team")
        if row >= 0:
            model = self.scope.model()
            assert isinstance(model, QStandardItemModel)  # a combo box's own model is one
            item = model.item(row)
            assert item is not None  # row came from findData
            item.setEnabled(key == "trend")
            item.setToolTip(
                "" if key == "trend" else self.tr("Only the persistency trend compares teams")
            )
            if key != "trend" and self.scope.currentIndex() == row:
                self.scope.blockSignals(True)
                self.scope.setCurrentIndex(0)  # the whole scope: it always comes first
                self.scope.blockSignals(False)

    def _teams(self) -> tuple[frozenset[int] | None, bool]:
        """Return the team ids to include and whether to draw one line per team."""
        scope = self.scope.currentData()
        limit = self.ctx.user.team_scope()
        if scope is None:
            return limit, False
        if scope == "by_team":
            return limit, True
        return frozenset({scope}), False

    def reload(self) -> None:
        """Fetch the current chart's data in the background and redraw it."""
        self._loaded = True
        self._sync_controls()
        key = self.current_chart()
        team_ids, by_team = self._teams()
        as_of, month = self.ctx.as_of, self.month.currentData()
        branch_id = self.ctx.user.branch_id
        cohort = Period.parse(self.cohort.currentData())
        unserved = self.tr("No specialist on the due date")
        self.status.setText(self.tr("Loading…"))

        def fetch(s):
            if key == "trend":
                return chart_data.trend_data(
                    s,
                    branch_id=branch_id,
                    as_of=as_of,
                    month=month,
                    team_ids=team_ids,
                    by_team=by_team,
                    unserved_label=unserved,
                )
            if key == "funnel":
                return chart_data.funnel_data(
                    s, branch_id=branch_id, cohort=cohort, team_ids=team_ids
                )
            if key == "handoff":
                return chart_data.handoff_data(
                    s, branch_id=branch_id, as_of=as_of, month=month, team_ids=team_ids
                )
            if key == "activity":
                return chart_data.activity_data(
                    s, branch_id=branch_id, as_of=as_of, team_ids=team_ids
                )
            return chart_data.equity_data(s, branch_id=branch_id, as_of=as_of, team_ids=team_ids)

        self.ctx.runner.start(
            "charts",
            self.ctx.read(fetch),
            on_done=lambda data: self._draw(key, data),
            on_error=self._failed,
        )

    def _young_cohort_note(self) -> str:
        """Return a warning when the cohort entered the pool too recently for the later
        steps, which take months, to be judged ('' otherwise)."""
        cohort = Period.parse(self.cohort.currentData())
        newest, oldest = cohort_age_days(cohort, self.ctx.as_of)
        if newest >= YOUNG_COHORT_DAYS:
            return ""
        return arg(
            self.tr("These customers entered the pool %1–%2 days ago: the later steps take months"),
            str(newest),
            str(oldest),
        )

    def _failed(self, exc: BaseException) -> None:
        self.status.setText("")
        show_error(self, self.tr("Charts"), exc)

    def _redraw(self) -> None:
        """Draw the chart shown again from the data it has (a drawing option changed)."""
        if self._shown is not None:
            self._draw(*self._shown)

    def _draw(self, key: str, data) -> None:
        self._shown = (key, data)
        title = chart_titles()[key]
        if key == "trend":
            title = (
                self.tr("25-month persistency by due month")
                if self.month.currentData() == 25
                else self.tr("13-month persistency by due month")
            )
            scope = self.scope.currentText()
            current = [replace(s, label=s.label or scope) for s in data.current]
            earlier = [replace(s, label=s.label or scope) for s in data.year_earlier]
            charts.draw_persistency_trend(
                self.figure,
                months=data.months,
                current=current,
                year_earlier=earlier,
                title=title,
                year_earlier_suffix=self.tr("(a year earlier)"),
                pilot_month=data.pilot_month,
                pilot_label=self.tr("pilot starts"),
                pending_months=data.pending_months,
                pending_label=self.tr("grace period running: only the policies past it count"),
                few=FEW_POLICIES,
                few_label=arg(
                    self.tr("fewer than %1 policies: too few to judge"), str(FEW_POLICIES)
                ),
                band_label=self.tr("95% range (Wilson)") if self.band.isChecked() else "",
            )
        elif key == "funnel":
            charts.draw_funnel(
                self.figure,
                steps=[label(STEPS, i) for i in range(1, 5)],
                reached=data.reached,
                cohort_size=data.cohort_size,
                step_conversion=data.step_conversion,
                title=f"{title} · {self.cohort.currentData()} · "
                + arg(self.tr("%1 customers"), f"{data.cohort_size:,}"),
                reached_label=self.tr("Share of the cohort that reached the step"),
                reached_text=self.tr("%1 customers, %2 of the cohort"),
                conversion_text=self.tr("%1 of those at the step before"),
                median_days=data.median_days,
                median_text=self.tr("median %1 days after pool entry"),
                note=self._young_cohort_note(),
            )
        elif key == "handoff":
            self._draw_handoff(data)
        elif key == "activity":
            charts.draw_activity(
                self.figure,
                weeks=data.weeks,
                by_kind={label(TASK_KINDS, k): v for k, v in data.by_kind.items()},
                title=title,
                ylabel=self.tr("tasks"),
                until=self.ctx.as_of,
                partial_text=self.tr("%1 days so far"),
            )
        else:
            charts.draw_equity(
                self.figure,
                names=data.names,
                rate_without=data.rate_without,
                rate_with=data.rate_with,
                flagged=data.flagged,
                title=title
                + " · "
                + self.tr("completion of service and renewal tasks, last 365 days"),
                without_label=self.tr("customers never cross- or up-sold"),
                with_label=self.tr("customers who reached cross-sell or up-sell"),
                flag_note=arg(
                    self.tr("buyers served more than %1 points better"),
                    f"{DEFAULT_THRESHOLD_POINTS:g}",
                ),
                tasks_without=data.tasks_without,
                tasks_with=data.tasks_with,
                ylabel=self.tr("completion rate (over each bar: the tasks it counts)"),
            )
        self.canvas.draw_idle()
        self.status.setText("")
        self.drawn.emit(key)

    def _draw_handoff(self, data: chart_data.HandoffData) -> None:
        months = self.month.currentData()
        title = (
            self.tr("13-month persistency by days from pool entry to first contact")
            if months == 13
            else self.tr("25-month persistency by days from pool entry to first contact")
        )
        note = arg(self.tr("Policies due %1, premium basis"), data.period)
        if data.pending:
            note += " · " + arg(
                self.tr("%1 policies still in their grace period are not counted yet"),
                f"{data.pending:,}",
            )
        names = band_names()
        charts.draw_handoff_persistency(
            self.figure,
            bands=[names.get(b, b) for b in data.bands],
            rates=data.rates,
            policies=data.policies,
            title=title,
            count_text=self.tr("%1 policies"),
            ylabel=self.tr("persistency"),
            note=note,
            few=FEW_POLICIES,
            few_text=self.tr("few: not to judge"),
        )

    def save_png(self, path: str | None = None) -> str | None:
        """Save the chart shown as a PNG (asks where when no path is given); return the path."""
        if not path:
            name = default_file_name(self.chart.currentText(), ".png")
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Save chart"), str(save_folder() / name), "PNG (*.png)"
            )
            if path and not path.lower().endswith(".png"):
                path += ".png"
        if not path:
            return None
        try:
            with atomic_file(Path(path), binary=True) as f:
                self.figure.savefig(f, format="png", dpi=150)
        except OSError as exc:
            show_error(self, self.tr("Save chart"), exc)
            return None
        return path

    def on_changes(self, changes: Changes) -> None:
        if self._loaded and changes.touches(
            "customers", "tasks", "specialists", "grids", "derived"
        ):
            self.reload()
