"""One unit of work owns the derived tables: whoever writes a customer's specialist, grid or
assignment history, and however, the persistency base, its monthly cells and the funnel cells
are exactly what a full recompute gives once the transaction commits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from migration_triggers import load_migration, sqlite_triggers
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine
from app.models import (
    AssignmentEvent,
    ChangeBatch,
    Customer,
    FunnelMonth,
    Grid,
    PersistencyBase,
    PersistencyDirty,
    PersistencyMonth,
    Policy,
    PolicyDirty,
    PremiumDue,
    Specialist,
    derived,
)
from app.models.enums import AssignmentReason, PolicyStatus, SpecialistStatus
from app.services.customers.history import IMPORT_KIND
from app.services.database import unit_of_work
from app.services.metrics import funnel_cells
from app.services.metrics.base_table import refresh_persistency_base
from app.services.rebalance.apply import apply_plan
from app.services.rebalance.make import make_plan
from app.services.rebalance.undo import undo_batch

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(module_demo) -> Iterator[sessionmaker]:
    with module_demo(seed=13, as_of=AS_OF) as Session:  # noqa: N806
        yield Session


def _state(s: Session) -> dict[str, list[tuple]]:
    b, m, f = PersistencyBase, PersistencyMonth, FunnelMonth
    return {
        "base": sorted(
            tuple(r)
            for r in s.execute(
                select(
                    b.policy_id, b.policy_year, b.branch_id, b.due_date, b.amount_due_fen,
                    b.received_fen, b.received_on, b.days_late, b.terminated_on, b.customer_id,
                    b.grid_id, b.specialist_id, b.payment_mode, b.product,
                )
            )
        ),
        "cells": sorted(
            tuple(r)
            for r in s.execute(
                select(
                    m.grain, m.policy_year, m.due_month, m.branch_id, m.key_id, m.grace_days,
                    m.policies, m.persisting, m.premium_due_fen, m.premium_received_fen,
                )
            )
        ),
        "funnel": sorted(
            tuple(r)
            for r in s.execute(
                select(f.entry_month, f.branch_id, f.specialist_key, f.counts, f.days)
            )
        ),
    }  # fmt: skip


def _recomputed(s: Session) -> dict[str, list[tuple]]:
    """The derived tables as a full recompute writes them (in a savepoint rolled back)."""
    nested = s.begin_nested()
    refresh_persistency_base(s)
    funnel_cells.rebuild(s)
    found = _state(s)
    nested.rollback()
    return found


def _assert_exact(Session: sessionmaker) -> None:  # noqa: N803
    with Session() as s:
        assert s.scalar(select(func.count()).select_from(PersistencyDirty)) == 0
        assert s.scalar(select(func.count()).select_from(PolicyDirty)) == 0
        now = _state(s)
        again = _recomputed(s)
    for table in now:
        assert now[table] == again[table], f"{table} differs from a full recompute"


def _moved_customers(s: Session, n: int) -> tuple[list[int], int]:
    """``n`` customers of one specialist with year-2 base rows, and another active specialist."""
    b = PersistencyBase
    owner = s.scalar(
        select(Customer.specialist_id)
        .join(b, b.customer_id == Customer.id)
        .where(b.policy_year == 2, Customer.specialist_id.is_not(None))
        .group_by(Customer.specialist_id)
        .order_by(func.count().desc(), Customer.specialist_id)
        .limit(1)
    )
    ids = list(
        s.scalars(
            select(b.customer_id)
            .join(Customer, Customer.id == b.customer_id)
            .where(b.policy_year == 2, Customer.specialist_id == owner)
            .distinct()
            .order_by(b.customer_id)
            .limit(n)
        )
    )
    target = s.scalar(
        select(Specialist.id)
        .where(Specialist.status == SpecialistStatus.ACTIVE, Specialist.id != owner)
        .order_by(Specialist.id)
        .limit(1)
    )
    assert target is not None and len(ids) == n
    return ids, target


def test_a_writer_that_knows_nothing_of_the_derived_tables_keeps_them_exact(demo):
    # A plain UPDATE of the specialist, and moves in the assignment history dated in the
    # past, as a new writer (or a script) would make them: no refresh call anywhere.
    with demo() as s, s.begin():
        ids, target = _moved_customers(s, 40)
        s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target))
        for cid in ids[:10]:
            s.add(
                AssignmentEvent(
                    customer_id=cid,
                    from_specialist_id=None,
                    to_specialist_id=target,
                    reason=AssignmentReason.REBALANCE,
                    effective_on=date(2025, 1, 1),
                )
            )
    with demo() as s:
        attributed = s.scalars(
            select(PersistencyBase.specialist_id).where(PersistencyBase.customer_id.in_(ids))
        ).all()
        assert target in attributed  # the change reached the base rows
    _assert_exact(demo)


def _paid_base_dues(s: Session, n: int) -> list[PremiumDue]:
    """``n`` premium dues that are base rows (the first of years 2 and 3), paid, by policy id."""
    b = PersistencyBase
    return list(
        s.scalars(
            select(PremiumDue)
            .join(
                b,
                (b.policy_id == PremiumDue.policy_id)
                & (b.policy_year == PremiumDue.policy_year)
                & (b.due_date == PremiumDue.due_date),
            )
            .where(PremiumDue.amount_received_fen > 0)
            .order_by(PremiumDue.policy_id, PremiumDue.policy_year)
            .limit(n)
        )
    )


def test_a_writer_of_policies_and_dues_that_knows_nothing_of_the_base_keeps_it_exact(demo):
    # A correction file read by a script, a future import kind: premiums reversed, a due
    # moved to another day, a due written again, a policy ended by a claim. No refresh call.
    with demo() as s, s.begin():
        dues = _paid_base_dues(s, 12)
        assert len(dues) == 12
        reversed_ = [(d.policy_id, d.policy_year) for d in dues[:6]]
        s.execute(
            update(PremiumDue)
            .where(PremiumDue.id.in_([d.id for d in dues[:6]]))
            .values(amount_received_fen=0, received_on=None)
        )
        dues[6].due_date += timedelta(days=1)
        gone = dues[7]
        s.delete(gone)
        s.flush()
        s.add(
            PremiumDue(
                policy_id=gone.policy_id,
                policy_year=gone.policy_year,
                due_date=gone.due_date,
                amount_due_fen=gone.amount_due_fen,
                amount_received_fen=0,
            )
        )
        claimed = s.get(Policy, dues[8].policy_id)
        claimed.status = PolicyStatus.CLAIM
        claimed.status_date = date(2026, 3, 1)
    with demo() as s:
        received = dict(
            ((r.policy_id, r.policy_year), r.received_fen)
            for r in s.execute(
                select(PersistencyBase.policy_id, PersistencyBase.policy_year,
                       PersistencyBase.received_fen)
                .where(PersistencyBase.policy_id.in_([p for p, _ in reversed_]))
            )
        )  # fmt: skip
        assert all(received[key] == 0 for key in reversed_)  # the change reached the base rows
    _assert_exact(demo)


def test_an_orm_change_of_grid_and_specialist_keeps_them_exact(demo):
    with demo() as s, s.begin():
        ids, target = _moved_customers(s, 5)
        grid = s.scalar(select(Grid.id).order_by(Grid.id.desc()).limit(1))
        for c in s.scalars(select(Customer).where(Customer.id.in_(ids))):
            c.grid_id = grid
            c.specialist_id = target
    with demo() as s:
        grids = set(
            s.scalars(select(PersistencyBase.grid_id).where(PersistencyBase.customer_id.in_(ids)))
        )
        assert grids == {grid}
    _assert_exact(demo)


def test_undoing_an_imported_history_keeps_them_exact(demo):
    with demo() as s, s.begin():
        ids, target = _moved_customers(s, 8)
        branch_id = s.scalar(select(func.min(Grid.branch_id)))
        batch = ChangeBatch(branch_id=branch_id, kind=IMPORT_KIND, actor="test")
        s.add(batch)
        s.flush()
        for cid in ids:
            s.add(
                AssignmentEvent(
                    customer_id=cid,
                    from_specialist_id=target,
                    to_specialist_id=None,
                    reason=AssignmentReason.IMPORT,
                    effective_on=date(2026, 6, 1),
                    batch_id=batch.id,
                )
            )
        batch_id = batch.id
    _assert_exact(demo)
    with demo() as s, s.begin():
        s.execute(
            update(ChangeBatch).where(ChangeBatch.id == batch_id).values(undone_at=func.now())
        )
    _assert_exact(demo)


def test_a_rollback_leaves_neither_the_change_nor_its_marks(demo):
    with demo() as s:
        before = _state(s)
    with demo() as s, s.begin():
        ids, target = _moved_customers(s, 3)
        s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target))
        s.flush()
        assert s.scalar(select(func.count()).select_from(PersistencyDirty)) > 0
        s.rollback()
    with demo() as s:
        assert _state(s) == before
        assert s.scalar(select(func.count()).select_from(PersistencyDirty)) == 0


def test_a_rebalance_and_its_undo_keep_them_exact(demo):
    with demo() as s:
        branch_id = s.scalar(select(func.min(Grid.branch_id)))
        plan = make_plan(s, branch_id=branch_id, as_of=AS_OF, max_moves=3)
    assert plan.moves
    with demo() as s, s.begin():
        result = apply_plan(
            s, plan, actor="senior", user_may_cross_teams=True, team_scope=None, branch_scope=None
        )
    assert result.customers_moved > 0
    _assert_exact(demo)
    with demo() as s, s.begin():
        undo_batch(s, actor="senior", team_scope=None, batch_id=result.batch_id)
    _assert_exact(demo)


def test_a_commit_settles_its_own_marks_and_leaves_others_to_the_job(demo):
    """A write made outside the unit of work (a bare session, a SQL tool) stays logged; another
    user's commit does not take it on (on a shared database it may lack the rights to), and
    settling everything (the window's start, griddesk init, the background job) brings it in."""
    from app.db import make_sessionmaker

    bare = make_sessionmaker(demo.kw["bind"])
    with bare() as s, s.begin():
        ids, target = _moved_customers(s, 4)
        s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target))
    with demo() as s, s.begin():  # another user's move: its own marks are settled
        other = s.scalar(
            select(PersistencyBase.customer_id)
            .where(PersistencyBase.customer_id.not_in(ids))
            .order_by(PersistencyBase.customer_id.desc())
            .limit(1)
        )
        s.execute(update(Customer).where(Customer.id == other).values(specialist_id=target))
    with demo() as s:
        left = set(s.scalars(select(PersistencyDirty.customer_id)))
    assert left == set(ids)
    assert unit_of_work.settle_everything(demo, chunk=3) == len(ids)
    _assert_exact(demo)


