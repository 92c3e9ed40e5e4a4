"""A specialist leaves: the handover plan, and editing a plan before applying it.

Uses the six-grid city of test_rebalance.py: 王芳 (E1, T1) owns CD-01..03, 李强 (E2, T1)
CD-04..05, 赵敏 (E3, T2) CD-06; C03 in CD-01 is locked.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update
from test_rebalance import (  # noqa: F401 - fixtures
    AS_OF,
    apply_as_team_supervisor,
    city,
    persistency_ready,
    snapshot,
)

from app.models import AssignmentEvent, Customer, Grid, Specialist
from app.models.enums import SpecialistStatus
from app.services.leaving.handover import make_handover_plan
from app.services.rebalance.apply import apply_plan, undo_batch
from app.services.rebalance.editing import (
    allowed_targets,
    describe_counts,
    edit_plan,
    workload_changes,
)
from app.services.rebalance.make import make_plan
from app.services.rebalance.plan import PlanError


def test_handover_gives_every_unlocked_grid_to_the_team_and_reports_what_stays(session, city):  # noqa: F811
    h = make_handover_plan(
        session, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]], time_limit_s=0.5
    )
    assert h.leaver_no == "E1"
    assert {m.grid_code for m in h.plan.moves} == {"CD-01", "CD-02", "CD-03"}
    assert {(m.from_no, m.to_no, m.kind) for m in h.plan.moves} == {("E1", "E2", "grid")}
    assert h.left_behind.locked_customers == 1  # C03
    assert h.left_behind.locked_grids == ()
    after = {w.employee_no: w for w in workload_changes(h.plan)}
    assert after["E1"].customers_after == 1
    assert after["E2"].customers_after == 2 + 8


def test_handover_widened_to_the_branch_balances_across_teams(session, city):  # noqa: F811
    h = make_handover_plan(
        session, specialist_id=city["E1"], as_of=AS_OF, team_ids=None, time_limit_s=0.5
    )
    targets = {m.to_no for m in h.plan.moves}
    assert "E1" not in targets and targets <= {"E2", "E3"}
    assert h.plan.scope == ()
    assert len(h.plan.moves) == 3


def test_handover_of_someone_on_leave_and_of_a_locked_grid(Session, city):  # noqa: F811, N803
    with Session() as s, s.begin():
        s.execute(
            update(Specialist)
            .where(Specialist.id == city["E2"])
            .values(status=SpecialistStatus.LEAVE)
        )
        s.execute(update(Grid).where(Grid.id == city["CD-05"]).values(locked=True))
    with Session() as s:
        h = make_handover_plan(s, specialist_id=city["E2"], as_of=AS_OF, team_ids=[city["T1"]])
    assert [(m.grid_code, m.to_no) for m in h.plan.moves] == [("CD-04", "E1")]
    assert h.left_behind.locked_grids == ("CD-05",)
    assert h.left_behind.customers_in_locked_grids == 1


def test_handover_with_nobody_to_take_over_is_refused(session, city):  # noqa: F811
    with pytest.raises(PlanError, match="no other active specialist"):
        make_handover_plan(session, specialist_id=city["E3"], as_of=AS_OF, team_ids=[city["T2"]])


def test_applying_a_handover_moves_everything_and_undo_restores_it(Session, city):  # noqa: F811, N803
    with Session() as s:
        before = snapshot(s)
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
    result = apply_as_team_supervisor(Session, city, h.plan)
    assert (result.grids_moved, result.customers_moved, result.tasks_moved) == (3, 8, 2)
    with Session() as s:
        now = snapshot(s)
        assert {now["grids"][c] for c in ("CD-01", "CD-02", "CD-03")} == {city["E2"]}
        assert now["customers"]["C03"] == city["E1"]  # locked: stays
        left = s.scalars(select(Customer.customer_no).where(Customer.specialist_id == city["E1"]))
        assert list(left) == ["C03"]
    with Session() as s, s.begin():
        undo_batch(s, actor="sup", team_scope={city["T1"]}, batch_id=result.batch_id)
    with Session() as s:
        assert snapshot(s) == before


def test_editing_a_plan_drops_and_retargets_moves_and_recomputes_loads(session, city):  # noqa: F811
    plan = make_plan(session, branch_id=city["branch"], as_of=AS_OF, time_limit_s=0.5)
    assert plan.moves
    first = plan.moves[0]
    dropped = edit_plan(plan, dropped={0})
    assert len(dropped.moves) == len(plan.moves) - 1
    loads = dropped.loads_after()
    assert loads[first.from_no] == pytest.approx(plan.loads_after()[first.from_no] + first.load)
    others = allowed_targets(plan, 0, may_cross_teams=True)
    assert first.from_no not in {s.employee_no for s in others}
    other = next(s.employee_no for s in others if s.employee_no != first.to_no)
    moved = edit_plan(plan, targets={0: other})
    assert moved.moves[0].to_no == other
    assert moved.loads_after()[other] == pytest.approx(plan.loads_after()[other] + first.load)
    # Dropping wins over a new target; the same target changes nothing.
    assert edit_plan(plan, dropped={0}, targets={0: other}).moves == dropped.moves
    assert edit_plan(plan, targets={0: first.to_no}) == plan
    with pytest.raises(PlanError):
        edit_plan(plan, targets={0: first.from_no})
    grids, customers, moved_customers = describe_counts(plan)
    assert grids + customers == len(plan.moves)
    assert moved_customers == sum(m.customers for m in plan.moves)


def test_allowed_targets_keep_a_supervisor_in_the_team_and_leave_out_the_leaver(session, city):  # noqa: F811
    h = make_handover_plan(session, specialist_id=city["E1"], as_of=AS_OF, team_ids=None)
    i = 0
    same_team = allowed_targets(h.plan, i, may_cross_teams=False)
    assert [s.employee_no for s in same_team] == ["E2"]
    anyone = allowed_targets(h.plan, i, may_cross_teams=True, excluded={"E2"})
    assert [s.employee_no for s in anyone] == ["E3"]


def test_a_handover_records_the_leaving_and_undo_puts_it_back(Session, city):  # noqa: F811, N803
    from app.models import Specialist
    from app.models.enums import SpecialistStatus
    from app.services.rebalance.apply import Leaving
    from app.services.rebalance.workload import workloads

    with Session() as s:
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
    leaving = Leaving(city["E1"], SpecialistStatus.LEFT, date(2024, 7, 31))
    result = apply_as_team_supervisor(Session, city, h.plan, leaving=leaving)
    with Session() as s:
        leaver = s.get(Specialist, city["E1"])
        assert (leaver.status, leaver.left_on) == (SpecialistStatus.LEFT, date(2024, 7, 31))
        days = set(
            s.scalars(
                select(AssignmentEvent.effective_on).where(
                    AssignmentEvent.batch_id == result.batch_id
                )
            )
        )
        assert days == {date(2024, 7, 31)}  # the hand-over holds from the leaving date
        # The next rebalance passes them by.
        people = workloads(s, branch_id=city["branch"], as_of=AS_OF)
        assert city["E1"] not in {p.specialist_id for p in people}
    with Session() as s, s.begin():
        undo_batch(s, actor="sup", team_scope={city["T1"]}, batch_id=result.batch_id)
    with Session() as s:
        leaver = s.get(Specialist, city["E1"])
        assert (leaver.status, leaver.left_on) == (SpecialistStatus.ACTIVE, None)


def _leave_some_behind(Session, city) -> None:  # noqa: F811, N803
    """Lock CD-03 (C06-C09, and C06's two open tasks held by 王芳) and take C04 off its grid."""
    with Session() as s, s.begin():
        s.execute(update(Grid).where(Grid.id == city["CD-03"]).values(locked=True))
        s.execute(update(Customer).where(Customer.customer_no == "C04").values(grid_id=None))


def test_customers_left_behind_are_given_to_a_team_member_applied_and_undone(Session, city):  # noqa: F811, N803
    from app.services.leaving.left_behind import with_left_behind

    _leave_some_behind(Session, city)
    with Session() as s:
        before = snapshot(s)
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
        left = h.left_behind
        assert (left.customers_in_locked_grids, left.customers_without_grid) == (4, 1)
        assert (left.locked_customers, left.open_tasks_staying, left.to_give) == (1, 2, 6)
        given = with_left_behind(s, h, to_employee_no="E2", may_cross_teams=False)
    added = given.plan.moves[len(h.plan.moves) :]
    assert given.plan.moves[: len(h.plan.moves)] == h.plan.moves
    # The locked C03 too: a hand-over names them on their own, and they stay locked.
    assert sorted((m.kind, m.customer_no, m.from_no, m.to_no) for m in added) == [
        ("customer", no, "E1", "E2") for no in ("C03", "C04", "C06", "C07", "C08", "C09")
    ]
    assert (given.given, given.given_to) == (6, "E2")
    left = given.left_behind
    assert left.locked_grids == ("CD-03",) and left.locked_customers == 0
    assert (left.to_give, left.open_tasks_staying) == (0, 0)  # C06's tasks go with C06
    assert given.plan.loads_after()["E2"] == pytest.approx(12.6 + 2.0)
    result = apply_as_team_supervisor(Session, city, given.plan)
    assert (result.customers_moved, result.tasks_moved) == (9, 2)
    with Session() as s:
        now = snapshot(s)
        moved = ("C03", "C04", "C06", "C07", "C08", "C09")
        assert {now["customers"][c] for c in moved} == {city["E2"]}
        assert (now["tasks"]["T-1"], now["tasks"]["T-2"]) == (city["E2"], city["E2"])
        assert now["grids"]["CD-03"] == city["E1"]  # a locked grid stays
    with Session() as s, s.begin():
        undo_batch(s, actor="sup", team_scope={city["T1"]}, batch_id=result.batch_id)
    with Session() as s:
        assert snapshot(s) == before


def test_customers_left_behind_go_only_to_someone_in_scope_and_never_to_the_leaver(Session, city):  # noqa: F811, N803
    from app.services.errors import NotAllowed
    from app.services.leaving.left_behind import left_behind_targets, with_left_behind

    _leave_some_behind(Session, city)
    with Session() as s:
        team = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
        branch = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=None)
        for h, may_cross, offered in (
            (team, True, ["E2"]),
            (branch, False, ["E2"]),  # a supervisor: their team only
            (branch, True, ["E2", "E3"]),  # "Whole branch": anyone active in it
        ):
            targets = left_behind_targets(h, may_cross_teams=may_cross)
            assert [p.employee_no for p in targets] == offered
        with pytest.raises(PlanError, match="leaving"):
            with_left_behind(s, branch, to_employee_no="E1", may_cross_teams=True)
        with pytest.raises(PlanError, match="not an active specialist in scope"):
            with_left_behind(s, team, to_employee_no="E3", may_cross_teams=True)
        with pytest.raises(NotAllowed, match="crosses teams"):
            with_left_behind(s, branch, to_employee_no="E3", may_cross_teams=False)
        given = with_left_behind(s, branch, to_employee_no="E3", may_cross_teams=True)
        assert {m.to_no for m in given.plan.moves[len(branch.plan.moves) :]} == {"E3"}
        with pytest.raises(PlanError, match="leaves behind no customer"):
            with_left_behind(s, given, to_employee_no="E2", may_cross_teams=True)


