"""Offline snapshots: the branch copied into a read-only SQLite file, scoped, all or nothing."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from datetime import date, datetime, timezone

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.db import alembic_config, make_engine
from app.models import (
    AssignmentEvent,
    Base,
    Branch,
    Customer,
    Grid,
    Policy,
    PremiumDue,
    Specialist,
    Task,
    Team,
    User,
)
from app.models.enums import AssignmentReason, PaymentMode, PolicyStatus, Role, TaskKind
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.files.snapshot import (
    NO_PASSWORD,
    SnapshotError,
    plan_snapshot,
    snapshot_meta,
    snapshot_user,
    take_snapshot,
)
from app.services.metrics import funnel_cells
from app.services.metrics.funnel import funnel_report
from app.services.people.auth import UserInfo, hash_password, user_info
from app.services.periods import Period
from app.services.progress import Cancelled

SQUARE = '{"type":"Polygon","coordinates":[[[104,30],[104.1,30],[104.1,30.1],[104,30.1],[104,30]]]}'


@pytest.fixture
def branch(session):
    b = Branch(code="cd", name="成都分公司", city="成都")
    other = Branch(code="cq", name="重庆分公司", city="重庆")
    session.add_all([b, other])
    session.flush()
    teams = [Team(branch_id=b.id, code=f"T{i}", name=f"{i}队") for i in (1, 2)]
    session.add_all(teams)
    session.flush()
    sps = [
        Specialist(branch_id=b.id, employee_no=f"E{i}", name=f"专员{i}", team_id=teams[i - 1].id)
        for i in (1, 2)
    ]
    session.add_all(sps)
    session.flush()
    grid = Grid(
        branch_id=b.id,
        code="G1",
        name="网格一",
        geometry=SQUARE,
        min_lon=104,
        min_lat=30,
        max_lon=104.1,
        max_lat=30.1,
        centroid_lon=104.05,
        centroid_lat=30.05,
        owner_id=sps[0].id,
    )
    session.add(grid)
    session.flush()
    for n in range(6):
        sp = sps[n % 2]
        c = Customer(
            branch_id=b.id,
            customer_no=f"C{n}",
            name=f"客户{n}",
            phone="13812345678",
            address="春熙路",
            grid_id=grid.id,
            specialist_id=sp.id,
        )
        session.add(c)
        session.flush()
        p = Policy(
            policy_no=f"P{n}",
            customer_id=c.id,
            issue_date=date(2023, 1, 1),
            payment_mode=PaymentMode.ANNUAL,
            modal_premium_fen=100_000,
            status=PolicyStatus.IN_FORCE,
        )
        session.add(p)
        session.flush()
        session.add(
            PremiumDue(
                policy_id=p.id,
                policy_year=2,
                due_date=date(2024, 1, 1),
                amount_due_fen=100_000,
                amount_received_fen=100_000,
                received_on=date(2024, 1, 5),
            )
        )
        session.add(
            Task(
                task_no=f"T{n}",
                kind=TaskKind.PRE_SELL,
                customer_id=c.id,
                specialist_id=sp.id,
                created_at=datetime(2024, 1, 1, tzinfo=timezone.utc),
            )
        )
    oc = Customer(branch_id=other.id, customer_no="X1", name="外地", address="解放碑")
    session.add(oc)
    for login, role, team in (
        ("senior", Role.SENIOR_SUPERVISOR, None),
        ("sup", Role.SUPERVISOR, teams[0]),
        ("sup2", Role.SUPERVISOR, teams[1]),
        ("analyst", Role.ANALYST, None),
    ):
        u = User(
            branch_id=b.id,
            login=login,
            display_name=login,
            role=role,
            password_hash=hash_password("pw"),
        )
        u.teams = [team] if team is not None else []
        session.add(u)
    sps[0].phone, sps[1].phone = "13900000001", "13900000002"
    c0 = session.scalars(select(Customer).where(Customer.customer_no == "C0")).one()
    c0.id_number = "510104199001011234"
    # C0 (team 1) was served by 专员2 of team 2 before: team 1's copy names that person.
    session.add(
        AssignmentEvent(
            customer_id=c0.id,
            from_specialist_id=sps[1].id,
            to_specialist_id=sps[0].id,
            reason=AssignmentReason.MANUAL,
            actor="senior",
            at=datetime(2023, 6, 1, tzinfo=timezone.utc),
        )
    )
    session.commit()
    return {"branch": b, "teams": teams}


def _user(engine, login: str) -> UserInfo:
    with session_factory(engine)() as s:
        return user_info(s.scalars(select(User).where(User.login == login)).one())


def _count(Session, model):  # noqa: N803
    with Session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_snapshot_copies_the_branch_and_opens_read_only(engine, branch, tmp_path):
    target = tmp_path / "offline.sqlite"
    plan = plan_snapshot(engine, branch_id=branch["branch"].id, user=_user(engine, "senior"))
    assert plan.rows["customer"] == 6 and plan.rows["premium_due"] == 6
    assert plan.estimated_bytes > 0
    result = take_snapshot(
        engine, target, branch_id=branch["branch"].id, user=_user(engine, "senior")
    )
    assert result.rows == plan.rows
    ro = make_engine(f"sqlite:///{target}", read_only=True)
    Session = session_factory(ro)
    assert _count(Session, Customer) == 6  # the other branch's customer stays behind
    assert _count(Session, Branch) == 1
    assert _count(Session, Task) == 6
    with Session() as s:
        assert s.scalar(select(Customer.phone).limit(1)) == "13812345678"
        assert s.scalar(select(PremiumDue.received_on).limit(1)) == date(2024, 1, 5)
    meta = snapshot_meta(ro)
    assert meta is not None and meta.taken_by == "senior"
    assert "password" not in meta.source
    with pytest.raises(OperationalError), Session() as s, s.begin():
        s.execute(Customer.__table__.delete())
    ro.dispose()


def test_team_scoped_snapshot_holds_only_that_teams_customers(engine, branch, tmp_path):
    target = tmp_path / "team.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, "sup"))
    ro = make_engine(f"sqlite:///{target}", read_only=True)
    Session = session_factory(ro)
    with Session() as s:
        nos = s.scalars(select(Customer.customer_no).order_by(Customer.customer_no)).all()
        assert nos == ["C0", "C2", "C4"]
        assert s.scalar(select(func.count()).select_from(Task)) == 3
    ro.dispose()


def test_live_database_is_not_a_snapshot(engine):
    assert snapshot_meta(engine) is None


def test_cancelled_snapshot_leaves_no_file(engine, branch, tmp_path):
    class CancelSoon:
        calls = 0

        def report(self, fraction, step=None):
            pass

        def cancelled(self):
            self.calls += 1
            return self.calls > 2

    out = tmp_path / "out"
    out.mkdir()
    target = out / "never.sqlite"
    with pytest.raises(Cancelled):
        take_snapshot(engine, target, branch_id=branch["branch"].id, user=None, state=CancelSoon())
    assert list(out.iterdir()) == []


def test_snapshot_schema_matches_the_models(engine, branch, tmp_path):
    target = tmp_path / "s.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=None)
    ro = make_engine(f"sqlite:///{target}", read_only=True)
    from sqlalchemy import inspect

    assert set(Base.metadata.tables) <= set(inspect(ro).get_table_names())
    ro.dispose()


def test_team_snapshot_reports_persistency_of_that_team_only(engine, session, branch, tmp_path):
    from app.services.metrics.base_table import refresh_persistency_base
    from app.services.metrics.persistency import persistency_report
    from app.services.periods import Period

    refresh_persistency_base(session)
    session.commit()
    kw = {"period": Period.parse("2024"), "as_of": date(2026, 1, 1)}
    (whole,) = persistency_report(session, **kw)
    assert whole.policies == 6
    target = tmp_path / "team.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, "sup"))
    ro = make_engine(f"sqlite:///{target}", read_only=True)
    with session_factory(ro)() as s:
        (mine,) = persistency_report(s, **kw)
        by_specialist = persistency_report(s, by="specialist", **kw)
    ro.dispose()
    # The monthly cells were written from the team's own rows, not copied from the branch.
    assert (mine.policies, mine.persisting_policies, mine.premium_due_fen) == (3, 3, 300_000)
    assert [(r.group, r.policies) for r in by_specialist] == [("E1 专员1", 3)]


def test_snapshots_report_the_funnel_and_older_ones_still_open(engine, session, branch, tmp_path):
    """A snapshot's funnel comes from the cells written when it was taken; one taken before
    the cells existed (schema 0002) still signs in (a commit) and reports from the customers."""
    mine = session.scalars(
        select(Customer).where(Customer.branch_id == branch["branch"].id).order_by(Customer.id)
    ).all()
    for i, c in enumerate(mine):
        c.pool_entered_on = date(2024, 1 + i % 3, 10)
        c.pre_sell_on = date(2024, 4, 1) if i % 2 else None
    session.commit()
    target = tmp_path / "offline.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, "senior"))
    q1 = Period.parse("2024-Q1")
    scope = {"by": "specialist", "branch_id": None, "team_ids": None, "specialist_ids": None}

    def report() -> list:
        ro = make_engine(f"sqlite:///{target}", read_only=True)
        Session = session_factory(ro)  # noqa: N806
        with Session() as s, s.begin():  # as signing in does
            assert s.scalar(select(func.count()).select_from(Customer)) == 6
        with Session() as s:
            cells = funnel_cells.aggregate(s, cohort=q1, **scope)
            rows = funnel_report(s, cohort=q1, by="specialist")
        ro.dispose()
        return [cells is not None, rows]

    from_cells, rows = report()
    assert from_cells
    assert sum(r.cohort_size for r in rows) == 6 and sum(r.reached[0] for r in rows) == 3
    writable = make_engine(f"sqlite:///{target}")
    command.downgrade(alembic_config(writable), "0002")
    writable.dispose()
    assert report() == [False, rows]


def _open(target):
    ro = make_engine(f"sqlite:///{target}", read_only=True)
    return ro, session_factory(ro)


def test_an_analysts_copy_is_masked_and_keeps_no_password(engine, branch, tmp_path):
    target = tmp_path / "analyst.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, "analyst"))
    ro, Session = _open(target)  # noqa: N806
    with Session() as s:
        phones = set(s.scalars(select(Customer.phone)))
        ids = set(s.scalars(select(Customer.id_number).where(Customer.id_number.is_not(None))))
        users = s.execute(select(User.login, User.password_hash)).all()
    assert phones == {"138****5678"}
    assert ids == {"510104********1234"}
    assert users == [("analyst", NO_PASSWORD)]  # nobody else, and no hash of anybody
    opens_as = snapshot_user(ro)
    assert opens_as is not None and (opens_as.login, opens_as.role) == ("analyst", Role.ANALYST)
    ro.dispose()


def test_a_senior_supervisors_copy_shows_contact_data_but_keeps_no_password(
    engine, branch, tmp_path
):
    target = tmp_path / "senior.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, "senior"))
    ro, Session = _open(target)  # noqa: N806
    with Session() as s:
        assert set(s.scalars(select(Customer.phone))) == {"13812345678"}
        assert s.execute(select(User.login, User.password_hash)).all() == [("senior", NO_PASSWORD)]
    ro.dispose()


def test_a_team_copy_holds_the_team_and_only_names_others(engine, branch, tmp_path):
    target = tmp_path / "team.sqlite"
    sup = _user(engine, "sup")
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=sup)
    ro, Session = _open(target)  # noqa: N806
    with Session() as s:
        people = dict(s.execute(select(Specialist.employee_no, Specialist.phone)).all())
        teams = set(s.scalars(select(Team.code)))
        users = s.scalars(select(User.login)).all()
        user_teams = s.execute(select(Base.metadata.tables["user_team"])).all()
    # 专员2 (team 2) is in the copy only because C0's history names them, without a phone.
    assert people == {"E1": "13900000001", "E2": None}
    assert teams == {"T1", "T2"}
    assert users == ["sup"] and len(user_teams) == 1
    assert snapshot_user(ro).team_ids == sup.team_ids
    ro.dispose()


def test_a_supervisor_cannot_copy_another_team(engine, branch, tmp_path):
    other = branch["teams"][1].id
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SnapshotError, match="only your own teams"):
        take_snapshot(
            engine,
            out / "x.sqlite",
            branch_id=branch["branch"].id,
            user=_user(engine, "sup"),
            team_ids=[other],
        )
    assert list(out.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_copy_is_readable_by_its_owner_only_and_killed_leftovers_go(engine, branch, tmp_path):
    # What a killed run leaves: a temporary copy named for a process that no longer exists.
    dead = _dead_pid()
    folder = tmp_path / "out"
    folder.mkdir()
    host = "".join(ch for ch in socket.gethostname() if ch.isalnum())[:32]
    leftover = folder / f".offline.sqlite.abc123.{dead}-{host}.griddesk-partial"
    leftover.write_bytes(b"customer data")
    (folder / (leftover.name + "-journal")).write_bytes(b"more")
    target = folder / "offline.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, "senior"))
    assert sorted(p.name for p in folder.iterdir()) == ["offline.sqlite"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def _dead_pid() -> int:
    """Return the id of a process that has just ended."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_a_team_copy_masks_phones_in_the_texts_it_keeps(engine, branch, session, tmp_path):
    from app.models import Notification

    c0 = session.scalars(select(Customer).where(Customer.customer_no == "C0")).one()
    session.add(
        Notification(
            customer_id=c0.id,
            template="specialist_change",
            body="您的保单服务人员已变更为社区网格专员专员2（电话13900000002），感谢您的信任。",
        )
    )
    session.commit()
    target = tmp_path / "team.sqlite"
    take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, "sup"))
    ro, Session = _open(target)  # noqa: N806
    with Session() as s:
        (body,) = s.scalars(select(Notification.body)).all()
    ro.dispose()
    assert "13900000002" not in body and "139****0002" in body


def test_a_copy_holds_the_scenarios_kept_within_its_scope(engine, branch, tmp_path):
    from app.models import Scenario

    teams = branch["teams"]
    with session_factory(engine)() as s, s.begin():
        for name, team in (("一队方案", teams[0]), ("二队方案", teams[1]), ("全分公司", None)):
            s.add(
                Scenario(
                    branch_id=branch["branch"].id,
                    team_id=team.id if team is not None else None,
                    name=name,
                    author="senior",
                    plan="{}",
                )
            )
    copies = {}
    for login in ("senior", "sup"):
        target = tmp_path / f"{login}.sqlite"
        take_snapshot(engine, target, branch_id=branch["branch"].id, user=_user(engine, login))
        ro = make_engine(f"sqlite:///{target}", read_only=True)
        with session_factory(ro)() as s:
            copies[login] = set(s.scalars(select(Scenario.name)))
        ro.dispose()
    assert copies == {"senior": {"一队方案", "二队方案", "全分公司"}, "sup": {"一队方案"}}
