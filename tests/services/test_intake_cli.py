"""The intake and outbox commands: `griddesk intake --agent CODE`, `griddesk outbox ...`."""

from __future__ import annotations

import argparse
import json
from datetime import date

import pytest
from sqlalchemy import select

from app.cli import CommandError, cmd_intake, cmd_outbox
from app.db import make_engine, migrate
from app.models import Branch, Customer, DepartedAgent, Grid, Notification, Policy, Specialist, Team
from app.models.enums import NotificationStatus, PaymentMode, PolicyStatus
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.exports.scope import ScopeError


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    url = f"sqlite:///{tmp_path / 'branch.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine)() as s, s.begin():
        b = Branch(code="CD", name="XX人寿成都分公司", city="成都")
        s.add(b)
        s.flush()
        team = Team(branch_id=b.id, code="T1", name="一队")
        s.add(team)
        s.flush()
        wang = Specialist(
            branch_id=b.id, employee_no="E1", name="王芳", phone="13800005678", team_id=team.id
        )
        s.add(wang)
        s.flush()
        ring = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
        s.add(
            Grid(
                branch_id=b.id,
                code="A",
                name="A",
                geometry=json.dumps({"type": "Polygon", "coordinates": [ring]}),
                communities=json.dumps(["春熙路"], ensure_ascii=False),
                min_lon=0,
                min_lat=0,
                max_lon=1,
                max_lat=1,
                centroid_lon=0.5,
                centroid_lat=0.5,
                owner_id=wang.id,
            )
        )
        agent = DepartedAgent(
            branch_id=b.id, agent_code="AG1", name="周杰", left_on=date(2024, 3, 1)
        )
        s.add(agent)
        s.flush()
        for no, address in (("C1", "春熙路1号"), ("C2", "无名小区")):
            c = Customer(
                branch_id=b.id,
                customer_no=no,
                name="张三",
                phone="13900001111",
                address=address,
                agent_id=agent.id,
            )
            s.add(c)
            s.flush()
            s.add(
                Policy(
                    policy_no=f"P-{no}",
                    customer_id=c.id,
                    issue_date=date(2023, 1, 1),
                    payment_mode=PaymentMode.ANNUAL,
                    modal_premium_fen=100_000,
                    status=PolicyStatus.IN_FORCE,
                )
            )
    engine.dispose()
    return url


def test_intake_command_prints_the_counts_and_is_idempotent(db, capsys):
    assert cmd_intake(argparse.Namespace(db=db, agent="AG1", date=None)) == 0
    out = capsys.readouterr().out
    assert "2 customers entered" in out
    assert "matched by point 0, by address 1, by rule 0; unmatched 1" in out
    assert (
        "SMS: 2 queued, 0 replaced, 0 withdrawn; 2 tasks created; 0 customers with no policy in force left out"
        in out
    )
    assert cmd_intake(argparse.Namespace(db=db, agent="AG1", date=None)) == 0
    assert "0 customers entered (2 already in the pool)" in capsys.readouterr().out


def test_outbox_commands_export_and_read_results(db, tmp_path, capsys):
    cmd_intake(argparse.Namespace(db=db, agent="AG1", date=None))
    out_file = tmp_path / "outbox.csv"
    args = argparse.Namespace(
        db=db, action="export", out=str(out_file), status="queued", branch=None
    )
    assert cmd_outbox(args) == 0
    assert "2 queued messages written" in capsys.readouterr().out
    first_id = out_file.read_text(encoding="utf-8-sig").splitlines()[1].split(",")[0]
    results = tmp_path / "results.csv"
    results.write_text(f"message_id,status\n{first_id},成功\n77777,失败\n", encoding="utf-8")
    assert cmd_outbox(argparse.Namespace(db=db, action="import", file=str(results))) == 0
    assert "2 results read, 1 sent, 0 failed, 1 unknown message ids ignored" in (
        capsys.readouterr().out
    )
    engine = make_engine(db)
    with session_factory(engine)() as s:
        statuses = sorted(s.scalars(select(Notification.status)))
    engine.dispose()
    # One message sent; the other was handed to the gateway, whose result has not come back.
    assert statuses == [NotificationStatus.EXPORTED, NotificationStatus.SENT]
    with pytest.raises(ScopeError, match="no branch with code 'XX'"):
        cmd_outbox(
            argparse.Namespace(
                db=db, action="export", out=str(out_file), status="queued", branch="XX"
            )
        )


def test_outside_coverage_commands_mark_list_and_restore(db, capsys):
    from app.cli.intake import REASON_CODES
    from app.services.intake.coverage import REASONS

    assert REASON_CODES == REASONS
    cmd_intake(argparse.Namespace(db=db, agent="AG1", date=None))
    capsys.readouterr()

    def run(action, *customers, **kw):
        args = dict(db=db, agent=None, date=None, action=action, customers=list(customers))
        args.update(outside_coverage=False, reason=None, note="", format="csv")
        args.update(kw)
        return cmd_intake(argparse.Namespace(**args))

    assert run("unmatched") == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("C2,张三,无名小区")
    with pytest.raises(CommandError, match="no customer C9 in this branch"):
        run("outside", "C2", "C9", reason="incomplete")
    with pytest.raises(CommandError, match="--reason"):
        run("outside", "C2")
    assert run("outside", "C2", reason="other", note="待核实") == 0
    assert "1 addresses marked outside coverage (other)" in capsys.readouterr().out
    run("unmatched")
    assert capsys.readouterr().out.splitlines() == [
        "customer_no,name,address,days_waiting,suggested_grids"
    ]
    run("unmatched", outside_coverage=True)
    row = capsys.readouterr().out.splitlines()[1].split(",")
    assert row[:7] == ["C2", "张三", "无名小区", "", "other", "待核实", "cli"]
    assert run("restore", "C2") == 0
    assert "1 addresses put back in the unmatched queue" in capsys.readouterr().out
    run("unmatched", outside_coverage=True)
    assert len(capsys.readouterr().out.splitlines()) == 1
    assert run("rematch") == 0
    assert "0 customers without a grid were matched" in capsys.readouterr().out


def test_intake_help_lists_the_outside_coverage_actions(capsys):
    from app.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser()[0].parse_args(["intake", "--help"])
    out = capsys.readouterr().out
    assert "--outside-coverage" in out and "no_grid_district" in out and "restore" in out
