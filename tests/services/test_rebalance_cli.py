"""`griddesk rebalance propose/apply/undo` on a migrated SQLite file.

Three square grids in a row: 王芳 (E1) owns G1 (3 customers) and G2 (2), 李强 (E2) owns G3 (1).
The best single move gives G2 to 李强: workloads 5 and 1 become 3 and 3.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, update

from app.cli import main
from app.db import make_engine, migrate
from app.models import Branch, Customer, Grid, Specialist, Team
from app.services.database.unit_of_work import sessionmaker as session_factory


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    url = f"sqlite:///{tmp_path / 'branch.db'}"
    engine = make_engine(url)
    migrate(engine)
    with session_factory(engine)() as s, s.begin():
        b = Branch(code="CD", name="成都分公司", city="成都")
        s.add(b)
        s.flush()
        team = Team(branch_id=b.id, code="T1", name="一队")
        s.add(team)
        s.flush()
        people = [
            Specialist(branch_id=b.id, employee_no=no, name=name, team_id=team.id)
            for no, name in (("E1", "王芳"), ("E2", "李强"))
        ]
        s.add_all(people)
        s.flush()
        for i, (owner, n) in enumerate(((people[0], 3), (people[0], 2), (people[1], 1))):
            ring = [[i, 0], [i + 1, 0], [i + 1, 1], [i, 1], [i, 0]]
            grid = Grid(
                branch_id=b.id,
                code=f"G{i + 1}",
                name=f"网格{i + 1}",
                geometry=json.dumps({"type": "Polygon", "coordinates": [ring]}),
                min_lon=i,
                min_lat=0,
                max_lon=i + 1,
                max_lat=1,
                centroid_lon=i + 0.5,
                centroid_lat=0.5,
                owner_id=owner.id,
            )
            s.add(grid)
            s.flush()
            s.add_all(
                Customer(
                    branch_id=b.id,
                    customer_no=f"C{i + 1}{k}",
                    name="张三",
                    address="成都",
                    grid_id=grid.id,
                    specialist_id=owner.id,
                )
                for k in range(n)
            )
    yield url, session_factory(engine)
    engine.dispose()


def owners(Session) -> dict[str, str]:  # noqa: N803
    with Session() as s:
        rows = s.execute(
            select(Grid.code, Specialist.employee_no).join(
                Specialist, Specialist.id == Grid.owner_id
            )
        ).all()
        return dict(rows)


def test_propose_apply_undo_from_the_command_line(db, tmp_path, capsys):
    url, Session = db  # noqa: N806
    plan = tmp_path / "plan.json"
    args = ["rebalance", "propose", "--as-of", "2024-06-30", "--max-moves", "1"]
    assert main(["--db", url, *args, "--out", str(plan)]) == 0
    out = capsys.readouterr().out
    assert "1 moves (1 grids, 0 customers)" in out
    assert "largest workload 5.0 -> 3.0" in out
    moves = json.loads(plan.read_text(encoding="utf-8"))["moves"]
    assert [(m["grid_code"], m["from"], m["to"]) for m in moves] == [("G2", "E1", "E2")]

    assert main(["--db", url, "rebalance", "apply", str(plan)]) == 0
    assert (
        "1 grids, 2 customers and 0 open tasks moved; SMS: 2 queued, 0 replaced, 0 withdrawn"
        in capsys.readouterr().out
    )
    assert owners(Session) == {"G1": "E1", "G2": "E2", "G3": "E2"}
    with Session() as s:
        served = s.execute(
            select(Customer.customer_no, Specialist.employee_no).join(
                Specialist, Specialist.id == Customer.specialist_id
            )
        ).all()
        assert sorted(no for no, who in served if who == "E2") == ["C20", "C21", "C30"]

    # The same plan again is out of date: refused, with what changed, exit status 1.
    assert main(["--db", url, "rebalance", "apply", str(plan)]) == 1
    err = capsys.readouterr().err
    assert "grid G2 was reassigned to 李强 (E2) by cli" in err
    assert "Traceback" not in err

    assert main(["--db", url, "rebalance", "undo"]) == 0
    assert "1 grids, 2 customers and 0 open tasks back" in capsys.readouterr().out
    assert owners(Session) == {"G1": "E1", "G2": "E1", "G3": "E2"}
    assert main(["--db", url, "rebalance", "undo"]) == 1
    assert "there is no rebalance to undo" in capsys.readouterr().err


def test_bad_scope_and_bad_plan_file_are_reported(db, tmp_path, capsys):
    url, _ = db
    out = str(tmp_path / "p.json")
    assert main(["--db", url, "rebalance", "propose", "--scope", "team:XX", "--out", out]) == 1
    assert "no team with code 'XX' in this branch" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2", encoding="utf-8")
    assert main(["--db", url, "rebalance", "apply", str(bad)]) == 1
    assert f"{bad}: not valid JSON" in capsys.readouterr().err


def test_weights_come_from_the_option_else_from_the_settings(db, tmp_path, capsys):
    from app.services.rebalance.workload import Weights
    from app.settings import Preferences

    url, _ = db
    plan = str(tmp_path / "plan.json")
    args = ["--db", url, "rebalance", "propose", "--as-of", "2024-06-30", "--out", plan]
    assert main([*args, "--weights", "2,0.5,1"]) == 0
    assert "largest workload 10.0 -> 6.0" in capsys.readouterr().out

    Preferences().workload_weights = Weights(customer=3.0)  # saved in the app's settings
    assert main(args) == 0
    assert "largest workload 15.0 -> 9.0" in capsys.readouterr().out

    with pytest.raises(SystemExit) as bad:
        main([*args, "--weights", "1,x,1"])
    assert bad.value.code == 2
    assert "'1,x,1' is not three numbers" in capsys.readouterr().err


def test_propose_writes_the_trade_off_as_one_plan_file_per_point(db, tmp_path, capsys):
    url, _Session = db  # noqa: N806
    out = tmp_path / "plan.json"
    args = ["rebalance", "propose", "--as-of", "2024-06-30", "--frontier", "--out", str(out)]
    assert main(["--db", url, *args]) == 0
    printed = capsys.readouterr().out
    files = sorted(tmp_path.glob("plan-*.json"))
    assert files and not out.exists()
    for i, path in enumerate(files, 1):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert str(path) in printed
        assert data["move_costs"]["by_step"] == [1, 2, 4, 8, 8]
        assert data["summary"]["customers_moved"] == sum(m["customers"] for m in data["moves"])
        assert f"{i:>2}" in printed
    assert "recommended" in printed


def test_move_costs_and_pick_are_checked(db, tmp_path, capsys):
    url, _Session = db  # noqa: N806
    out = str(tmp_path / "plan.json")
    base = ["--db", url, "rebalance", "propose", "--as-of", "2024-06-30", "--out", out]
    with pytest.raises(SystemExit):
        main([*base, "--move-costs", "1,2"])
    assert "five costs" in capsys.readouterr().err
    assert main([*base, "--pick", "sideways"]) == 1
    assert "--pick must be knee" in capsys.readouterr().err
    assert main([*base, "--move-costs", "1,1,1,1,1", "--pick", "balance"]) == 0
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["move_costs"]["by_step"] == [1, 1, 1, 1, 1]


def test_history_lists_batches_and_undo_takes_a_batch_number(db, tmp_path, capsys):
    url, Session = db  # noqa: N806
    plan = tmp_path / "plan.json"
    propose = ["rebalance", "propose", "--as-of", "2024-06-30", "--max-moves", "1"]
    assert main(["--db", url, *propose, "--out", str(plan)]) == 0
    assert main(["--db", url, "rebalance", "apply", str(plan)]) == 0
    capsys.readouterr()
    assert main(["--db", url, "history"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if "can be undone" in row)
    batch = line.split()[0]
    assert "rebalance" in line
    assert main(["--db", url, "undo", batch]) == 0
    assert f"change batch {batch} undone" in capsys.readouterr().out
    assert owners(Session) == {"G1": "E1", "G2": "E1", "G3": "E2"}
    assert main(["--db", url, "history"]) == 0
    assert "undone by cli" in capsys.readouterr().out


def test_propose_says_by_how_much_capacity_falls_short(db, tmp_path, capsys):
    url, Session = db  # noqa: N806
    with Session() as s, s.begin():
        s.execute(update(Specialist).values(capacity=2))  # 6 customers for 4 places
    plan = tmp_path / "plan.json"
    args = ["rebalance", "propose", "--as-of", "2024-06-30", "--out", str(plan)]
    assert main(["--db", url, *args]) == 0
    out = capsys.readouterr().out
    # Each ends at 3 customers, 1.5 x capacity: G2 goes to 李强.
    assert "capacity falls short by 2 customers in total" in out
    moves = json.loads(plan.read_text(encoding="utf-8"))["moves"]
    assert [(m["grid_code"], m["from"], m["to"]) for m in moves] == [("G2", "E1", "E2")]


def test_propose_keeps_customers_from_a_step_on_and_says_how_many(db, tmp_path, capsys):
    url, Session = db  # noqa: N806
    with Session() as s, s.begin():
        s.execute(update(Customer).where(Customer.customer_no.in_(["C20", "C10"])).values(step=2))
    plan = tmp_path / "plan.json"
    args = ["rebalance", "propose", "--as-of", "2024-06-30", "--max-moves", "1"]
    assert main(["--db", url, *args, "--keep-from-step", "2", "--out", str(plan)]) == 0
    out = capsys.readouterr().out
    assert "2 customers at 4-sell step 2 or beyond kept with their specialist" in out
    data = json.loads(plan.read_text(encoding="utf-8"))
    assert data["keep_from_step"] == 2
    assert main(["--db", url, "rebalance", "apply", str(plan)]) == 0
    with Session() as s:
        served = dict(
            s.execute(
                select(Customer.customer_no, Specialist.employee_no).join(
                    Specialist, Specialist.id == Customer.specialist_id
                )
            ).all()
        )
    assert served["C20"] == served["C10"] == "E1"  # kept, wherever their grid went
    with pytest.raises(SystemExit):
        main(["--db", url, *args, "--keep-from-step", "5", "--out", str(plan)])
    assert "invalid choice: 5" in capsys.readouterr().err


def test_scenarios_are_kept_listed_compared_applied_and_refused_once_overtaken(
    db, tmp_path, capsys
):
    url, Session = db  # noqa: N806
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    base = ["--db", url, "rebalance", "propose", "--as-of", "2024-06-30"]
    assert main([*base, "--max-moves", "1", "--out", str(one)]) == 0
    assert main([*base, "--max-moves", "1", "--pick", "balance", "--out", str(two)]) == 0
    assert main(["--db", url, "rebalance", "keep", str(one), "--name", "一号方案"]) == 0
    assert '"一号方案" (1 moves, 2 customers moved)' in capsys.readouterr().out
    assert main(["--db", url, "rebalance", "keep", str(two), "--name", "二号方案"]) == 0
    assert main(["--db", url, "rebalance", "keep", str(two), "--name", "二号方案"]) == 1
    assert 'a scenario named "二号方案" exists already' in capsys.readouterr().err

    assert main(["--db", url, "rebalance", "scenarios"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split()[:3] == ["name", "kept", "by"]
    assert [line.split()[0] for line in listed[2:]] == ["二号方案", "一号方案"]
    assert "at most 1 moves" in listed[2] and "5.0 -> 3.0" in listed[2]

    assert main(["--db", url, "rebalance", "compare", "一号方案"]) == 0
    out = capsys.readouterr().out
    assert "一号方案 (as of 2024-06-30) against today" in out
    assert "customers moved                    2      0" in out
    assert "王芳 (E1)   T1         400                    3   3.0                 5   5.0" in out
    assert "1 grids whose owner differs:" in out
    assert "G2    王芳      李强" not in out  # the scenario's owner first
    assert "G2    李强      王芳" in out

    assert main(["--db", url, "rebalance", "apply", "--scenario", "一号方案"]) == 0
    assert 'scenario "一号方案": applied as change batch' in capsys.readouterr().out
    assert owners(Session) == {"G1": "E1", "G2": "E2", "G3": "E2"}
    # The second was made on the same assignments: its move was overtaken.
    assert main(["--db", url, "rebalance", "apply", "--scenario", "二号方案"]) == 1
    assert "grid G2 was reassigned to 李强 (E2) by cli" in capsys.readouterr().err
    assert main(["--db", url, "rebalance", "apply", "--scenario", "三号"]) == 1
    assert 'there is no scenario named "三号"' in capsys.readouterr().err
    assert main(["--db", url, "rebalance", "delete", "二号方案"]) == 0
    assert 'scenario "二号方案" deleted' in capsys.readouterr().out
    assert main(["--db", url, "rebalance", "scenarios"]) == 0
    assert "二号方案" not in capsys.readouterr().out


def test_a_plan_scheduled_for_a_later_day_waits_then_is_released_or_cancelled(db, tmp_path, capsys):
    from datetime import date, timedelta

    from app.models import Notification, ScheduledPlan

    url, Session = db  # noqa: N806
    plan = tmp_path / "plan.json"
    args = ["rebalance", "propose", "--as-of", "2024-06-30", "--max-moves", "1"]
    assert main(["--db", url, *args, "--out", str(plan)]) == 0
    later = (date.today() + timedelta(days=40)).isoformat()
    apply = ["--db", url, "rebalance", "apply", str(plan), "--effective-on", later]
    assert main(apply) == 0
    assert f"scheduled as plan 1, to take effect on {later}" in capsys.readouterr().out
    assert owners(Session) == {"G1": "E1", "G2": "E1", "G3": "E2"}  # nobody moved yet
    assert main(apply) == 1  # the same grids twice
    assert "moves some of the same grids" in capsys.readouterr().err
    # Cancelled before its day, it never applies.
    assert main(["--db", url, "rebalance", "cancel", "1"]) == 0
    assert f"scheduled plan 1 (from {later}) cancelled" in capsys.readouterr().out
    assert main(["--db", url, "rebalance", "cancel", "1"]) == 1
    assert "cancelled already" in capsys.readouterr().err

    assert main(apply) == 0
    capsys.readouterr()
    assert main(["--db", url, "rebalance", "release"]) == 0
    assert "no scheduled plan is due" in capsys.readouterr().out
    assert main(["--db", url, "rebalance", "scheduled"]) == 0
    listed = capsys.readouterr().out
    assert f"   2  {later}  scheduled" in listed and f"   1  {later}  cancelled" in listed

    with Session() as s, s.begin():  # the day has come
        s.execute(update(ScheduledPlan).values(effective_on=date(2024, 7, 1)))
    assert main(["--db", url, "rebalance", "release"]) == 0
    assert "scheduled plan 2 (from 2024-07-01): applied as change batch" in (
        capsys.readouterr().out
    )
    assert owners(Session) == {"G1": "E1", "G2": "E2", "G3": "E2"}
    with Session() as s:
        assert len(s.scalars(select(Notification)).all()) == 2
