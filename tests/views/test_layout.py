"""Every table on every page, and in the dialogs that hold tables, shows its values whole: on a
1366×768 laptop and a 1920×1080 screen, in Chinese and in English, once the page has loaded
the demo branch, and no page makes the window larger than the screen. Measured as Qt draws
them (tests/views/layout.py), not guessed."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QApplication, QTabWidget

from app.views.i18n import install_translators
from app.views.main_window import MainWindow
from app.views.rebalance_models import TO
from tests.views.layout import combo_cuts, layout_cuts

SIZES = {"laptop": (1366, 768), "desktop": (1920, 1080)}


@pytest.fixture
def cjk_font(qapp):
    """The CJK font the app installs at start-up (the demo's names are Chinese, whatever the
    language); the application's font is put back afterwards."""
    from app.views import fonts

    before, family = QApplication.font(), fonts._family
    fonts.install_cjk_font()
    # The system's font, the CJK face as its fallback, as on a user's desktop (the first call
    # also makes the CJK face the application's font, a later one not).
    QApplication.setFont(before)
    yield
    fonts._family = family


@pytest.fixture
def language(qapp, request):
    translators = install_translators(qapp, request.param)
    yield request.param
    for t in translators:
        qapp.removeTranslator(t)
    install_translators(qapp, "en")  # the tests' language, whatever ran before


def _settle(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: not w.ctx.runner._running, timeout=60000)
    qtbot.wait(30)


def prepare(ctx) -> None:
    """Give every table something to show: an intake run (its tasks have the longest numbers)
    and a few addresses marked outside coverage, one with a note."""
    from app.services.intake.coverage import mark_outside_coverage
    from app.services.intake.intake import intake_agent
    from app.services.intake.unmatched import unmatched_queue
    from app.services.people import org

    user = ctx.user
    with ctx.Session() as s, s.begin():
        agents = org.departed_agents(s, branch_id=user.branch_id)
        agent = next(a for a in agents if a.waiting > 0)
        intake_agent(s, agent_code=agent.agent_code, actor=user.login, user=user)
    with ctx.Session() as s, s.begin():
        bare = [r.customer_id for r in unmatched_queue(s, user.branch_id)]
        kw = {"actor": user.login, "user": user}
        mark_outside_coverage(s, customer_ids=bare[:3], reason="no_grid_district", **kw)
        mark_outside_coverage(
            s, customer_ids=bare[3:5], reason="incomplete", note="门牌号缺失，待专员上门核实", **kw
        )


# Columns that may cut a long value, the whole of it in the cell's tooltip: table's object
# name -> column keys. A task's outcome is a specialist's free text, as long as they wrote it:
# the last column, it takes the room the others leave.
ELIDABLE = {"tasks_table": {"outcome"}}


def walk(qtbot, w: MainWindow, size: tuple[int, int], *, dialogs: bool = True) -> list[str]:
    """Show every page (each tab and view of it) and every dialog holding tables (unless not
    ``dialogs``); return what is cut."""
    found: list[str] = []

    def check(widget, where: str) -> None:
        """Check ``widget`` and its window, then each other tab of its tab widgets."""
        _settle(qtbot, w)
        window = widget.window()
        if window.width() > size[0] or window.height() > size[1]:
            found.append(
                f"{where}: the window is {window.width()}×{window.height()} px, larger than "
                f"the {size[0]}×{size[1]} screen (at least {window.minimumSizeHint().width()}"
                f"×{window.minimumSizeHint().height()})"
            )
        found.extend(layout_cuts(widget, where, elidable=ELIDABLE))
        for tabs in widget.findChildren(QTabWidget):
            if not tabs.isVisible():
                continue
            for i in range(1, tabs.count()):
                tabs.setCurrentIndex(i)
                _settle(qtbot, w)
                found.extend(
                    layout_cuts(
                        tabs.widget(i), f"{where}/{tabs.objectName()}[{i}]", elidable=ELIDABLE
                    )
                )
            tabs.setCurrentIndex(0)

    for key in w.pages:
        page = w.show_page(key)
        _settle(qtbot, w)
        if key == "rebalance":
            page.max_moves.setValue(12)
            with qtbot.waitSignal(page.proposed, timeout=60000):
                page.propose()
        check(page, key)
        if key == "rebalance":
            found.extend(redirect_a_move(qtbot, page.moves_table, page.moves, key))
            check(page, f"{key}/redirected")
        if key == "tasks":
            page.search.setText("IN-")  # the tasks an intake made
            page.reload()
            check(page, f"{key}/intake")
            page.search.clear()
            page.status.setCurrentIndex(page.status.findData("all"))  # done ones: outcomes
            check(page, f"{key}/any")
            page.status.setCurrentIndex(0)
            page.show_late_handoffs()
            check(page, f"{key}/late")
            page.view_tasks.setChecked(True)
    if dialogs:
        walk_dialogs(qtbot, w, size, check, found)
    return found