def test_a_handover_ahead_of_the_leaving_date_holds_from_today(Session, city):  # noqa: F811, N803
    """The customers change hands when the hand-over is applied: dated at a leaving day still
    to come, a later change of theirs would read before it and cut the history's chain."""
    from datetime import timedelta

    from app.models.base import utcnow
    from app.models.enums import SpecialistStatus
    from app.services.clock import local_date
    from app.services.customers.history import specialist_on
    from app.services.rebalance.apply import Leaving

    today = local_date(utcnow())
    with Session() as s:
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
    leaving = Leaving(city["E1"], SpecialistStatus.LEFT, today + timedelta(days=14))
    result = apply_as_team_supervisor(Session, city, h.plan, leaving=leaving)
    with Session() as s:
        days = set(
            s.scalars(
                select(AssignmentEvent.effective_on).where(
                    AssignmentEvent.batch_id == result.batch_id
                )
            )
        )
        assert days == {today}
        moved = s.scalar(
            select(AssignmentEvent.customer_id).where(
                AssignmentEvent.batch_id == result.batch_id,
                AssignmentEvent.customer_id.is_not(None),
            )
        )
        assert specialist_on(s, moved, today - timedelta(days=1)) == city["E1"]
        assert specialist_on(s, moved, today) == city["E2"]