def test_migration_and_models_create_the_same_triggers(tmp_path):
    """Migration 0014 carries its own copy of the trigger text; it must be what the models
    create, and a migrated file must hold the same triggers as one made from the models."""
    migration = load_migration("0014_persistency_dirty.py")
    assert derived.trigger_statements("sqlite") == migration._SQLITE
    assert derived.trigger_statements("postgresql") == migration._PG
    triggers, migrated = sqlite_triggers(tmp_path, "persistency")
    assert len(triggers) == 5 and triggers == migrated


def test_migration_and_models_create_the_same_policy_triggers(tmp_path):
    migration = load_migration("0018_policy_dirty.py")
    assert derived.policy_trigger_statements("sqlite") == migration._SQLITE
    assert derived.policy_trigger_statements("postgresql") == migration._PG
    triggers, migrated = sqlite_triggers(tmp_path, "policy_dirty")
    assert len(triggers) == 5 and triggers == migrated


@pytest.mark.pg_only
def test_postgresql_has_the_statement_triggers(backend, _pg_engine):
    with _pg_engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT tgname, tgrelid::regclass::text FROM pg_trigger "
                "WHERE NOT tgisinternal AND (tgname LIKE 'persistency%' "
                "OR tgname LIKE 'policy_dirty%') ORDER BY tgname"
            )
        ).all()
    assert [tuple(r) for r in found] == [
        ("persistency_dirty_batch_update", "change_batch"),
        ("persistency_dirty_customer_update", "customer"),
        ("persistency_dirty_event_delete", "assignment_event"),
        ("persistency_dirty_event_insert", "assignment_event"),
        ("persistency_dirty_event_update", "assignment_event"),
        ("policy_dirty_due_delete", "premium_due"),
        ("policy_dirty_due_insert", "premium_due"),
        ("policy_dirty_due_update", "premium_due"),
        ("policy_dirty_policy_delete", "policy"),
        ("policy_dirty_policy_update", "policy"),
    ]


