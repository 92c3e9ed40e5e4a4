"""Addresses marked outside coverage: out of the unmatched queue into a list of their own, put
back, matched again when a grid comes to cover them; rights; coverage counts them apart."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from test_intake import add_customer, add_grid, persistency_ready, world  # noqa: F401

from app.models import CoverageMark, Customer, DepartedAgent
from app.models.enums import MatchMethod, Role
from app.services.errors import NotAllowed, NotFound, StaleData
from app.services.intake.coverage import (
    InvalidMark,
    mark_outside_coverage,
    outside_coverage,
    restore_to_queue,
)
from app.services.intake.intake import intake_agent
from app.services.intake.unmatched import rematch_unmatched, resolve_unmatched, unmatched_queue
from app.services.metrics.coverage import coverage_report
from app.services.people.auth import UserInfo


@pytest.fixture
def queue(session, world, persistency_ready):  # noqa: F811 - fixtures of test_intake
    """The world's intake run with two more customers of AG1 in a district without grids:
    the unmatched queue holds them and C4."""
    b = world["branch"]
    ag1 = session.scalar(select(DepartedAgent).where(DepartedAgent.agent_code == "AG1"))
    far1, _ = add_customer(session, b, ag1, "C10", "马超", "四川省成都市郫都区安德镇红光村5组")
    far2, _ = add_customer(session, b, ag1, "C11", "吴敏", "郫都区团结镇石堤村2组8号")
    intake_agent(session, agent_code="AG1")
    session.commit()
    ids = {r.customer_no: r.customer_id for r in unmatched_queue(session, b.id)}
    assert {"C4", "C10", "C11"} <= set(ids)
    return {**world, "far": [far1.id, far2.id], "queue": ids}


def user(w, role: Role) -> UserInfo:
    return UserInfo(1, "u", "U", role, w["branch"].id, frozenset({w["team"].id}))


def test_marked_addresses_leave_the_queue_for_their_own_list(session, queue):
    b = queue["branch"]
    change = mark_outside_coverage(
        session,
        customer_ids=queue["far"],
        reason="no_grid_district",
        note="  郫都区  暂无网格 ",
        actor="senior",
        user=user(queue, Role.SENIOR_SUPERVISOR),
    )
    session.commit()
    assert change.outside and change.customer_ids == tuple(queue["far"])
    assert [r.customer_no for r in unmatched_queue(session, b.id)] == ["C4"]
    rows = outside_coverage(session, b.id)
    assert [r.customer_no for r in rows] == ["C10", "C11"]
    r = rows[0]
    assert (r.reason, r.note, r.marked_by, r.district) == (
        "no_grid_district",
        "郫都区 暂无网格",
        "senior",
        "郫都区",
    )
    assert r.days_waiting is not None and r.days_waiting > 0
    cov = coverage_report(session, branch_id=b.id)
    assert (cov.unmatched_customers, cov.outside_coverage_customers) == (1, 2)


def test_put_back_in_the_queue_keeps_the_mark_in_the_history(session, queue):
    b, far = queue["branch"], queue["far"]
    mark_outside_coverage(session, customer_ids=far, reason="incomplete", actor="senior")
    session.commit()
    change = restore_to_queue(session, customer_ids=[far[0]], actor="boss")
    session.commit()
    assert not change.outside
    assert [r.customer_no for r in outside_coverage(session, b.id)] == ["C11"]
    assert "C10" in {r.customer_no for r in unmatched_queue(session, b.id)}
    ended = session.scalars(select(CoverageMark).where(CoverageMark.customer_id == far[0])).one()
    assert (ended.cleared_by, ended.cleared_how) == ("boss", "restored")
    assert ended.cleared_at is not None
    # Marked again later: a second row, the first one kept.
    mark_outside_coverage(session, customer_ids=[far[0]], reason="out_of_town", actor="senior")
    session.commit()
    assert (
        session.scalar(
            select(func.count()).select_from(CoverageMark).where(CoverageMark.customer_id == far[0])
        )
        == 2
    )


def test_a_multi_selection_is_marked_whole_or_not_at_all(session, queue):
    b, far = queue["branch"], queue["far"]
    matched = queue["customers"]["address"].id  # C2 has a grid
    with pytest.raises(StaleData, match="C2 was put in a grid meanwhile"):
        mark_outside_coverage(
            session, customer_ids=[*far, matched], reason="no_grid_district", actor="senior"
        )
    session.rollback()
    with pytest.raises(NotFound, match="999999"):
        mark_outside_coverage(
            session, customer_ids=[*far, 999_999], reason="no_grid_district", actor="senior"
        )
    session.rollback()
    assert outside_coverage(session, b.id) == []
    assert session.scalar(select(func.count()).select_from(CoverageMark)) == 0
    mark_outside_coverage(session, customer_ids=[far[0]], reason="incomplete", actor="senior")
    session.commit()
    with pytest.raises(StaleData, match="C10 is marked outside coverage already"):
        mark_outside_coverage(session, customer_ids=far, reason="incomplete", actor="senior")
    session.rollback()
    with pytest.raises(StaleData, match="C11 is not marked outside coverage"):
        restore_to_queue(session, customer_ids=far, actor="senior")
    session.rollback()
    assert [r.customer_no for r in outside_coverage(session, b.id)] == ["C10"]


@pytest.mark.parametrize(
    ("reason", "note", "message"),
    [
        ("", "", "choose why"),
        ("elsewhere", "x", "choose why"),
        ("other", "   ", "say in the note"),
        ("incomplete", "长" * 201, "too long"),
    ],
)
def test_a_mark_needs_a_known_reason(session, queue, reason, note, message):
    with pytest.raises(InvalidMark, match=message):
        mark_outside_coverage(
            session, customer_ids=queue["far"], reason=reason, note=note, actor="senior"
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CoverageMark)) == 0


def test_only_a_senior_supervisor_marks_and_puts_back(session, queue):
    far = queue["far"]
    for role in (Role.SUPERVISOR, Role.ANALYST):
        with pytest.raises(NotAllowed, match="only a senior supervisor"):
            mark_outside_coverage(
                session,
                customer_ids=far,
                reason="incomplete",
                actor="u",
                user=user(queue, role),
            )
    mark_outside_coverage(session, customer_ids=far, reason="incomplete", actor="senior")
    session.commit()
    for role in (Role.SUPERVISOR, Role.ANALYST):
        with pytest.raises(NotAllowed, match="only a senior supervisor"):
            restore_to_queue(session, customer_ids=far, actor="u", user=user(queue, role))
    session.rollback()
    assert len(outside_coverage(session, queue["branch"].id)) == 2
    # Another branch's senior supervisor finds no such customers.
    stranger = UserInfo(9, "x", "X", Role.SENIOR_SUPERVISOR, queue["branch"].id + 100, frozenset())
    with pytest.raises(NotFound):
        restore_to_queue(session, customer_ids=far, actor="x", user=stranger)


def test_a_rematch_matches_an_outside_address_a_new_grid_covers(session, queue):
    b, far = queue["branch"], queue["far"]
    mark_outside_coverage(session, customer_ids=far, reason="no_grid_district", actor="senior")
    session.commit()
    assert rematch_unmatched(session, b.id) == 0  # nothing covers them yet
    grid = add_grid(session, b, "P1", 5, ["红光村"], queue["specialists"]["wang"])
    grid.district = "郫都区"
    session.flush()
    assert rematch_unmatched(session, b.id, actor="import") == 1
    session.commit()
    c = session.get(Customer, far[0])
    assert (c.grid_id, c.match_method, c.specialist_id) == (
        grid.id,
        MatchMethod.ADDRESS,
        queue["specialists"]["wang"].id,
    )
    assert [r.customer_no for r in outside_coverage(session, b.id)] == ["C11"]
    mark = session.scalars(select(CoverageMark).where(CoverageMark.customer_id == far[0])).one()
    assert (mark.cleared_how, mark.cleared_by) == ("matched", "import")
    # The one still outside stays out of the queue.
    assert "C11" not in {r.customer_no for r in unmatched_queue(session, b.id)}


def test_filing_an_outside_address_by_hand_ends_its_mark(session, queue):
    b, far = queue["branch"], queue["far"]
    mark_outside_coverage(session, customer_ids=[far[0]], reason="other", note="待核", actor="s")
    session.commit()
    resolve_unmatched(session, customer_id=far[0], grid_id=queue["grids"]["A"].id, actor="s")
    session.commit()
    assert outside_coverage(session, b.id) == []
    mark = session.scalars(select(CoverageMark)).one()
    assert mark.cleared_how == "matched"


def test_a_grid_import_matches_the_queue_and_outside_addresses_it_now_covers(
    session, queue, tmp_path
):
    import json

    from app.services.importer import import_file

    b, far = queue["branch"], queue["far"]
    mark_outside_coverage(session, customer_ids=far, reason="no_grid_district", actor="senior")
    session.commit()
    ring = [[5, 0], [6, 0], [6, 1], [5, 1], [5, 0]]
    feature = {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "code": "P2",
            "name": "石堤村网格",
            "district": "郫都区",
            "communities": "石堤村",
        },
    }
    path = tmp_path / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), "utf-8")
    result = import_file(session, "grids", path, branch_id=b.id, actor="senior")
    session.commit()
    assert any("1 pool customers without a grid were matched" in n for n in result.notices)
    assert [r.customer_no for r in outside_coverage(session, b.id)] == ["C10"]
    assert session.get(Customer, far[1]).grid_id is not None


def test_an_undone_intake_ends_the_marks_made_since(session, queue):
    from app.services.rebalance.apply import undo_batch
    from app.services.rebalance.batches import list_batches

    b, far = queue["branch"], queue["far"]
    mark_outside_coverage(session, customer_ids=far, reason="out_of_town", actor="senior")
    session.commit()
    (row,) = list_batches(session, branch_id=b.id)
    undo_batch(session, actor="senior", team_scope=None, batch_id=row.id)
    session.commit()
    assert outside_coverage(session, b.id) == []
    hows = session.scalars(select(CoverageMark.cleared_how)).all()
    assert hows == ["undone", "undone"]
    # Taken in again: back in the queue, where they can be marked anew.
    intake_agent(session, agent_code="AG1")
    session.commit()
    assert {"C10", "C11"} <= {r.customer_no for r in unmatched_queue(session, b.id)}
    mark_outside_coverage(session, customer_ids=far, reason="out_of_town", actor="senior")
