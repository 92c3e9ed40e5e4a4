"""The task queue page: the first page shows as soon as it is read, the count of matches after
it, and scrolling reads the next page from where the last one ended."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import Specialist, Task
from app.models.enums import OPEN_TASK_STATUSES
from app.services.tasks import queue as task_service
from app.views.tasks_page import TasksPage


def _page(qtbot, make_ctx, login="senior"):
    page = TasksPage(make_ctx(login))
    qtbot.addWidget(page)
    page.resize(1200, 600)
    page.show()
    return page


def test_first_rows_show_before_the_count_which_follows(qtbot, make_ctx, demo_db, monkeypatch):
    seen = []
    counting = task_service.count_tasks

    def count(session, f):
        seen.append((page.model.rowCount(), page.count.text()))  # what the user saw meanwhile
        return counting(session, f)

    monkeypatch.setattr(task_service, "count_tasks", count)
    page = _page(qtbot, make_ctx)
    page.activate()
    qtbot.waitUntil(lambda: page.count.text().endswith(" tasks"), timeout=10000)
    assert seen and seen[0][0] > 0 and seen[0][1] == "counting…"
    with demo_db() as s:
        want = s.scalar(
            select(func.count()).select_from(Task).where(Task.status.in_(OPEN_TASK_STATUSES))
        )
    assert page.count.text() == f"{want:,} tasks"


def test_scrolling_reads_the_next_pages_in_order_without_gaps(qtbot, make_ctx, demo_db):
    page = _page(qtbot, make_ctx)
    page.activate()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10000)
    first = page.model.rowCount()
    assert page.model.canFetchMore()
    page.table.scrollToBottom()  # the view asks the model for more, as a user scrolling does
    qtbot.waitUntil(lambda: page.model.rowCount() > first, timeout=10000)
    while page.model.canFetchMore():
        page.model.fetchMore()
    ids = page.model.ids()
    with demo_db() as s:
        f = page.current_filter()
        assert ids == task_service.task_ids(s, f, sort="due_date")
    # The count follows the first page by design: wait for it rather than race it.
    qtbot.waitUntil(lambda: page.count.text().endswith(" tasks"), timeout=10000)
    assert page.count.text() == f"{len(ids):,} tasks"


def test_a_team_supervisor_pages_only_through_their_team(qtbot, make_ctx, demo_db):
    page = _page(qtbot, make_ctx, "supervisor")
    page.activate()
    qtbot.waitUntil(lambda: page.count.text().endswith(" tasks"), timeout=10000)
    while page.model.canFetchMore():
        page.model.fetchMore()
    teams = page.ctx.user.team_scope()
    assert teams
    with demo_db() as s:
        holders = {
            r.specialist_id for r in (page.model.row_at(i) for i in range(page.model.rowCount()))
        }
        assert set(s.scalars(select(Specialist.team_id).where(Specialist.id.in_(holders)))) <= teams
    assert page.count.text() == f"{page.model.rowCount():,} tasks"
