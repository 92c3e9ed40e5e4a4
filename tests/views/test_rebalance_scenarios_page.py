"""Scenarios on the rebalance page, on the small demo branch: keep the plan under a name, list
the kept ones, compare two side by side (or one with today) with the grids whose owner differs
listed and drawn, show one on the page, and apply it only while it is still current."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select
from test_rebalance_page import _box, _confirm_apply, _owners, open_page  # noqa: F401

from app.models import Scenario


def _keep(qtbot, page, name):
    page.keep_plan(name)
    qtbot.waitUntil(lambda: f"Kept as scenario “{name}”." in page.summary.text(), timeout=10000)


def _scenarios(qtbot, page):
    """Open the page's list of scenarios, read afresh."""
    if page.scenarios_dialog is None:
        page.open_scenarios()
    with qtbot.waitSignal(page.scenarios_dialog.listed, timeout=10000):
        page.open_scenarios()
    return page.scenarios_dialog


def _keep_two(qtbot, page):
    """Keep the proposal at most 6 moves as "六步", then one at most 2 moves as "两步"."""
    six = page.plan()
    _keep(qtbot, page, "六步")
    page.max_moves.setValue(2)
    with qtbot.waitSignal(page.proposed, timeout=30000):
        page.propose()
    _keep(qtbot, page, "两步")
    return six, page.plan()


def test_kept_scenarios_are_listed_and_two_compare_side_by_side(
    open_page,  # noqa: F811
    qtbot,
    demo_db,
    qtmodeltester,
):
    _w, page = open_page()
    six, two = _keep_two(qtbot, page)
    with demo_db() as s:
        assert set(s.scalars(select(Scenario.name))) == {"六步", "两步"}
    dialog = _scenarios(qtbot, page)
    qtmodeltester.check(dialog.model)
    assert [r.name for r in dialog.model.rows()] == ["两步", "六步"]  # newest first
    assert {r.author for r in dialog.model.rows()} == {"senior"}
    dialog.select("两步")
    assert dialog.compare_button.text() == "Compare with today"
    dialog.select("六步", "两步")
    assert dialog.compare_button.text() == "Compare" and not dialog.show_button.isEnabled()
    with qtbot.waitSignal(dialog.compared, timeout=10000) as shown:
        dialog.compare_button.click()
    compare = shown.args[0]
    assert compare.isVisible()
    for model in (compare.left, compare.right, compare.grids, compare.figures):
        qtmodeltester.check(model)
    c = compare.comparison
    assert (c.left.name, c.right.name) == ("两步", "六步")  # in the list's order
    assert compare.left.rowCount() == compare.right.rowCount() == len(six.specialists)
    moved = {
        "两步": {m.grid_code: m.to_no for m in two.moves if m.kind == "grid"},
        "六步": {m.grid_code: m.to_no for m in six.moves if m.kind == "grid"},
    }
    differ = {
        g
        for g in set(moved["两步"]) | set(moved["六步"])
        if moved["两步"].get(g) != moved["六步"].get(g)
    }
    assert differ and {d.grid_code for d in c.grids} == differ
    assert compare.grids.rowCount() == len(differ)
    figures = {r.what: (r.left, r.right) for r in compare.figures.rows()}
    assert figures["Customers moved"] == (
        f"{two.customers_moved:,}",
        f"{six.customers_moved:,}",
    )
    assert figures["SMS"] == figures["Customers moved"]
    # The map draws the differing grids under their own legend.
    assert {m.grid_code for m in compare.map._moves} == differ


def test_a_scenario_against_today_and_shown_on_the_page_applies_only_while_current(
    open_page,  # noqa: F811
    qtbot,
    demo_db,
):
    w, page = open_page()
    six, _two = _keep_two(qtbot, page)
    dialog = _scenarios(qtbot, page)
    dialog.select("六步")
    with qtbot.waitSignal(dialog.compared, timeout=10000) as shown:
        dialog.compare_selected()
    today = shown.args[0].comparison
    assert today.right.name == "today" and today.right.moves == 0
    assert shown.args[0].windowTitle() == "Compare 六步 and Today"
    assert {d.grid_code for d in today.grids} == {
        m.grid_code for m in six.moves if m.kind == "grid"
    }

    dialog.select("六步")
    with qtbot.waitSignal(page.proposed, timeout=10000):
        dialog.show_selected()

    def moves(plan):
        return [(m.grid_code, m.customer_no, m.from_no, m.to_no) for m in plan.moves]

    assert moves(page.plan()) == moves(six)
    _confirm_apply(qtbot, w, page)
    owners = _owners(demo_db)
    # Applied once: the same scenario is now overtaken, and refused naming its moves.
    _scenarios(qtbot, page).select("六步")
    with qtbot.waitSignal(page.proposed, timeout=10000):
        page.scenarios_dialog.show_selected()
    page.apply()
    _box(qtbot, page).button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(lambda: "nothing was written" in _box(qtbot, page).text())
    text = _box(qtbot, page).text()
    first = next(m for m in six.moves if m.kind == "grid")
    assert f"grid {first.grid_code} was reassigned" in text
    assert _owners(demo_db) == owners


@pytest.mark.slow  # over 10 s
def test_a_supervisor_sees_only_their_teams_scenarios_and_an_analyst_keeps_none(
    open_page,  # noqa: F811
    qtbot,
):
    _w, page = open_page()
    _keep(qtbot, page, "全分公司")
    _w2, sup_page = open_page("supervisor")
    _keep(qtbot, sup_page, "本队")
    dialog = _scenarios(qtbot, sup_page)
    assert [r.name for r in dialog.model.rows()] == ["本队"]
    assert dialog.model.rows()[0].team_code is not None
    _w3, analyst_page = open_page("analyst")
    assert not analyst_page.keep_button.isEnabled()
    assert [r.name for r in _scenarios(qtbot, analyst_page).model.rows()] == ["本队", "全分公司"]
    assert not analyst_page.scenarios_dialog.delete_button.isEnabled()


def test_a_kept_scenario_is_renamed_and_a_taken_name_refused(open_page, qtbot, demo_db):  # noqa: F811
    _w, page = open_page()
    _keep_two(qtbot, page)
    dialog = _scenarios(qtbot, page)
    dialog.select("两步")
    assert dialog.rename_button.isEnabled()
    with qtbot.waitSignal(dialog.listed, timeout=10000):
        dialog.rename_selected("  二月  两步 ")
    assert dialog.selected_names() == ["二月 两步"]  # tidied, and still selected
    with demo_db() as s:
        assert set(s.scalars(select(Scenario.name))) == {"六步", "二月 两步"}
    dialog.rename_selected("六步")
    box = _box(qtbot, dialog)
    assert "exists already" in box.text()
    with demo_db() as s:
        assert set(s.scalars(select(Scenario.name))) == {"六步", "二月 两步"}


def test_a_scenario_named_with_a_placeholder_keeps_its_name_in_the_titles(
    open_page,  # noqa: F811
    qtbot,
):
    """A supervisor may type "%2" into a scenario's name: the texts that show the name keep it
    as typed rather than filling it with the next value."""
    _w, page = open_page()
    _keep(qtbot, page, "试 %2 方案")
    dialog = _scenarios(qtbot, page)
    dialog.select("试 %2 方案")
    with qtbot.waitSignal(dialog.compared, timeout=10000) as shown:
        dialog.compare_selected()
    assert shown.args[0].windowTitle() == "Compare 试 %2 方案 and Today"