def redirect_a_move(qtbot, table, moves, where: str) -> list[str]:
    """Give the first move to another colleague, the one with the longest name offered, in its
    "To" editor; return what the editor cuts of the names it offers."""
    index = moves.index(0, TO)
    table.openPersistentEditor(index)
    editor = table.indexWidget(index)
    cuts = [str(cut) for cut in combo_cuts(editor, f"{where}/{table.objectName()}/To")]
    if not table.viewport().rect().contains(editor.geometry()):
        cuts.append(f"{where}/{table.objectName()}/To: the editor reaches past the table")
    others = [i for i in range(editor.count()) if i != editor.currentIndex()]
    longest = max(others, key=lambda i: len(editor.itemText(i)))  # and marked as edited
    editor.setCurrentIndex(longest)
    table.itemDelegateForIndex(index).setModelData(editor, moves, index)
    table.closePersistentEditor(index)
    qtbot.wait(30)
    return cuts


def walk_dialogs(qtbot, w: MainWindow, size: tuple[int, int], check, found: list[str]) -> None:
    from app.views.specialist_dialog import SpecialistDialog

    def close(dialog) -> None:
        dialog.close()
        _settle(qtbot, w)

    dialog = w.open_history()
    check(dialog, "history")
    close(dialog)
    dialog = w.open_users()
    check(dialog, "users")
    close(dialog)

    roster = w.pages["roster"]
    row = max(
        (r for r in roster.model.rows() if r.grid_codes and r.status.value == "active"),
        key=lambda r: r.customers,
    )
    roster.open_specialist(row.specialist_id)
    (dialog,) = roster.findChildren(SpecialistDialog)
    check(dialog, "specialist")
    close(dialog)
    dialog = roster.open_leaving(row.specialist_id)
    qtbot.waitUntil(lambda: dialog.plan() is not None, timeout=60000)
    check(dialog, "leaving")
    found.extend(redirect_a_move(qtbot, dialog.moves_table, dialog.moves, "leaving"))
    check(dialog, "leaving/redirected")
    close(dialog)

    page = w.pages["rebalance"]
    page.keep_plan("A")
    _settle(qtbot, w)
    page.choose_point(0)  # the best balance: another plan
    page.keep_plan("B")
    _settle(qtbot, w)
    dialog = page.open_scenarios()
    check(dialog, "scenarios")
    dialog.select("A", "B")
    with qtbot.waitSignal(dialog.compared, timeout=60000):
        dialog.compare_selected()
    check(dialog.compare_dialog, "scenarios/compare")
    close(dialog.compare_dialog)
    close(dialog)
    dialog = page.open_scheduled()
    check(dialog, "scheduled")
    close(dialog)


@pytest.mark.slow
@pytest.mark.parametrize("language", ["zh_CN", "en"], indirect=True)
@pytest.mark.parametrize("size", list(SIZES))
def test_every_table_shows_its_values_whole(qtbot, make_ctx, cjk_font, language, size, monkeypatch):
    # Dialogs size themselves to the screen's free area: that of the screen walked, less a
    # taskbar (the test's own screen is another size).
    width, height = SIZES[size]
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _s: QRect(0, 0, width, height - 40))
    ctx = make_ctx("senior")
    prepare(ctx)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(*SIZES[size])
    w.show()
    found = walk(qtbot, w, SIZES[size])
    assert found == [], "\n".join(found)


@pytest.mark.slow
@pytest.mark.parametrize("language", ["zh_CN", "en"], indirect=True)
@pytest.mark.parametrize("login", ["supervisor", "analyst"])
def test_every_page_shows_its_values_whole_to_the_other_roles(
    qtbot, make_ctx, cjk_font, language, login
):
    """A team's supervisor and an analyst see other pages (their team only, masked phones, a
    note instead of the intake's queues): walked on a laptop, the pages alone."""
    prepare(make_ctx("senior"))  # the same data: an intake run, addresses marked outside
    w = MainWindow(make_ctx(login))
    qtbot.addWidget(w)
    w.resize(*SIZES["laptop"])
    w.show()
    found = walk(qtbot, w, SIZES["laptop"], dialogs=False)
    assert found == [], "\n".join(found)


def test_the_departed_agents_counts_stay_beside_their_names(qtbot, make_ctx):
    """On a wide screen no column of the departed agents is stretched: the name was, across
    the table, with the counts pushed to its far edge."""
    from app.views.layout import fitted_width

    w = MainWindow(make_ctx("senior"))
    qtbot.addWidget(w)
    w.resize(*SIZES["desktop"])
    w.show()
    page = w.show_page("intake")
    _settle(qtbot, w)
    table = page.agent_table
    assert page.agents.rowCount() > 0
    widths = [table.columnWidth(c) for c in range(page.agents.columnCount())]
    assert widths == [fitted_width(table, c) for c in range(page.agents.columnCount())]
