"""The monthly funnel cells: reports read from them give exactly the figures computed from the
customers, and every way a customer changes (on SQLite and PostgreSQL, through any code path,
by two transactions at once) brings the cells along before the commit."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from alembic import command
from migration_triggers import load_migration, sqlite_triggers
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import alembic_config, make_engine, migrate
from app.models import Branch, Customer, FunnelDirty, FunnelMonth, Specialist
from app.models.funnel import PG_FUNCTION, trigger_statements
from app.opening import upgrade
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.demo import build_demo
from app.services.metrics import funnel as F
from app.services.metrics import funnel_cells
from app.services.periods import Period

AS_OF = date(2026, 11, 20)


@pytest.fixture(scope="module")
def demo(module_demo) -> Iterator[sessionmaker]:
    with module_demo(seed=5, as_of=AS_OF) as Session:  # noqa: N806
        yield Session


def _from_customers(monkeypatch, session: Session, **kw):
    with monkeypatch.context() as m:
        m.setattr(funnel_cells, "aggregate", lambda *a, **k: None)
        return F.funnel_report(session, **kw)


def _answered_by_cells(session: Session, **kw) -> bool:
    scope = {"by": None, "branch_id": None, "team_ids": None, "specialist_ids": None}
    return funnel_cells.aggregate(session, **(scope | kw)) is not None


def _cells(session: Session) -> list[tuple]:
    c = FunnelMonth.__table__.c
    return sorted(tuple(r) for r in session.execute(select(*c)))


def _rebuilt(session: Session) -> list[tuple]:
    """The cells as a whole rebuild writes them (inside a savepoint that is rolled back)."""
    nested = session.begin_nested()
    funnel_cells.rebuild(session)
    cells = _cells(session)
    nested.rollback()
    return cells


def test_reports_from_the_cells_equal_reports_from_the_customers(demo, monkeypatch):
    with demo() as s:
        assert not funnel_cells.pending(s)
        team_ids = s.scalars(select(Specialist.team_id).distinct().limit(1)).all()
        specialist_ids = s.scalars(select(Specialist.id).order_by(Specialist.id).limit(3)).all()
        branch_id = s.scalar(select(Customer.branch_id).limit(1))
        scopes = [
            {},
            {"team_ids": team_ids},
            {"specialist_ids": specialist_ids},
            {"branch_id": branch_id},
            {"branch_id": branch_id + 1},
        ]
        compared = 0
        for period in ("2025", "2025-Q4", "2026-03", "2026", "2023"):
            for by in (None, "specialist", "team", "cohort"):
                for scope in scopes:
                    kw = {"cohort": Period.parse(period), "by": by, **scope}
                    assert _answered_by_cells(s, **kw)
                    got = F.funnel_report(s, **kw)
                    assert got == _from_customers(monkeypatch, s, **kw), kw
                    compared += sum(r.cohort_size for r in got)
        assert compared > 20_000  # real cohorts, not empty reports


def test_a_session_with_unsettled_changes_reads_the_customers(demo, monkeypatch):
    """A report inside a transaction that moved customers shows the move at once."""
    with demo() as s:
        a, b = s.scalars(select(Specialist.id).order_by(Specialist.id).limit(2)).all()
        period = Period.parse("2025")
        before = {
            r.group_key: r.cohort_size for r in F.funnel_report(s, cohort=period, by="specialist")
        }
        moved = s.execute(
            update(Customer)
            .where(
                Customer.specialist_id == a,
                Customer.pool_entered_on >= period.start,
                Customer.pool_entered_on <= period.end,
            )
            .values(specialist_id=b)
        ).rowcount
        assert moved > 0 and funnel_cells.pending(s)
        after = {
            r.group_key: r.cohort_size for r in F.funnel_report(s, cohort=period, by="specialist")
        }
        assert after.get(a) is None and after[b] == before[b] + moved
        s.rollback()


def test_cells_follow_every_kind_of_customer_change(demo):
    with demo() as s:
        assert _cells(s) == _rebuilt(s)  # as the demo left them
        ids = s.scalars(
            select(Customer.id)
            .where(Customer.pool_entered_on.is_not(None))
            .order_by(Customer.id)
            .limit(40)
        ).all()
        specialists = s.scalars(select(Specialist.id).order_by(Specialist.id)).all()
        first = s.get(Customer, ids[0])
        # Moves to another specialist and to none, a later pool entry, steps reached and
        # undone, a customer deleted and a new one added: each through a different route
        # (ORM unit of work, bulk UPDATE, INSERT, DELETE).
        first.specialist_id = specialists[-1]
        s.execute(update(Customer).where(Customer.id.in_(ids[1:10])).values(specialist_id=None))
        for c in s.scalars(select(Customer).where(Customer.id.in_(ids[10:20]))):
            c.pool_entered_on += timedelta(days=40)
        s.execute(
            update(Customer)
            .where(Customer.id.in_(ids[20:30]))
            .values(pre_sell_on=date(2026, 11, 1), soft_sell_on=None, cross_sell_on=None)
        )
        s.add(
            Customer(
                branch_id=first.branch_id,
                customer_no="NEW-1",
                name="新客户",
                address="x",
                specialist_id=specialists[0],
                pool_entered_on=date(2026, 2, 3),
                pre_sell_on=date(2026, 2, 10),
            )
        )
        s.flush()
        assert funnel_cells.pending(s)
        s.commit()
        assert not funnel_cells.pending(s)
        assert _cells(s) == _rebuilt(s)
        # A customer leaves the database altogether.
        s.execute(delete(Customer).where(Customer.customer_no == "NEW-1"))
        s.commit()
        assert _cells(s) == _rebuilt(s)
        # An update that touches no watched column logs nothing.
        s.execute(update(Customer).where(Customer.id == ids[0]).values(name="改名"))
        assert not funnel_cells.pending(s)
        s.rollback()


def test_a_migrated_database_gets_its_cells(tmp_path):
    """An existing database upgraded to the funnel cells has them filled when it is opened:
    ``migrate``, then the unit of work settles what the migration logged (app.opening)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        build_demo(s, size="small", seed=3, as_of=AS_OF)
    with Session() as s:
        expected = _cells(s)
    assert len(expected) > 100
    command.downgrade(alembic_config(engine), "0002")
    upgrade(engine)  # what opening a database (and griddesk init) runs
    with Session() as s:
        assert not funnel_cells.pending(s)
        assert _cells(s) == expected
    engine.dispose()


