"""Task queues and reassignment, as supervisors use them."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select

from app.models import AssignmentEvent, Branch, Customer, Specialist, Task, Team
from app.models.enums import Role, TaskKind, TaskStatus
from app.services.errors import NotAllowed, StaleData
from app.services.people.auth import UserInfo
from app.services.tasks.queue import TaskFilter, reassign_tasks, task_ids, task_rows

AS_OF = date(2024, 6, 30)


@pytest.fixture
def branch(session):
    b = Branch(code="b", name="测试机构", city="成都")
    session.add(b)
    session.flush()
    t1 = Team(branch_id=b.id, code="T1", name="一队")
    t2 = Team(branch_id=b.id, code="T2", name="二队")
    session.add_all([t1, t2])
    session.flush()
    a = Specialist(branch_id=b.id, employee_no="E1", name="王芳", team_id=t1.id)
    c = Specialist(branch_id=b.id, employee_no="E2", name="李强", team_id=t1.id)
    d = Specialist(branch_id=b.id, employee_no="E3", name="赵敏", team_id=t2.id)
    session.add_all([a, c, d])
    session.flush()
    cust = Customer(branch_id=b.id, customer_no="C1", name="张三", address="x", specialist_id=a.id)
    session.add(cust)
    session.flush()
    created = datetime(2024, 6, 1, tzinfo=timezone.utc)
    tasks = [
        Task(
            task_no="T-1",
            kind=TaskKind.PRE_SELL,
            customer_id=cust.id,
            specialist_id=a.id,
            created_at=created,
            due_date=date(2024, 6, 8),
            status=TaskStatus.OPEN,
        ),
        Task(
            task_no="T-2",
            kind=TaskKind.RENEWAL_COLLECTION,
            customer_id=cust.id,
            specialist_id=a.id,
            created_at=created,
            due_date=date(2024, 7, 8),
            status=TaskStatus.OPEN,
        ),
        Task(
            task_no="T-3",
            kind=TaskKind.SERVICING,
            customer_id=cust.id,
            specialist_id=a.id,
            created_at=created,
            due_date=date(2024, 6, 10),
            status=TaskStatus.DONE,
            completed_at=datetime(2024, 6, 9, tzinfo=timezone.utc),
        ),
    ]
    session.add_all(tasks)
    session.commit()
    return {"branch": b, "teams": (t1, t2), "specialists": (a, c, d), "tasks": tasks}


def _user(branch, role, teams=()):
    return UserInfo(
        id=1,
        login="u",
        display_name="U",
        role=role,
        branch_id=branch["branch"].id,
        team_ids=frozenset(t.id for t in teams),
    )


def test_overdue_filter_finds_open_tasks_past_their_due_date(session, branch):
    ids = task_ids(session, TaskFilter(as_of=AS_OF, overdue_only=True))
    rows = task_rows(session, ids, as_of=AS_OF)
    assert [r.task_no for r in rows] == ["T-1"]
    assert rows[0].overdue


def test_filters_by_kind_status_and_search(session, branch):
    f = TaskFilter(as_of=AS_OF, kinds=frozenset({TaskKind.SERVICING}))
    assert [r.task_no for r in task_rows(session, task_ids(session, f), as_of=AS_OF)] == ["T-3"]
    f = TaskFilter(as_of=AS_OF, statuses=frozenset({TaskStatus.OPEN}), search="张三")
    assert len(task_ids(session, f)) == 2
    assert task_ids(session, TaskFilter(as_of=AS_OF, search="nobody")) == []


def test_sorting_by_due_date_descending(session, branch):
    ids = task_ids(session, TaskFilter(as_of=AS_OF), sort="due_date", descending=True)
    assert [r.task_no for r in task_rows(session, ids, as_of=AS_OF)] == ["T-2", "T-3", "T-1"]


def test_supervisor_reassigns_open_tasks_inside_own_team_and_history_records_it(session, branch):
    a, c, _ = branch["specialists"]
    t1 = branch["tasks"][0]
    user = _user(branch, Role.SUPERVISOR, [branch["teams"][0]])
    change = reassign_tasks(session, user=user, versions={t1.id: t1.version}, to_specialist_id=c.id)
    session.commit()
    assert change.task_ids == (t1.id,)
    session.expire_all()
    assert session.get(Task, t1.id).specialist_id == c.id
    event = session.scalars(select(AssignmentEvent)).one()
    assert (event.task_id, event.from_specialist_id, event.to_specialist_id, event.actor) == (
        t1.id,
        a.id,
        c.id,
        "u",
    )


def test_supervisor_cannot_move_tasks_to_another_team(session, branch):
    _, _, d = branch["specialists"]
    t1 = branch["tasks"][0]
    user = _user(branch, Role.SUPERVISOR, [branch["teams"][0]])
    with pytest.raises(NotAllowed):
        reassign_tasks(session, user=user, versions={t1.id: t1.version}, to_specialist_id=d.id)


def test_supervisor_cannot_take_an_unheld_task_of_another_teams_customer(session, branch):
    a, c, d = branch["specialists"]
    other = Customer(
        branch_id=branch["branch"].id,
        customer_no="C2",
        name="钱七",
        address="y",
        specialist_id=d.id,
    )
    session.add(other)
    session.flush()
    unheld = Task(
        task_no="T-9",
        kind=TaskKind.CALLBACK,
        customer_id=other.id,
        specialist_id=None,
        created_at=datetime(2024, 6, 1, tzinfo=timezone.utc),
        status=TaskStatus.OPEN,
    )
    session.add(unheld)
    session.commit()
    t1_supervisor = _user(branch, Role.SUPERVISOR, [branch["teams"][0]])
    with pytest.raises(NotAllowed, match="outside your team"):
        reassign_tasks(
            session, user=t1_supervisor, versions={unheld.id: unheld.version}, to_specialist_id=c.id
        )
    session.rollback()
    t2_supervisor = _user(branch, Role.SUPERVISOR, [branch["teams"][1]])
    reassign_tasks(
        session, user=t2_supervisor, versions={unheld.id: unheld.version}, to_specialist_id=d.id
    )
    session.commit()
    assert session.get(Task, unheld.id).specialist_id == d.id


def test_analyst_may_not_reassign(session, branch):
    t1 = branch["tasks"][0]
    with pytest.raises(NotAllowed):
        reassign_tasks(
            session,
            user=_user(branch, Role.ANALYST),
            versions={t1.id: t1.version},
            to_specialist_id=branch["specialists"][1].id,
        )


def test_done_tasks_stay_with_who_did_them(session, branch):
    done = branch["tasks"][2]
    with pytest.raises(NotAllowed):
        reassign_tasks(
            session,
            user=_user(branch, Role.SENIOR_SUPERVISOR),
            versions={done.id: done.version},
            to_specialist_id=branch["specialists"][1].id,
        )


def test_stale_version_is_refused_and_nothing_is_written(session, branch):
    t1, t2, _ = branch["tasks"]
    c = branch["specialists"][1]
    with pytest.raises(StaleData):
        reassign_tasks(
            session,
            user=_user(branch, Role.SENIOR_SUPERVISOR),
            versions={t1.id: t1.version, t2.id: t2.version + 7},
            to_specialist_id=c.id,
        )
    session.rollback()
    assert (
        session.scalars(select(Task.specialist_id).where(Task.id.in_([t1.id, t2.id]))).all()
        == [branch["specialists"][0].id] * 2
    )
    assert session.scalars(select(AssignmentEvent)).all() == []


def test_open_tasks_nobody_holds_are_counted_per_branch(session, branch):
    """The roster names the open tasks no specialist holds: open and overdue counted, done
    ones and other branches' left out."""
    from app.services.people.roster import unheld_tasks

    b = branch["branch"]
    none = unheld_tasks(session, branch_id=b.id, as_of=AS_OF)
    assert (none.open_tasks, none.overdue_tasks) == (0, 0)
    t1, t2, t3 = branch["tasks"]
    t1.specialist_id = t2.specialist_id = t3.specialist_id = None  # the grid lost its owner
    other = Branch(code="o", name="别的机构", city="成都")
    session.add(other)
    session.flush()
    elsewhere = Customer(branch_id=other.id, customer_no="O1", name="李四", address="y")
    session.add(elsewhere)
    session.flush()
    session.add(
        Task(
            task_no="T-9",
            kind=TaskKind.PRE_SELL,
            customer_id=elsewhere.id,
            created_at=datetime(2024, 6, 1, tzinfo=timezone.utc),
            due_date=date(2024, 6, 8),
            status=TaskStatus.OPEN,
        )
    )
    session.commit()
    got = unheld_tasks(session, branch_id=b.id, as_of=AS_OF)
    assert (got.open_tasks, got.overdue_tasks) == (2, 1)  # T-1 (overdue) and T-2; T-3 is done


