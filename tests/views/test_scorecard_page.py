"""The Scorecard page (月度考核) offscreen on the demo branch: the month and team pickers, each
figure with a text mark and a colour, tooltips with the standard and n of m, the workbook export;
and the scorecard standards in File ▸ Branch settings."""

from __future__ import annotations

from openpyxl import load_workbook
from PySide6.QtCore import Qt

from app.models import Branch
from app.services.metrics.scorecard import MEASURES, scorecard
from app.views.main_window import MainWindow
from app.views.scorecard_model import FEW_FG, MET_BG, NOT_MET_BG


def _page(qtbot, ctx):
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    page = window.show_page("scorecard")
    qtbot.waitUntil(lambda: page.card is not None, timeout=10_000)
    return window, page


def _column(page, key: str) -> int:
    return [c.key for c in page.model.columns].index(key)


def test_the_page_shows_marks_colours_and_tooltips_for_the_chosen_month(
    qtbot, qtmodeltester, make_ctx
):
    ctx = make_ctx("senior")
    _, page = _page(qtbot, ctx)
    qtmodeltester.check(page.model)
    assert page.selected_month().label == "2026-08"  # the latest month past its grace period
    assert not page.team.isHidden() and page.team.currentData() is None  # all teams
    with ctx.Session() as s:
        expected = scorecard(
            s, branch_id=ctx.user.branch_id, month=page.selected_month(), as_of=ctx.as_of
        )
    assert page.model.rowCount() == len(expected.rows)
    seen = {True: 0, False: 0}
    few = 0
    for row, r in enumerate(page.model.rows()):
        for m in MEASURES:
            index = page.model.index(row, _column(page, m))
            mark = r.mark(m)
            text = index.data()
            tip = index.data(Qt.ItemDataRole.ToolTipRole)
            colour = index.data(Qt.ItemDataRole.BackgroundRole)
            if mark.now.few:  # shown pale, said to be few, never judged
                few += 1
                assert text.endswith(" few") and colour is None
                assert index.data(Qt.ItemDataRole.ForegroundRole) == FEW_FG
                assert "too few to judge" in tip
                assert ("policies" if m == "persistency" else "rows settled") in tip
                continue
            if mark.met is None:
                assert colour is None
                continue
            seen[mark.met] += 1
            assert text[0] == ("✓" if mark.met else ("⚠" if m == "equity" else "✗"))
            assert colour == (MET_BG if mark.met else NOT_MET_BG)
            assert ("Not met" in tip or "Flagged" in tip) is (not mark.met)
            if m in ("tasks", "contact"):
                assert f"{mark.now.numerator:,} of {mark.now.denominator:,}" in tip
    assert seen[True] and seen[False]  # both kinds shown on the demo
    assert few  # and rates on a few policies
    header = page.model.headerData(
        _column(page, "renewal"), Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    assert "grace period" in header
    before = page.model.headerData(_column(page, "renewal_before"), Qt.Orientation.Horizontal)
    assert before.startswith("2026-07")
    assert "2026-08 compared with 2026-07" in page.status.text()


def test_choosing_a_month_and_a_team_reloads(qtbot, make_ctx):
    ctx = make_ctx("senior")
    _, page = _page(qtbot, ctx)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.month.setCurrentIndex(page.month.findText("2026-07"))
    assert page.card.month.label == "2026-07" and page.card.previous.label == "2026-06"
    team_id = page.team.itemData(1)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.team.setCurrentIndex(1)
    assert page.card.rows and {r.team_id for r in page.card.rows} == {team_id}


def test_a_supervisor_sees_their_team_and_exports_it(qtbot, make_ctx, tmp_path):
    ctx = make_ctx("supervisor")
    _, page = _page(qtbot, ctx)
    teams = set(ctx.user.team_scope() or ())
    assert {r.team_id for r in page.card.rows} <= teams
    out = tmp_path / "card.xlsx"
    page.export(str(out))
    qtbot.waitUntil(out.exists, timeout=10_000)
    names = load_workbook(out).sheetnames
    assert len(names) == 1 + len({r.team_id for r in page.card.rows})


def test_a_scorecard_export_waits_while_the_figures_update(qtbot, make_ctx, tmp_path):
    """Asked for while the persistency figures are being brought current after a large change
    (the window's job), the workbook is written once they are."""
    ctx = make_ctx("supervisor")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    page = window.show_page("scorecard")
    qtbot.waitUntil(lambda: bool(page.card and page.card.rows), timeout=10_000)
    out = tmp_path / "card.xlsx"
    window._set_updating(True)
    page.export(str(out))
    qtbot.wait(200)
    assert not out.exists()
    assert "as soon as they are current" in page.status.text()
    window._set_updating(False)
    qtbot.waitUntil(out.exists, timeout=10_000)
    assert load_workbook(out).sheetnames


def test_branch_settings_edit_the_standards_for_the_senior_supervisor_only(qtbot, make_ctx):
    ctx = make_ctx("senior")
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    dialog = window.open_branch_settings()
    assert [b.value() for b in dialog.standards.values()] == [90, 85, 80, 80]
    dialog.standards["tasks"].setValue(75)
    with qtbot.waitSignal(window.data_changed, timeout=2000):
        dialog.save()
    with ctx.Session() as s:
        assert s.get_one(Branch, ctx.user.branch_id).scorecard_tasks_pct == 75

    from app.views.branch_dialog import BranchDialog

    other = BranchDialog(make_ctx("supervisor"))
    qtbot.addWidget(other)
    assert not other.editable
    assert not any(b.isEnabled() for b in other.standards.values())
    assert other.standards["tasks"].value() == 75