def test_migration_and_models_create_the_same_triggers(tmp_path):
    """Migration 0003 carries its own copy of the trigger text (a migration must not change
    when the models do); it must be the text the models create."""
    migration = load_migration("0003_funnel_month.py")
    assert trigger_statements("sqlite") == migration._SQLITE
    assert trigger_statements("postgresql") == migration._PG
    # And on a real file, create_all and the migrations leave the same triggers.
    triggers, migrated = sqlite_triggers(tmp_path, "funnel")
    assert len(triggers) == 3 and triggers == migrated


@pytest.mark.pg_only
def test_postgresql_has_the_statement_triggers(backend, _pg_engine):
    with _pg_engine.connect() as conn:
        body = conn.execute(
            text("SELECT prosrc FROM pg_proc WHERE proname = 'funnel_dirty_mark'")
        ).scalar()
        names = conn.scalars(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'customer'::regclass "
                "AND NOT tgisinternal AND tgname LIKE 'funnel%' ORDER BY tgname"
            )
        ).all()
    assert body and body.strip() in PG_FUNCTION
    assert names == [
        "funnel_dirty_customer_delete",
        "funnel_dirty_customer_insert",
        "funnel_dirty_customer_update",
    ]


def test_histograms_give_exact_medians_for_any_count_and_mark_days_out_of_range():
    rows = [(1, 7, "2025-01", 5, None, None, None)] * 70_000  # more customers than int16 holds
    rows += [(1, 7, "2025-01", 3, 4, None, None), (1, 7, "2025-01", 9, 10, None, None)]
    rows += [(1, 8, "2025-01", 12, 13, None, None)]
    cells = funnel_cells.build_cells(rows)
    table = [(1, c["counts"], c["days"]) for c in cells]
    totals, medians = funnel_cells._sum_cells(table, grouped=True)
    assert totals[1] == (70_003, (70_003, 3, 0, 0))
    assert medians[(1, 0)] == 5.0  # 70,000 fives, a 3, a 9 and a 12
    assert medians[(1, 1)] == 10.0  # 4, 10, 13
    (wide,) = funnel_cells.build_cells([(1, 9, "2025-01", 40_000, None, None, None)])
    assert wide["days"] == b""  # a day int16 cannot hold: the report reads the customers
    assert funnel_cells._sum_cells([(9, wide["counts"], wide["days"])], grouped=True) is None


