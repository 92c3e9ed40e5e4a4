"""The monthly persistency cells: reports read from them give exactly the figures computed
from the base rows, and every way the base rows change brings the cells along."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import alembic_config, make_engine, migrate
from app.models import (
    AssignmentEvent,
    Customer,
    Grid,
    PersistencyMonth,
    PremiumDue,
    Specialist,
)
from app.models.enums import AssignmentReason
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.demo import build_demo
from app.services.metrics import persistency as P
from app.services.metrics import summary
from app.services.metrics.base_table import refresh_attribution, refresh_persistency_base
from app.services.periods import Period

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(module_demo) -> Iterator[sessionmaker]:
    with module_demo(seed=11, as_of=AS_OF) as Session:  # noqa: N806
        yield Session


def _from_base_rows(monkeypatch, session: Session, **kw):
    with monkeypatch.context() as m:
        m.setattr(P, "_aggregate", P._aggregate_base)
        return P.persistency_report(session, **kw)


def _cells(session: Session) -> list[tuple]:
    m = PersistencyMonth
    return sorted(
        tuple(r)
        for r in session.execute(
            select(
                m.grain, m.policy_year, m.due_month, m.branch_id, m.key_id, m.grace_days,
                m.policies, m.persisting, m.premium_due_fen, m.premium_received_fen,
            )
        )
    )  # fmt: skip


def _rebuilt(session: Session) -> list[tuple]:
    """The cells as a whole rebuild writes them (inside a savepoint that is rolled back)."""
    nested = session.begin_nested()
    summary.rebuild(session)
    cells = _cells(session)
    nested.rollback()
    return cells


@pytest.mark.slow
@pytest.mark.parametrize("as_of", [AS_OF, date(2025, 3, 15), date(2026, 2, 28)])
def test_reports_from_the_cells_equal_reports_from_the_base_rows(demo, monkeypatch, as_of):
    with demo() as s:
        team_ids = s.scalars(select(Specialist.team_id).distinct().limit(1)).all()
        specialist_ids = s.scalars(select(Specialist.id).order_by(Specialist.id).limit(3)).all()
        scopes = [{}, {"team_ids": team_ids}, {"specialist_ids": specialist_ids}]
        groupings = [
            None, "specialist", "team", "grid", "cohort", ("specialist", "cohort"),
            ("team", "cohort"), ("grid", "cohort"), "product",
        ]  # fmt: skip
        compared = 0
        for period in ("2025", "2025-Q4", "2026"):
            for by in groupings:
                for scope in scopes:
                    for month in (13, 25):
                        kw = {"period": Period.parse(period), "as_of": as_of, "by": by,
                              "month": month, **scope}  # fmt: skip
                        got = P.persistency_report(s, **kw)
                        assert got == _from_base_rows(monkeypatch, s, **kw), kw
                        compared += sum(r.policies + r.pending_policies for r in got)
        assert compared > 10_000  # the comparison covered real figures, not empty reports


def test_the_trend_reads_the_cells_and_agrees_with_the_base_rows(demo, monkeypatch):
    months = Period.parse("2026").months()
    with demo() as s:
        got = P.persistency_trend(s, months=months, as_of=AS_OF, by="team")
        with monkeypatch.context() as m:
            m.setattr(P, "_aggregate", P._aggregate_base)
            assert got == P.persistency_trend(s, months=months, as_of=AS_OF, by="team")
    assert any(p.rate is not None for p in got)


def test_cells_follow_a_partial_refresh_and_customer_moves(demo):
    with demo() as s, s.begin():
        assert _cells(s) == _rebuilt(s)  # as the demo left them
        # Receipts change on some policies (paid late, paid short), then their base rows are
        # refreshed as an import does it.
        dues = s.scalars(
            select(PremiumDue).where(PremiumDue.policy_year == 2).order_by(PremiumDue.id).limit(60)
        ).all()
        for i, d in enumerate(dues):
            if i % 2:
                d.received_on = d.due_date + timedelta(days=200)
            else:
                d.amount_received_fen = d.amount_due_fen // 2
        s.flush()
        refresh_persistency_base(s, policy_ids={d.policy_id for d in dues})
        assert _cells(s) == _rebuilt(s)

        # Every customer of one specialist moves to another: the rows due after the move go to
        # the new specialist, as a rebalance does it; no policy is lost or counted twice.
        before_move = _cells(s)
        busiest = (
            select(Customer.specialist_id)
            .where(Customer.specialist_id.is_not(None))
            .group_by(Customer.specialist_id)
            .order_by(func.count().desc(), Customer.specialist_id)
            .limit(2)
        )
        a, b = s.scalars(busiest).all()
        moved = s.scalars(select(Customer.id).where(Customer.specialist_id == a)).all()
        assert len(moved) > 50
        at = datetime(2025, 7, 1, tzinfo=timezone.utc)
        s.add_all(
            AssignmentEvent(
                customer_id=c, from_specialist_id=a, to_specialist_id=b,
                reason=AssignmentReason.MANUAL, actor="test", at=at,
            )
            for c in moved
        )  # fmt: skip
        s.execute(update(Customer).where(Customer.id.in_(moved)).values(specialist_id=b))
        s.flush()
        refresh_attribution(s, customer_ids=moved)
        cells = _cells(s)
        assert cells == _rebuilt(s)
        assert cells != before_move
        assert all(c[6] > 0 for c in cells)  # no empty cell is left behind

        def total(rows: list[tuple], grain: str) -> list[int]:
            return [sum(r[i] for r in rows if r[0] == grain) for i in (6, 7, 8, 9)]

        assert total(cells, "S") == total(before_move, "S")
        assert total(cells, "G") == total(before_move, "G")

        # A whole refresh writes the same cells again.
        refresh_persistency_base(s)
        assert _cells(s) == cells
        s.rollback()


def test_a_cell_written_with_another_grace_period_is_not_used(demo, monkeypatch):
    kw = {"period": Period.parse("2025"), "as_of": AS_OF, "by": "specialist"}
    with demo() as s, s.begin():
        expected = P.persistency_report(s, **kw)
        s.execute(update(PersistencyMonth).values(grace_days=PersistencyMonth.grace_days + 1))
        # Counted again from the base rows, not from cells that used other rules.
        assert P.persistency_report(s, **kw) == expected
        s.rollback()


def test_the_migration_fills_the_cells_of_an_existing_database(tmp_path):
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        build_demo(s, size="small", seed=3, as_of=AS_OF)
        expected = _cells(s)
    # As a database written before the cells existed: schema revision 0001.
    command.downgrade(alembic_config(engine), "0001")
    assert "persistency_month" not in inspect(engine).get_table_names()
    migrate(engine)
    with Session() as s:
        assert expected and _cells(s) == expected
    engine.dispose()


def test_the_map_carries_each_grids_rate_with_the_policies_it_rests_on(demo):
    """The map's rate per grid and its base are the by-grid report's, so its "few" marking
    agrees with the workbook's by-grid sheet."""
    from app.services.mapping import load_map_data
    from app.services.mapping.data import persistency_year

    with demo() as s:
        data = load_map_data(s, branch_id=None, as_of=AS_OF)
        code = dict(s.execute(select(Grid.id, Grid.code)).all())
        report = {
            code[r.group_key]: (r.persistency_premium, r.policies)
            for r in P.persistency_report(s, period=persistency_year(AS_OF), as_of=AS_OF, by="grid")
            if r.group_key is not None and r.persistency_premium is not None
        }
    shown = {
        g.code: (g.persistency_13, g.persistency_policies)
        for g in data.grids
        if g.persistency_13 is not None
    }
    assert shown and shown == report