def test_nobody_reassigns_into_or_out_of_another_branch(session, branch):
    other = Branch(code="b2", name="另一机构", city="重庆")
    session.add(other)
    session.flush()
    team = Team(branch_id=other.id, code="X1", name="外队")
    session.add(team)
    session.flush()
    stranger = Specialist(branch_id=other.id, employee_no="X9", name="外人", team_id=team.id)
    session.add(stranger)
    session.commit()
    t1 = branch["tasks"][0]
    senior = _user(branch, Role.SENIOR_SUPERVISOR)
    with pytest.raises(NotAllowed, match="another branch"):
        reassign_tasks(
            session, user=senior, versions={t1.id: t1.version}, to_specialist_id=stranger.id
        )


def test_a_reassignment_is_listed_in_the_history_and_undone_from_it(session, branch):
    from app.services.rebalance.apply import undo_batch
    from app.services.rebalance.batches import list_batches

    a, c, _ = branch["specialists"]
    t1 = branch["tasks"][0]
    user = _user(branch, Role.SUPERVISOR, [branch["teams"][0]])
    reassign_tasks(session, user=user, versions={t1.id: t1.version}, to_specialist_id=c.id)
    session.commit()
    (row,) = list_batches(session, branch_id=branch["branch"].id, team_scope=user.team_ids)
    assert (row.kind, row.tasks, row.actor) == ("reassign", 1, "u")
    undone = undo_batch(session, actor="u", team_scope=user.team_ids, batch_id=row.id)
    session.commit()
    assert undone.tasks_restored == 1
    session.expire_all()
    assert session.get(Task, t1.id).specialist_id == a.id
