"""Coverage: pool customers with no grid, active grids with no active specialist, customers
per specialist against capacity."""

from __future__ import annotations

from datetime import date

from factories import Factory

from app.models.enums import GridStatus, SpecialistStatus
from app.services.metrics.coverage import coverage_report

AS_OF = date(2024, 3, 10)
IN_POOL = date(2024, 1, 5)


def test_coverage_gaps(session):
    f = Factory(session)
    t = f.team(name="一队")
    a = f.specialist(team=t, employee_no="E1", name="甲", capacity=2)
    b = f.specialist(team=t, employee_no="E2", name="乙", capacity=5)
    on_leave = f.specialist(team=t, employee_no="E3", status=SpecialistStatus.LEAVE)
    gone = f.specialist(team=t, employee_no="E4", status=SpecialistStatus.LEFT)
    leaving = f.specialist(team=t, employee_no="E5", left_on=date(2024, 3, 1))
    covered = f.grid(owner=a, code="G1")
    f.grid(code="G2")
    leave_grid = f.grid(owner=on_leave, code="G3")
    f.grid(owner=gone, code="G4")
    f.grid(owner=leaving, code="G5")
    f.grid(code="G6", status=GridStatus.RETIRED)  # retired: not a gap
    for _ in range(3):
        f.customer(specialist=a, grid=covered, pool_entered_on=IN_POOL)
    f.customer(specialist=on_leave, grid=leave_grid, pool_entered_on=IN_POOL)
    f.customer(pool_entered_on=IN_POOL)  # no grid, no specialist
    f.customer(specialist=b, pool_entered_on=IN_POOL)  # no grid
    f.customer()  # not in the pool: its missing grid is not a gap

    cov = coverage_report(session, branch_id=t.branch_id, as_of=AS_OF)
    assert cov.unmatched_customers == 2
    assert cov.unserved_customers == 2  # the on-leave specialist's and the unassigned one
    assert [(g.code, g.reason, g.customers) for g in cov.uncovered_grids] == [
        ("G2", "no owner", 0),
        ("G3", "owner on leave", 1),
        ("G4", "owner left", 0),
        ("G5", "owner left", 0),  # active status, but left before the as-of date
    ]
    assert [(x.employee_no, x.team, x.customers, x.capacity) for x in cov.loads] == [
        ("E1", "一队", 3, 2),
        ("E2", "一队", 1, 5),
    ]
    assert [x.employee_no for x in cov.over_capacity] == ["E1"]
    assert cov.loads[0].share == 1.5
    # Without an as-of date, a set leaving date alone does not make a specialist inactive.
    cov = coverage_report(session, branch_id=t.branch_id)
    assert [g.code for g in cov.uncovered_grids] == ["G2", "G3", "G4"]