def test_a_large_change_may_commit_first_and_leave_its_figures_to_a_job(demo, monkeypatch):
    # The desktop app lets its writes defer a large refresh (app.views.context): the change
    # commits with its marks; the base and the funnel cells follow in bring_current. Meanwhile
    # the funnel is read from the customers themselves, so it is never stale.
    from app.services.metrics.funnel import funnel_report
    from app.services.periods import Period

    monkeypatch.setattr(unit_of_work, "DEFER_FROM", 3)
    with demo() as s:
        unit_of_work.may_defer(s)
        with s.begin():
            ids, target = _moved_customers(s, 3)
            s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target))
        assert unit_of_work.deferred(s)
    with demo() as s:
        entered = s.scalar(select(func.min(Customer.pool_entered_on)).where(Customer.id.in_(ids)))
        cohort = Period.parse(f"{entered:%Y}")
        assert set(s.scalars(select(Customer.specialist_id).where(Customer.id.in_(ids)))) == {
            target
        }
        assert unit_of_work.pending(s)
        # SQLite leaves the funnel cells to the job as well; PostgreSQL settles them at commit.
        assert funnel_cells.pending(s) == (s.get_bind().dialect.name == "sqlite")
        stale = s.scalars(
            select(PersistencyBase.specialist_id).where(PersistencyBase.customer_id.in_(ids))
        ).all()
        assert target not in stale  # not yet: the job has not run
        while_updating = funnel_report(s, cohort=cohort, by="specialist")
    unit_of_work.bring_current(demo.kw["bind"])
    _assert_exact(demo)
    with demo() as s:
        assert not funnel_cells.pending(s)
        assert funnel_report(s, cohort=cohort, by="specialist") == while_updating


