"""Small numbers are not news: a specialist's 13-month persistency resting on fewer than 30
policies is drawn pale on the roster and says how many policies it rests on."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt

from app.services.metrics.persistency import FEW_POLICIES, persistency_report
from app.services.people.roster import trailing_year
from app.views.main_window import MainWindow


def test_the_rosters_persistency_says_its_base_and_is_pale_on_few_policies(qtbot, make_ctx):
    ctx = make_ctx("senior")
    # Early in the pilot: some specialists' persistency rests on a few dozen policies or fewer.
    ctx.as_of = date(2025, 9, 1)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    page = w.show_page("roster")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10000)
    with w.ctx.Session() as s:
        base = {
            r.group_key: r.policies
            for r in persistency_report(
                s,
                period=trailing_year(w.ctx.as_of),
                as_of=w.ctx.as_of,
                by="specialist",
                branch_id=w.ctx.user.branch_id,
            )
        }
    column = [c.key for c in page.model.columns].index("persistency")
    pale = judged = 0
    for i in range(page.model.rowCount()):
        row = page.model.row_at(i)
        n = base.get(row.specialist_id, 0)
        assert row.persistency_policies == n
        cell = page.model.index(i, column)
        tip = cell.data(Qt.ItemDataRole.ToolTipRole)
        assert f"On {n:,} policies" in tip
        colour = cell.data(Qt.ItemDataRole.ForegroundRole)
        if n < FEW_POLICIES:
            assert colour is not None and "too few to judge" in tip
            pale += 1
        else:
            assert colour is None and "too few" not in tip
            judged += 1
    assert pale and judged  # both kinds, on that day
