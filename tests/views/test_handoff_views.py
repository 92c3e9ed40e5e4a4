"""The hand-off clock on screen, offscreen on the demo branch: Tasks ▸ Hand-offs late lists the
customers the service finds late, oldest first, in the scope chosen; the roster's "first
contact on time" column is the service's share for each specialist."""

from __future__ import annotations

from datetime import timedelta

from app.services.metrics.handoff import late_handoffs, on_time_shares


def _shown(view) -> list:
    proxy = view.proxy
    return [proxy.sourceModel().row_at(proxy.mapToSource(proxy.index(i, 0)).row())
            for i in range(proxy.rowCount())]  # fmt: skip


def test_hand_offs_late_lists_what_the_service_finds_oldest_first(qtbot, open_window):
    w = open_window("senior")
    page = w.show_page("tasks")
    page.show_late_handoffs()
    assert page.lists.currentWidget() is page.late and not page.kind.isVisible()
    with w.ctx.Session() as s:
        expected = late_handoffs(s, as_of=w.ctx.as_of, branch_id=w.ctx.user.branch_id)
    assert expected, "the demo branch has customers late on a hand-off"
    qtbot.waitUntil(lambda: page.late.model.rowCount() == len(expected), timeout=10000)
    shown = _shown(page.late)
    assert [r.customer_id for r in shown] == [r.customer_id for r in expected]
    assert [r.entered_on for r in shown] == sorted(r.entered_on for r in shown)
    assert f"{len(expected):,} customers late" in page.late.count.text()

    # Late on first contact only.
    page.late.milestone.setCurrentIndex(page.late.milestone.findData("contact"))
    assert {r.customer_id for r in _shown(page.late)} == {
        r.customer_id for r in expected if "contact" in r.missed
    }

    # Only those who entered the pool in the last 90 days (the as-of day is the 90th).
    page.late.milestone.setCurrentIndex(0)
    page.late.entered.setCurrentIndex(page.late.entered.findData(90))
    first = w.ctx.as_of - timedelta(days=89)
    assert {r.customer_id for r in _shown(page.late)} == {
        r.customer_id for r in expected if r.entered_on >= first
    }
    page.late.entered.setCurrentIndex(0)

    # One specialist's customers, from the page's scope.
    sid = next(r.specialist_id for r in expected if r.specialist_id is not None)
    scope = page.scope  # findData compares Python objects by identity: compare by value
    scope.setCurrentIndex(
        next(i for i in range(scope.count()) if scope.itemData(i) == ("specialist", sid))
    )
    qtbot.waitUntil(
        lambda: all(r.specialist_id == sid for r in page.late.model.rows()), timeout=10000
    )
    assert page.late.model.rowCount() == sum(1 for r in expected if r.specialist_id == sid)

    # Back to the tasks.
    page.view_tasks.setChecked(True)
    assert page.lists.currentIndex() == 0 and page.kind.isVisible()


def test_a_supervisor_sees_only_their_teams_late_customers(qtbot, open_window):
    w = open_window("supervisor")
    page = w.show_page("tasks")
    page.show_late_handoffs()
    team_ids = w.ctx.user.team_scope()
    with w.ctx.Session() as s:
        expected = late_handoffs(
            s, as_of=w.ctx.as_of, branch_id=w.ctx.user.branch_id, team_ids=team_ids
        )
    qtbot.waitUntil(lambda: page.late.model.rowCount() == len(expected), timeout=10000)
    assert {r.team_id for r in page.late.model.rows()} <= set(team_ids)


def test_the_roster_shows_each_specialists_first_contact_share_on_time(qtbot, open_window):
    w = open_window("senior")
    page = w.show_page("roster")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10000)
    with w.ctx.Session() as s:
        shares = on_time_shares(
            s, as_of=w.ctx.as_of, branch_id=w.ctx.user.branch_id, milestones=["contact"]
        )
    keys = [c.key for c in page.model.columns]
    column = keys.index("contact_on_time")
    checked = 0
    for i in range(page.model.rowCount()):
        row = page.model.row_at(i)
        share = shares.get((row.specialist_id, "contact"))
        cell = page.model.index(i, column)
        if share is None or share.share is None:
            assert cell.data() == "—"
            continue
        assert cell.data() == f"{float(share.share) * 100:.1f}%"
        assert f"{share.on_time} of {share.decided} customers" in cell.data(3)  # tooltip
        checked += 1
    assert checked > 0