def test_a_small_change_settles_before_it_commits_even_when_it_may_defer(demo, monkeypatch):
    monkeypatch.setattr(unit_of_work, "DEFER_FROM", 4)
    with demo() as s:
        unit_of_work.may_defer(s)
        with s.begin():
            ids, target = _moved_customers(s, 3)
            s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target))
        assert not unit_of_work.deferred(s)
    _assert_exact(demo)


def test_an_offline_copy_taken_while_figures_are_updating_holds_them_current(demo, tmp_path):
    """A copy taken while a large change's figures are still being brought current (marks
    committed, not yet settled) must not keep the stale attribution for good."""
    from app.db import make_sessionmaker
    from app.services.files.snapshot import take_snapshot

    engine = demo.kw["bind"]
    with make_sessionmaker(engine)() as s, s.begin():  # committed marks, not settled
        ids, target = _moved_customers(s, 4)
        s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target))
        branch_id = s.scalar(select(func.min(Grid.branch_id)))
    copy = tmp_path / "copy.sqlite"
    take_snapshot(engine, copy, branch_id=branch_id, user=None)
    ro = make_engine(f"sqlite:///{copy}", read_only=True)
    try:
        with make_sessionmaker(ro)() as s:
            now = _state(s)
        unit_of_work.settle_everything(demo)
        with demo() as s:
            source = _state(s)
        assert now["base"] == source["base"]
        assert now["cells"] == source["cells"]
    finally:
        ro.dispose()


def test_two_jobs_settling_at_once_take_turns_and_leave_the_figures_exact(demo):
    """Two windows open on the shared database after a large change (or a window and
    ``griddesk init``) both run the job that settles everything: they take turns on the
    branch, neither fails, and the figures are what a full recompute gives."""
    import threading

    from app.db import make_sessionmaker

    bare = make_sessionmaker(demo.kw["bind"])  # a write outside the unit of work: all logged
    with bare() as s, s.begin():
        ids, target = _moved_customers(s, 120)
        s.execute(update(Customer).where(Customer.id.in_(ids)).values(specialist_id=target))
    start = threading.Barrier(2)
    settled: list[int] = []
    failed: list[BaseException] = []

    def job() -> None:
        start.wait()
        try:
            settled.append(unit_of_work.settle_everything(demo, chunk=25))
        except BaseException as exc:  # noqa: BLE001 - reported below
            failed.append(exc)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failed, failed
    assert len(settled) == 2 and sum(settled) >= len(ids)
    _assert_exact(demo)
