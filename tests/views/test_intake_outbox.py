"""The SMS outbox buttons of the intake page: export for the gateway, import its results."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pytest
from conftest import AS_OF
from PySide6.QtWidgets import QMessageBox
from shapely.geometry import shape
from sqlalchemy import exists, func, select, update

from app.models import Customer, DepartedAgent, Grid, Notification, Policy
from app.models.enums import NotificationStatus, PolicyStatus
from app.views.main_window import MainWindow


@pytest.fixture
def page(qtbot, make_ctx):
    def open_as(login: str = "senior", *, read_only: bool = False):
        ctx = make_ctx(login)
        ctx.read_only = read_only
        w = MainWindow(ctx)
        qtbot.addWidget(w)
        w.show()
        p = w.show_page("intake")
        qtbot.waitUntil(lambda: bool(p.outbox_count.text()), timeout=10000)
        return p

    return open_as


def _message(qtbot, widget) -> str:
    """Return the text of the newest message box shown over ``widget``, and close it."""

    def shown():
        return [b for b in widget.findChildren(QMessageBox) if b.isVisible()]

    qtbot.waitUntil(lambda: bool(shown()), timeout=10000)
    box = shown()[-1]
    text = box.text()
    box.close()
    return text


def _statuses(demo_db):
    with demo_db() as s:
        return dict(
            s.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
        )


def test_export_writes_the_gateway_csv(qtbot, page, tmp_path, demo_db):
    p = page()
    out = tmp_path / "outbox.csv"
    p.export_outbox(str(out))
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["message_id", "phone", "content", "template", "created_at"]
    after = _statuses(demo_db)
    written = len(rows) - 1
    assert written > 0 and str(written) in _message(qtbot, p)
    # What was written has left GridDesk: handed to the gateway, not sent twice.
    assert after.get(NotificationStatus.EXPORTED, 0) == written


def test_gateway_results_mark_messages_and_a_bad_file_changes_nothing(
    qtbot, page, tmp_path, demo_db
):
    p = page()
    out = tmp_path / "outbox.csv"
    p.export_outbox(str(out))
    _message(qtbot, p)
    with out.open(encoding="utf-8-sig", newline="") as f:
        ids = [r["message_id"] for r in csv.DictReader(f)][:3]
    before = _statuses(demo_db)

    bad = tmp_path / "bad.csv"
    bad.write_text(f"message_id,status\n{ids[0]},sent\n{ids[1]},maybe\n", encoding="utf-8")
    p.import_outbox_results(str(bad))
    text = _message(qtbot, p)
    assert "bad.csv" in text and "row 3" in text and "status" in text
    assert _statuses(demo_db) == before

    good = tmp_path / "results.csv"
    good.write_text(
        f"message_id,status,error\n{ids[0]},sent,\n{ids[1]},sent,\n{ids[2]},failed,no signal\n",
        encoding="utf-8",
    )
    p.import_outbox_results(str(good))
    text = _message(qtbot, p)
    assert "results.csv" in text and "2" in text
    after = _statuses(demo_db)
    assert after.get(NotificationStatus.SENT, 0) == before.get(NotificationStatus.SENT, 0) + 2
    assert after.get(NotificationStatus.FAILED, 0) == before.get(NotificationStatus.FAILED, 0) + 1


def test_outbox_buttons_follow_role_and_read_only(page):
    assert not page("supervisor").export_button.isVisibleTo(page("supervisor"))
    snapshot = page("senior", read_only=True)
    assert snapshot.export_button.isVisibleTo(snapshot)
    assert not snapshot.export_button.isEnabled() and not snapshot.import_button.isEnabled()


def test_intake_runs_only_for_an_agent_with_customers_waiting(page):
    from app.views.table_models import ROW_ROLE

    page = page("senior")
    model = page.agent_table.model()
    waiting = [model.index(r, 0).data(ROW_ROLE).waiting for r in range(model.rowCount())]
    # The demo's agent who left today comes first, with customers to take in.
    assert waiting[0] > 0 and waiting == sorted(waiting, key=lambda n: n == 0)
    assert not page.run_button.isEnabled()  # nothing selected
    for row, n in enumerate(waiting):
        page.agent_table.selectRow(row)
        assert page.run_button.isEnabled() == (n > 0)


def _give_the_waiting_agent_both_cases(demo_db) -> None:
    """Of the customers of the demo's agent who left today, let one hold no policy in force any
    more (surrendered last week) and another live in a grid nobody owns (a point inside it)."""
    in_force = exists().where(
        Policy.customer_id == Customer.id, Policy.status == PolicyStatus.IN_FORCE
    )
    with demo_db() as s, s.begin():
        agent_id = s.scalar(select(DepartedAgent.id).where(DepartedAgent.left_on == AS_OF))
        theirs = select(Customer).where(Customer.agent_id == agent_id).order_by(Customer.id)
        # The first one's address matches no grid (the queue's case): leave it as it is.
        unmatched = s.scalars(theirs.limit(1)).one()
        lapsed, uncovered = s.scalars(
            theirs.where(in_force, Customer.id != unmatched.id).limit(2)
        ).all()
        s.execute(
            update(Policy)
            .where(Policy.customer_id == lapsed.id)
            .values(status=PolicyStatus.SURRENDERED, status_date=AS_OF - timedelta(days=7))
        )
        gap = s.scalars(select(Grid).where(Grid.owner_id.is_(None)).order_by(Grid.code)).first()
        assert gap is not None, "the demo leaves grids without an owner"
        inside = shape(json.loads(gap.geometry)).representative_point()
        uncovered.lon, uncovered.lat = inside.x, inside.y


def test_intake_asks_first_and_reports_customers_left_without_a_specialist(page, qtbot, demo_db):
    from app.views.table_models import ROW_ROLE

    _give_the_waiting_agent_both_cases(demo_db)
    page = page("senior")
    page.agent_table.selectRow(0)
    agent = page.agent_table.model().index(0, 0).data(ROW_ROLE)

    def in_pool() -> int:
        with demo_db() as s:
            return s.scalar(
                select(func.count())
                .select_from(Customer)
                .where(Customer.pool_entered_on.is_not(None))
            )

    def question() -> QMessageBox:
        page.run_intake()
        qtbot.waitUntil(
            lambda: any(b.isVisible() for b in page.findChildren(QMessageBox)), timeout=10000
        )
        return [b for b in page.findChildren(QMessageBox) if b.isVisible()][-1]

    before = in_pool()
    box = question()
    assert f"{agent.waiting:,}" in box.text() and agent.agent_code in box.text()
    # The agent also has a customer with no policy in force: the question says so.
    assert agent.no_policy_in_force > 0
    assert agent.customers == agent.in_pool + agent.waiting + agent.no_policy_in_force
    assert f"{agent.no_policy_in_force:,}" in box.text().split("\n\n")[-1]
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(200)
    assert in_pool() == before  # cancelled: nothing ran
    box = question()
    with (
        qtbot.waitSignal(page.intake_ran, timeout=30000) as done,
        qtbot.waitSignal(page.changed, timeout=30000) as changed,
    ):
        box.button(QMessageBox.StandardButton.Yes).click()
    result = done.args[0]
    # Every page hears which customers entered.
    assert changed.args[0].customers == frozenset(result.customer_ids)
    text = _message(qtbot, page)
    assert in_pool() == before + result.customers_entered > before
    assert f"{result.sms_queued:,}" in text
    # The agent has a customer in a grid nobody owns: the report says so.
    assert result.without_specialist > 0
    assert f"{result.without_specialist:,}" in text.split("\n\n")[1]
    assert result.no_policy_in_force == agent.no_policy_in_force
    assert f"{result.no_policy_in_force:,}" in text.split("\n\n")[2]
    # The queue shows the first of this intake's customers whose address matched no grid.
    assert result.unmatched > 0
    qtbot.waitUntil(lambda: page.selected_customer() is not None, timeout=10000)
    assert page.selected_customer().customer_id in result.customer_ids


def test_a_customer_with_no_suggested_grid_is_filed_only_into_a_grid_chosen(page):
    """Nothing is preselected for an address that matched no grid at all: the button waits
    until the supervisor picks one, so one click cannot file the customer in the first grid of
    the list."""
    from app.views.table_models import ROW_ROLE

    page = page("senior")
    rows = [page.queue.index(r, 0).data(ROW_ROLE) for r in range(page.queue.rowCount())]
    bare = [i for i, r in enumerate(rows) if not r.suggestions]
    assert bare  # the demo has such addresses
    page.queue_table.selectRow(bare[0])
    assert page.grid.currentData() is None and not page.assign_button.isEnabled()
    page.grid.setCurrentIndex(1)
    assert page.grid.currentData() is not None and page.assign_button.isEnabled()
    # Half-typed text over that choice is not a choice: the button waits again.
    page.grid.setEditText("CH0")
    assert not page.assign_button.isEnabled()
    page.grid.setCurrentIndex(2)
    assert page.assign_button.isEnabled()
    hinted = [i for i, r in enumerate(rows) if r.suggestions]
    if hinted:  # a suggested grid is preselected and may be taken at once
        page.queue_table.selectRow(hinted[0])
        assert page.grid.currentData() == rows[hinted[0]].suggestions[0].grid_id
        assert page.assign_button.isEnabled()


def test_a_supervisor_is_told_why_the_page_is_read_only_and_who_can(qtbot, page):
    p = page("supervisor")
    note = p.role_note.text()
    assert p.role_note.isVisibleTo(p)
    assert "资深主管" in note or "senior supervisor" in note
    qtbot.waitUntil(lambda: p.agents.rowCount() > 0, timeout=10000)
    assert p.queue.rowCount() == 0  # unmatched customers are in no team of theirs


def test_a_senior_supervisor_sees_no_role_note(page):
    p = page("senior")
    assert not p.role_note.isVisibleTo(p)