def test_report_reads_customers_when_a_cell_holds_days_out_of_range(demo, monkeypatch):
    with demo() as s:
        in_2025 = Customer.pool_entered_on.between(date(2025, 1, 1), date(2025, 12, 31))
        cid = s.scalar(select(Customer.id).where(in_2025).limit(1))
        s.execute(update(Customer).where(Customer.id == cid).values(up_sell_on=date(2200, 1, 1)))
        s.commit()
        period = Period.parse("2025")
        assert not _answered_by_cells(s, cohort=period, by="specialist")
        assert _answered_by_cells(s, cohort=Period.parse("2026"), by="specialist")
        got = F.funnel_report(s, cohort=period, by="specialist")
        assert got == _from_customers(monkeypatch, s, cohort=period, by="specialist")
        assert max(r.median_days[3] or 0 for r in got) < 1000  # one outlier does not move a median
        s.execute(update(Customer).where(Customer.id == cid).values(up_sell_on=None))
        s.commit()


def test_two_transactions_settling_at_once_lose_nothing(backend, demo):
    """On the shared server, a commit whose settle overlaps another's waits for it, then reads
    the customers with the other's change: the cells end up as a rebuild writes them."""
    if backend != "postgresql":
        pytest.skip("one writer at a time on SQLite")
    with demo() as s:
        spec, month = s.execute(
            select(Customer.specialist_id, func.min(Customer.pool_entered_on))
            .where(Customer.specialist_id.is_not(None), Customer.pool_entered_on.is_not(None))
            .group_by(Customer.specialist_id)
            .limit(1)
        ).one()
        start = month.replace(day=1)
        end = Period.month(start.year, start.month).end
        same_cell = s.scalars(
            select(Customer.id).where(
                Customer.specialist_id == spec, Customer.pool_entered_on.between(start, end)
            )
        ).all()
        other = s.scalar(select(Specialist.id).where(Specialist.id != spec).limit(1))
    first = demo()
    first.execute(update(Customer).where(Customer.id == same_cell[0]).values(soft_sell_on=end))
    funnel_cells.settle(first)  # holds the settle lock until it commits
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with demo() as s2:
                s2.execute(
                    update(Customer).where(Customer.id == same_cell[-1]).values(specialist_id=other)
                )
                s2.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    with demo() as watcher:
        deadline = time.monotonic() + 30
        while not watcher.scalar(waiting):  # the second commit waits for the first's lock
            assert time.monotonic() < deadline and t.is_alive(), errors
            time.sleep(0.02)
            watcher.rollback()
    first.commit()
    first.close()
    t.join(timeout=60)
    assert not errors and not t.is_alive()
    with demo() as s:
        assert _cells(s) == _rebuilt(s)
        assert s.scalar(select(func.count()).select_from(FunnelDirty)) == 0


def test_a_report_whose_day_counts_would_not_fit_in_memory_reads_the_customers(demo, monkeypatch):
    period = Period.parse("2025")
    with demo() as s:
        expected = F.funnel_report(s, cohort=period, by="specialist")
        monkeypatch.setattr(funnel_cells, "DENSE_LIMIT", 1_000)
        assert not _answered_by_cells(s, cohort=period, by="specialist")
        assert F.funnel_report(s, cohort=period, by="specialist") == expected


@pytest.mark.parametrize("seed", range(6))
def test_medians_from_cells_equal_medians_of_the_days(seed):
    """Random cohorts: clustered and spread days, negative days, steps nobody reached, groups
    with one customer; every count and median equals the one taken from the days themselves."""
    rng = random.Random(seed)
    rows = []
    for _ in range(rng.randint(1, 3000)):
        spread = rng.choice((3, 40, 700, 5000))
        days = [rng.randint(-5, spread) if rng.random() < 0.7 else None for _ in range(4)]
        if rng.random() < 0.5:
            days[3] = None  # up-sell reached by few
        month = f"2025-{rng.randint(1, 12):02d}"
        rows.append((1, rng.choice((0, 3, 4, 9, 11, 12)), month, *days))
    cells = funnel_cells.build_cells(rows)
    table = [(c["specialist_key"], c["counts"], c["days"]) for c in cells]
    rng.shuffle(table)
    totals, medians = funnel_cells._sum_cells(table, grouped=True)
    for key in {r[1] for r in rows}:
        mine = [r for r in rows if r[1] == key]
        reached = tuple(sum(r[3 + s] is not None for r in mine) for s in range(4))
        assert totals[key] == (len(mine), reached)
        for s in range(4):
            days = [r[3 + s] for r in mine if r[3 + s] is not None]
            assert medians.get((key, s)) == (statistics.median(days) if days else None)


