"""The Scorecard page (月度考核): each specialist's five monthly figures against the branch's
standards, beside the month before; a month picker, a team picker for whoever sees several
teams, and the workbook export."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QLocale, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from app.services.changes import Changes
from app.services.exports.meeting_data import latest_complete_month
from app.services.metrics.scorecard import Scorecard, scorecard
from app.services.people import org
from app.services.periods import Period, add_months
from app.views.context import AppContext
from app.views.errors import show_error
from app.views.i18n import arg
from app.views.layout import fit_columns
from app.views.pages import PageWidget
from app.views.scorecard_model import ScorecardModel
from app.views.table_models import SORT_ROLE

MONTHS_LISTED = 24


def month_choices(as_of: date) -> list[Period]:
    """The months a scorecard may be asked for: the as-of month and the 23 before, newest first."""
    first = as_of.replace(day=1)
    return [
        Period.month(d.year, d.month) for d in (add_months(first, -i) for i in range(MONTHS_LISTED))
    ]


class ScorecardPage(PageWidget):
    """Signals: loaded(object) with the Scorecard shown, after each load."""

    reads_persistency = True

    loaded = Signal(object)

    def __init__(self, ctx: AppContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._loaded = False
        self.card: Scorecard | None = None
        with ctx.Session() as s:
            teams = org.teams(s, branch_id=ctx.user.branch_id, team_ids=ctx.user.team_scope())
            grace = org_grace(s, ctx.user.branch_id)

        self.month = QComboBox()
        self.month.setObjectName("month")
        default = latest_complete_month(ctx.as_of, grace).label
        for p in month_choices(ctx.as_of):
            self.month.addItem(p.label, p)
        self.month.setCurrentIndex(max(0, self.month.findText(default)))
        self.month.setToolTip(
            self.tr(
                "The month judged. It opens on the latest month whose premiums are all past "
                "their grace period, so renewal and persistency are final."
            )
        )
        self.team = QComboBox()
        self.team.setObjectName("team")
        if len(teams) > 1:
            self.team.addItem(self.tr("All teams"), None)
        for t in teams:
            self.team.addItem(t.name, t.id)
        self.team.setVisible(len(teams) > 1)
        self.export_button = QPushButton(self.tr("Export workbook…"))
        self.export_button.setObjectName("export_scorecard")
        self.export_button.clicked.connect(lambda: self.export())
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Month")))
        top.addWidget(self.month)
        top.addWidget(self.team)
        top.addStretch(1)
        top.addWidget(self.export_button)

        self.model = ScorecardModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("scorecard_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.standards = QLabel()
        self.standards.setObjectName("standards")
        self.standards.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("status")

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.standards)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self.month.currentIndexChanged.connect(lambda: self.reload())
        self.team.currentIndexChanged.connect(lambda: self.reload())

    def activate(self) -> None:
        if not self._loaded:
            self.reload()

    def selected_month(self) -> Period:
        return self.month.currentData()

    def team_ids(self) -> frozenset[int] | None:
        chosen = self.team.currentData()
        if chosen is not None:
            return frozenset({chosen})
        scope = self.ctx.user.team_scope()
        return None if scope is None else frozenset(scope)

    def reload(self) -> None:
        self._loaded = True
        self.status.setText(self.tr("Loading…"))
        month, teams = self.selected_month(), self.team_ids()
        branch_id, as_of = self.ctx.user.branch_id, self.ctx.as_of

        def load(s):
            return scorecard(s, branch_id=branch_id, month=month, as_of=as_of, team_ids=teams)

        self.ctx.runner.start(
            "scorecard",
            self.ctx.read(load),
            on_done=self._show,
            on_error=lambda exc: show_error(self, self.tr("Scorecard"), exc),
        )

    def _show(self, card: Scorecard) -> None:
        self.card = card
        self.model.set_card(card)
        fit_columns(self.table)
        s = card.standards
        self.standards.setText(
            arg(
                self.tr(
                    "Standards: renewal collected ≥ %1%, 13-month persistency ≥ %2%, tasks on time "
                    "≥ %3%, first contact on time ≥ %4%, no service-equity flag. ✓ met, ✗ not met, "
                    "⚠ flagged; hover a cell for n of m."
                ),
                str(s.renewal_pct),
                str(s.persistency_pct),
                str(s.tasks_pct),
                str(s.contact_pct),
            )
        )
        self.status.setText(
            arg(
                self.tr("%1 compared with %2, as of %3 · %4 specialists"),
                card.month.label,
                card.previous.label,
                card.as_of.isoformat(),
                str(len(card.rows)),
            )
        )
        self.loaded.emit(card)

    def export(self, path: str | None = None) -> None:
        """Write the scorecard workbook of the chosen month and team(s) (asks where when
        ``path`` is None)."""
        month = self.selected_month()
        if path is None:
            start = str(Path.home() / f"griddesk-scorecard-{month.label}.xlsx")
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Save scorecard workbook"), start, "Excel (*.xlsx)"
            )
            if not path:
                return
        target = path if path.lower().endswith(".xlsx") else path + ".xlsx"
        user, as_of, teams = self.ctx.user, self.ctx.as_of, self.team_ids()
        lang = "zh_CN" if QLocale().language() == QLocale.Language.Chinese else "en"

        def job(s):
            from app.services.exports import resolve_scope
            from app.services.exports.scorecard import write_scorecard_workbook

            scope = resolve_scope(s, None, branch_id=user.branch_id, user=user)
            if teams is not None and scope.team_ids != teams:
                scope = _teams_scope(s, user, teams)
            return write_scorecard_workbook(
                s, target, month=month, as_of=as_of, scope=scope, lang=lang, user=user
            )

        def write() -> None:
            self.ctx.runner.start(
                "scorecard_export",
                self.ctx.read(job),
                on_done=lambda result: self.status.setText(
                    arg(self.tr("Written: %1"), result.path)
                ),
                on_error=lambda exc: show_error(self, self.tr("Scorecard"), exc),
                progress_parent=self,
                progress_title=self.tr("Scorecard workbook"),
            )

        if self.ctx.run_when_current(write):
            self.status.setText(
                self.tr(
                    "The figures are being updated after the last change; the workbook will "
                    "be written as soon as they are current."
                )
            )

    def on_changes(self, changes: Changes) -> None:
        if self._loaded and changes.touches(
            "customers", "tasks", "specialists", "settings", "derived"
        ):
            self.reload()


def _teams_scope(s, user, teams: frozenset[int]):
    """The scope of one chosen team, checked against what the user may see."""
    from sqlalchemy import select

    from app.models import Team
    from app.services.exports import resolve_scope

    (code,) = s.scalars(select(Team.code).where(Team.id.in_(list(teams)))).all()
    return resolve_scope(s, f"team:{code}", branch_id=user.branch_id, user=user)


def org_grace(s, branch_id: int) -> int:
    from app.models import Branch

    return s.get_one(Branch, branch_id).grace_days