def test_a_row_still_to_come_does_not_push_a_handover_into_the_future(Session, city, tmp_path):  # noqa: F811, N803
    """An imported history may hold a change still to come; a hand-over applied today takes
    effect today all the same (the customer changes hands now), before that change."""
    from datetime import timedelta

    from test_import_support import write_table

    from app.models.base import utcnow
    from app.services.clock import local_date
    from app.services.customers.history import specialist_on
    from app.services.importer import import_file

    today = local_date(utcnow())
    future = today + timedelta(days=30)
    header = ["customer_no", "grid_code", "employee_no", "effective_on", "reason"]
    path = write_table(tmp_path / "h.csv", header, [["C05", None, "E1", future.isoformat(), None]])
    with Session() as s:
        import_file(s, "assignments", path)
        s.commit()
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
    with Session() as s, s.begin():
        apply_plan(
            s,
            h.plan,
            actor="sup",
            user_may_cross_teams=False,
            team_scope={city["T1"]},
            branch_scope=None,
        )
    with Session() as s:
        c05 = s.scalars(select(Customer).where(Customer.customer_no == "C05")).one()
        assert specialist_on(s, c05.id, today) == c05.specialist_id == city["E2"]


def test_a_customer_given_to_a_grids_owner_is_not_given_once_the_grid_changed_hands(Session, city):  # noqa: F811, N803
    """The load test's open finding: a hand-over gives a leaver's customer living in someone
    else's grid to that grid's owner; if the grid goes to another specialist between the plan
    and its apply, applying it would part the customer from their grid's owner."""
    from app.services.errors import StaleData

    with Session() as s, s.begin():
        cid = s.scalar(
            select(Customer.id)
            .where(Customer.specialist_id == city["E1"], Customer.locked.is_(False))
            .order_by(Customer.id)
        )
        s.execute(update(Customer).where(Customer.id == cid).values(grid_id=city["CD-04"]))
    with Session() as s:
        h = make_handover_plan(s, specialist_id=city["E1"], as_of=AS_OF, team_ids=[city["T1"]])
    given = [m for m in h.plan.moves if m.kind == "customer" and m.customer_id == cid]
    assert [(m.grid_code, m.to_no) for m in given] == [("CD-04", "E2")]
    # Meanwhile CD-04 goes to 王芳's teammate's colleague in another team, customers and all.
    with Session() as s, s.begin():
        s.execute(
            update(Grid)
            .where(Grid.id == city["CD-04"])
            .values(owner_id=city["E3"], version=Grid.version + 1)
        )
        s.execute(
            update(Customer)
            .where(Customer.grid_id == city["CD-04"], Customer.specialist_id == city["E2"])
            .values(specialist_id=city["E3"], version=Customer.version + 1)
        )
    with Session() as s:
        before = snapshot(s)
    with pytest.raises(StaleData, match="CD-04"):
        apply_as_team_supervisor(Session, city, h.plan)
    with Session() as s:
        assert snapshot(s) == before