def test_the_medians_hold_at_branch_scale_and_with_days_far_apart():
    """200 groups over two years of days, and days tens of thousands apart: the sizes where
    the counts need 32-bit integers."""
    rng = random.Random(9)
    for spread, groups in ((700, 200), (30_000, 12)):
        rows = [
            (1, rng.randrange(groups), f"2025-{rng.randint(1, 12):02d}",
             *(rng.randint(-spread // 60, spread) if rng.random() < 0.6 else None
               for _ in range(4)))
            for _ in range(20_000)
        ]  # fmt: skip
        cells = funnel_cells.build_cells(rows)
        table = [(c["specialist_key"], c["counts"], c["days"]) for c in cells]
        found = funnel_cells._sum_cells(table, grouped=True)
        assert found is not None
        totals, medians = found
        days: dict[tuple[int, int], list[int]] = {}
        for r in rows:
            for step in range(4):
                if r[3 + step] is not None:
                    days.setdefault((r[1], step), []).append(r[3 + step])
        assert {k: statistics.median(v) for k, v in days.items()} == medians
        assert sum(t[0] for t in totals.values()) == len(rows)


def test_a_savepoint_leaves_the_settle_to_the_outer_commit(demo):
    with demo() as s:
        cid = s.scalar(select(Customer.id).where(Customer.pool_entered_on.is_not(None)).limit(1))
        with s.begin_nested():
            s.execute(update(Customer).where(Customer.id == cid).values(up_sell_on=AS_OF))
        assert funnel_cells.pending(s)  # released, not settled: no lock held yet
        s.commit()
        assert not funnel_cells.pending(s) and _cells(s) == _rebuilt(s)
        s.execute(update(Customer).where(Customer.id == cid).values(up_sell_on=None))
        s.commit()


def test_many_changes_in_one_branch_rewrite_that_branch_only(demo, monkeypatch):
    rebuilt_branches = []
    whole = funnel_cells.rebuild

    def spy(session, *, branch_ids=None):
        rebuilt_branches.append(branch_ids)
        whole(session, branch_ids=branch_ids)

    with demo() as s:
        main = s.scalar(select(Customer.branch_id).limit(1))
        other = Branch(code="OTHER", name="另一分公司", city="成都")
        s.add(other)
        s.flush()
        s.add_all(
            Customer(branch_id=other.id, customer_no=f"OB-{i}", name="客户", address="x",
                     pool_entered_on=date(2025, 1 + i % 12, 5), pre_sell_on=date(2025, 12, 20))
            for i in range(30)
        )  # fmt: skip
        s.commit()
        theirs = [c for c in _cells(s) if c[1] == other.id]
        assert len(theirs) == 12
        # More cells than a partial rewrite handles (on a small branch: lowered), all in the
        # main branch.
        monkeypatch.setattr(funnel_cells, "FULL_REBUILD_KEYS", 100)
        ids = s.scalars(select(Customer.id).where(Customer.branch_id == main)).all()
        s.execute(update(Customer).where(Customer.id.in_(ids)).values(up_sell_on=AS_OF))
        d = FunnelDirty
        stale = select(d.branch_id, d.specialist_key, d.entry_month).distinct().subquery()
        assert s.scalar(select(func.count()).select_from(stale)) > funnel_cells.FULL_REBUILD_KEYS
        monkeypatch.setattr(funnel_cells, "rebuild", spy)
        s.commit()
        assert rebuilt_branches == [{main}]
        monkeypatch.setattr(funnel_cells, "rebuild", whole)
        assert _cells(s) == _rebuilt(s)
        assert [c for c in _cells(s) if c[1] == other.id] == theirs


@pytest.mark.pg_only
def test_postgresql_transactions_read_committed_whatever_the_server_default(backend, pg_server_url):
    """The settle's lock relies on each statement seeing what others committed before it."""
    options = {"options": "-c default_transaction_isolation=serializable"}
    engine = make_engine(pg_server_url, connect_args=options)
    with engine.connect() as conn:
        assert conn.scalar(text("SHOW transaction_isolation")) == "read committed"
    engine.dispose()