def test_a_grid_that_changes_hands_while_the_handover_is_planned_is_not_given_back(
    Session,  # noqa: N803
    city,  # noqa: F811
    monkeypatch,
):
    """The load test's second finding (a whole grid's customers with another specialist than
    its owner): a hand-over read the grids' owners, then the leaver's customers, then the
    versions of the grids those customers live in, each in a statement of its own. A grid that
    went to the leaver, customers and all, between the first read and the second was still
    seen with its former owner, its customers were the leaver's, so each was given back to
    the former owner; and the version the plan recorded was the new one, so apply found
    nothing changed. Here CD-01 goes from 王芳 (E1) to 李强 (E2) while 李强's hand-over is
    being planned, exactly between those reads; the apply must refuse the plan."""
    from app.services.errors import StaleData
    from app.services.leaving import handover

    def move_cd01_to_e2() -> None:
        with Session() as other, other.begin():
            other.execute(
                update(Grid)
                .where(Grid.id == city["CD-01"])
                .values(owner_id=city["E2"], version=Grid.version + 1)
            )
            other.execute(
                update(Customer)
                .where(
                    Customer.grid_id == city["CD-01"],
                    Customer.specialist_id == city["E1"],
                    Customer.locked.is_(False),
                )
                .values(specialist_id=city["E2"], version=Customer.version + 1)
            )

    planned = handover._new_customer_owners

    def after_the_owners_were_read(*args, **kwargs):
        move_cd01_to_e2()  # another session commits, as a concurrent apply would
        return planned(*args, **kwargs)

    monkeypatch.setattr(handover, "_new_customer_owners", after_the_owners_were_read)
    with Session() as s:
        h = make_handover_plan(s, specialist_id=city["E2"], as_of=AS_OF, team_ids=None)
    given = sorted(
        (m.customer_no, m.to_no) for m in h.plan.moves if m.kind == "customer"
    )  # read as CD-01's: its owner as it was, E1
    assert given == [("C01", "E1"), ("C02", "E1")]
    with Session() as s:
        before = snapshot(s)
    with pytest.raises(StaleData, match="CD-01"), Session() as s, s.begin():
        apply_plan(
            s,
            h.plan,
            actor="senior",
            user_may_cross_teams=True,
            team_scope=None,
            branch_scope=None,
        )
    with Session() as s:
        assert snapshot(s) == before
        apart = s.execute(
            select(Customer.customer_no)
            .join(Grid, Grid.id == Customer.grid_id)
            .where(Customer.locked.is_(False), Customer.specialist_id != Grid.owner_id)
        ).all()
        assert apart == []
