"""Every kind of exchange file imports from CSV and from XLSX into what the screens read, and a
re-import updates rows by their key instead of adding them again."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import select
from test_import_support import (
    ID_OK,
    ID_OK_2,
    count,
    make_branch,
    square,
    write_geojson,
    write_table,
)

from app.models import (
    AssignmentEvent,
    Branch,
    Customer,
    DepartedAgent,
    Grid,
    PersistencyBase,
    Policy,
    PremiumDue,
    Specialist,
    Task,
    Team,
)
from app.services.importer import ImportFailed, import_file


@pytest.fixture
def branch(session, tmp_path):
    """Team T1, grids G1 and G2 (E1 owns G1), agent A1, customer C1, policy P1, from files."""
    return make_branch(session, tmp_path)


@pytest.fixture(params=["csv", "xlsx"])
def fmt(request) -> str:
    return request.param


def test_teams_round_trip_and_reimport_updates(session, tmp_path, fmt):
    path = write_table(tmp_path / f"teams.{fmt}", ["团队代码", "团队名称", "主管"],
                       [["T1", "一队", "王主管"], ["T2", "二队", None]])  # fmt: skip
    result = import_file(session, "teams", path)
    session.commit()
    assert (result.kind, result.file, result.rows, result.inserted, result.updated) == (
        "teams", f"teams.{fmt}", 2, 2, 0)  # fmt: skip
    teams = session.execute(select(Team.code, Team.name, Team.supervisor_name).order_by(Team.code))
    assert teams.all() == [("T1", "一队", "王主管"), ("T2", "二队", None)]
    branch = session.scalars(select(Branch)).one()  # made for an empty database
    assert (branch.code, branch.name) == ("default", "默认机构")

    path = write_table(tmp_path / f"again.{fmt}", ["团队代码", "团队名称"], [["T1", "锦江一队"]])
    result = import_file(session, "teams", path)
    session.commit()
    assert (result.inserted, result.updated) == (0, 1)
    assert count(session, Team) == 2
    # The supervisor column is not in this file: the supervisor's name stays.
    assert session.execute(select(Team.name, Team.supervisor_name).where(Team.code == "T1")).one() == ("锦江一队", "王主管")  # fmt: skip


def test_specialists_round_trip_with_grid_ownership_and_history(session, branch, fmt):
    header = [
        "工号",
        "姓名",
        "手机号",
        "团队代码",
        "合同类型",
        "入职日期",
        "状态",
        "服务上限",
        "负责网格",
    ]
    hired = date(2023, 5, 1) if fmt == "xlsx" else "2023/5/1"
    phone = 13900000002 if fmt == "xlsx" else "139-0000-0002"
    path = write_table(branch / f"s.{fmt}", header,
                       [["E2", "赵敏", phone, "T1", "劳务合同", hired, "休假", 300, "G1；G2"]])  # fmt: skip
    result = import_file(session, "specialists", path)
    session.commit()
    assert (result.inserted, result.updated) == (1, 0)
    e2 = session.scalars(select(Specialist).where(Specialist.employee_no == "E2")).one()
    assert (e2.name, e2.phone, e2.contract_type.value, e2.hire_date, e2.status.value, e2.capacity) == (
        "赵敏", "13900000002", "service", date(2023, 5, 1), "leave", 300)  # fmt: skip
    e1 = session.scalar(select(Specialist.id).where(Specialist.employee_no == "E1"))
    owners = dict(session.execute(select(Grid.code, Grid.owner_id)).all())
    assert owners == {"G1": e2.id, "G2": e2.id}  # the last writer wins
    history = session.execute(
        select(Grid.code, AssignmentEvent.from_specialist_id, AssignmentEvent.to_specialist_id,
               AssignmentEvent.reason).join(Grid, Grid.id == AssignmentEvent.grid_id)
        .order_by(AssignmentEvent.id)
    ).all()  # fmt: skip
    assert [(c, f, t, r.value) for c, f, t, r in history] == [
        ("G1", None, e1, "import"),  # from the branch fixture
        ("G1", e1, e2.id, "import"),
        ("G2", None, e2.id, "import"),
    ]

    # Again, same owners: no new history; the status column is absent, so "leave" stays.
    path = write_table(branch / f"s2.{fmt}", ["工号", "姓名", "团队代码", "负责网格"], [["E2", "赵敏", "T1", "G2"]])  # fmt: skip
    result = import_file(session, "specialists", path)
    session.commit()
    assert (result.inserted, result.updated) == (0, 1)
    assert count(session, AssignmentEvent) == 3
    assert session.scalar(select(Specialist.status).where(Specialist.employee_no == "E2")).value == "leave"  # fmt: skip


def test_agents_round_trip(session, tmp_path, fmt):
    left = datetime(2024, 1, 31) if fmt == "xlsx" else "2024年1月31日"
    path = write_table(tmp_path / f"a.{fmt}", ["代理人代码", "姓名", "离职日期"],
                       [["A7", "孙代理", left], [1001, "周代理", None]])  # fmt: skip
    import_file(session, "agents", path)
    session.commit()
    agents = session.execute(select(DepartedAgent.agent_code, DepartedAgent.name, DepartedAgent.left_on).order_by(DepartedAgent.agent_code))  # fmt: skip
    assert agents.all() == [("1001", "周代理", None), ("A7", "孙代理", date(2024, 1, 31))]


def test_customers_round_trip(session, branch, fmt):
    header = ["客户号", "姓名", "手机号", "证件号码", "地址", "经度", "纬度", "原代理人代码"]
    phone = 13712345678.0 if fmt == "xlsx" else "+86 137 1234 5678"
    lon = 104.0651 if fmt == "xlsx" else "104.0651"
    path = write_table(branch / f"c.{fmt}", header, [
        ["C2", "王五", phone, ID_OK.lower(), "成都市武侯区玉林路8号", lon, 30.6312, "A1"],
        ["C3", "钱六", None, ID_OK_2, "成都市青羊区", None, None, "A1"],
    ])  # fmt: skip
    result = import_file(session, "customers", path)
    session.commit()
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    got = session.execute(
        select(Customer.customer_no, Customer.name, Customer.phone, Customer.id_number,
               Customer.address, Customer.lon, Customer.lat, DepartedAgent.agent_code)
        .join(DepartedAgent, DepartedAgent.id == Customer.agent_id)
        .where(Customer.customer_no != "C1").order_by(Customer.customer_no)
    ).all()  # fmt: skip
    assert got == [
        ("C2", "王五", "13712345678", ID_OK, "成都市武侯区玉林路8号", 104.0651, 30.6312, "A1"),
        ("C3", "钱六", None, ID_OK_2, "成都市青羊区", None, None, "A1"),
    ]


def test_policies_round_trip(session, branch, fmt):
    header = [
        "保单号",
        "客户号",
        "产品",
        "生效日期",
        "缴费方式",
        "期交保费",
        "保单状态",
        "状态日期",
    ]
    premium = 1234.5 if fmt == "xlsx" else "￥1,234.50"
    path = write_table(branch / f"p.{fmt}", header, [
        ["P2", "C1", "福寿年年", "2022/6/15", "半年交", premium, "有效", None],
        ["P3", "C1", None, "2021-01-01", "monthly", "２００", "身故终止", "2023年7月1日"],
    ])  # fmt: skip
    import_file(session, "policies", path)
    session.commit()
    got = session.execute(
        select(Policy.policy_no, Policy.product, Policy.issue_date, Policy.payment_mode,
               Policy.modal_premium_fen, Policy.status, Policy.status_date)
        .where(Policy.policy_no != "P1").order_by(Policy.policy_no)
    ).all()  # fmt: skip
    assert [(n, p, d, m.value, f, s.value, sd) for n, p, d, m, f, s, sd in got] == [
        ("P2", "福寿年年", date(2022, 6, 15), "semiannual", 123_450, "in_force", None),
        ("P3", None, date(2021, 1, 1), "monthly", 20_000, "death", date(2023, 7, 1)),
    ]


def test_dues_round_trip_refreshes_the_persistency_base(session, branch, fmt):
    header = ["保单号", "保单年度", "应缴日期", "应收保费", "实收保费", "实收日期"]
    due2 = date(2024, 3, 1) if fmt == "xlsx" else "2024/3/1"
    path = write_table(branch / f"d.{fmt}", header, [
        ["P1", 1, "2023年3月1日", "¥1,200.00", "１２００", "2023/3/2"],
        ["P1", 2, due2, 1200, 1300.5, "2024-04-20"],
    ])  # fmt: skip
    result = import_file(session, "dues", path)
    session.commit()
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    dues = session.execute(
        select(PremiumDue.policy_year, PremiumDue.due_date, PremiumDue.amount_due_fen,
               PremiumDue.amount_received_fen, PremiumDue.received_on).order_by(PremiumDue.due_date)
    ).all()  # fmt: skip
    assert dues == [
        (1, date(2023, 3, 1), 120_000, 120_000, date(2023, 3, 2)),
        (2, date(2024, 3, 1), 120_000, 130_050, date(2024, 4, 20)),
    ]
    # The first due of policy year 2 is what 13-month persistency reads.
    assert session.execute(select(PersistencyBase.policy_year, PersistencyBase.due_date)).all() == [(2, date(2024, 3, 1))]  # fmt: skip


def test_tasks_round_trip_in_branch_time_and_steps_follow(session, branch, fmt):
    header = ["任务编号", "任务类型", "客户号", "保单号", "工号", "渠道", "创建时间", "截止日期", "状态", "结果", "完成时间"]  # fmt: skip
    created = datetime(2024, 3, 1, 9, 30) if fmt == "xlsx" else "2024/3/1 9:30"
    path = write_table(branch / f"t.{fmt}", header, [
        ["K1", "续收", "C1", "P1", "E1", "线上坐席", created, "2024-03-08", "已完成", "已收", "2024-03-02 10:00:00"],
        ["K2", "建联加微", "C1", None, None, None, "2024-02-01T08:00:00+08:00", None, "待办", None, None],
    ])  # fmt: skip
    import_file(session, "tasks", path)
    session.commit()
    k1 = session.scalars(select(Task).where(Task.task_no == "K1")).one()
    assert (k1.kind.value, k1.channel.value, k1.status.value, k1.outcome, k1.due_date) == (
        "renewal_collection", "online", "done", "已收", date(2024, 3, 8))  # fmt: skip
    # Times without a zone are Shanghai time, stored as UTC.
    assert k1.created_at == datetime(2024, 3, 1, 1, 30, tzinfo=timezone.utc)
    assert k1.completed_at == datetime(2024, 3, 2, 2, 0, tzinfo=timezone.utc)
    assert (k1.policy_id, k1.specialist_id) == (
        session.scalar(select(Policy.id)), session.scalar(select(Specialist.id)))  # fmt: skip
    k2 = session.scalars(select(Task).where(Task.task_no == "K2")).one()
    assert (k2.kind.value, k2.channel.value, k2.status.value, k2.policy_id, k2.specialist_id) == (
        "pre_sell", "offline", "open", None, None)  # fmt: skip
    assert k2.created_at == datetime(2024, 2, 1, 0, 0, tzinfo=timezone.utc)
    # A done renewal collection is step 2 evidence, which implies step 1 on the same day.
    c1 = session.scalars(select(Customer)).one()
    assert (c1.step, c1.pre_sell_on, c1.soft_sell_on) == (2, date(2024, 3, 2), date(2024, 3, 2))


def test_grids_round_trip_with_polygons_and_community_lists(session, tmp_path):
    multi = {"type": "MultiPolygon", "coordinates": [square(104.1, 30.7)["coordinates"], square(104.2, 30.7)["coordinates"]]}  # fmt: skip
    path = write_geojson(tmp_path / "grids.geojson", [
        ({"code": "G1", "name": "春熙路网格", "district": "锦江区", "communities": "春熙路、红星路;总府路"}, square(104.0, 30.6, 0.02)),
        ({"code": "G9", "name": "双片网格", "communities": ["玉林社区", " 芳草社区 "]}, multi),
    ])  # fmt: skip
    result = import_file(session, "grids", path)
    session.commit()
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    g1 = session.scalars(select(Grid).where(Grid.code == "G1")).one()
    assert (g1.name, g1.district, json.loads(g1.communities)) == ("春熙路网格", "锦江区", ["春熙路", "红星路", "总府路"])  # fmt: skip
    assert (g1.min_lon, g1.min_lat, g1.max_lon, g1.max_lat) == pytest.approx((104.0, 30.6, 104.02, 30.62))  # fmt: skip
    assert (g1.centroid_lon, g1.centroid_lat) == pytest.approx((104.01, 30.61))
    assert json.loads(g1.geometry)["type"] == "Polygon"
    g9 = session.scalars(select(Grid).where(Grid.code == "G9")).one()
    assert json.loads(g9.communities) == ["玉林社区", "芳草社区"]
    assert (g9.min_lon, g9.max_lon, g9.centroid_lon) == pytest.approx((104.1, 104.21, 104.155))

    path = write_geojson(tmp_path / "again.geojson", [({"code": "G1", "name": "春熙路新网格"}, square(104.0, 30.6))])  # fmt: skip
    result = import_file(session, "grids", path)
    session.commit()
    assert (result.inserted, result.updated) == (0, 1)
    assert count(session, Grid) == 2
    assert session.scalar(select(Grid.name).where(Grid.code == "G1")) == "春熙路新网格"


def test_reimport_of_dues_updates_and_keeps_what_the_file_does_not_carry(session, branch):
    header = ["policy_no", "policy_year", "due_date", "amount_due", "amount_received", "received_date"]  # fmt: skip
    import_file(session, "dues", write_table(branch / "d1.csv", header, [["P1", 2, "2024-03-01", 1200, "", ""]]))  # fmt: skip
    result = import_file(session, "dues", write_table(branch / "d2.csv", header, [["P1", 2, "2024-03-01", 1200, 1200, "2024-03-05"]]))  # fmt: skip
    session.commit()
    assert (result.inserted, result.updated) == (0, 1)
    assert count(session, PremiumDue) == 1
    # A schedule file without the received columns leaves the receipts alone.
    path = write_table(branch / "d3.csv", header[:4], [["P1", 2, "2024-03-01", 1300], ["P1", 3, "2025-03-01", 1200]])  # fmt: skip
    result = import_file(session, "dues", path)
    session.commit()
    assert (result.inserted, result.updated) == (1, 1)
    assert session.execute(
        select(PremiumDue.amount_due_fen, PremiumDue.amount_received_fen, PremiumDue.received_on)
        .order_by(PremiumDue.due_date)
    ).all() == [(130_000, 120_000, date(2024, 3, 5)), (120_000, 0, None)]  # fmt: skip


def test_reimport_of_unchanged_customers_leaves_their_version(session, branch):
    header = ["customer_no", "name", "address", "agent_code"]
    before = session.scalar(select(Customer.version))
    import_file(session, "customers", write_table(branch / "same.csv", header, [["C1", "李四", "成都市锦江区春熙路1号", "A1"]]))  # fmt: skip
    session.commit()
    assert session.scalar(select(Customer.version)) == before
    import_file(session, "customers", write_table(branch / "moved.csv", header, [["C1", "李四", "成都市武侯区", "A1"]]))  # fmt: skip
    session.commit()
    assert session.execute(select(Customer.address, Customer.version)).one() == ("成都市武侯区", before + 1)  # fmt: skip
    # Columns the file leaves out keep their values.
    assert session.execute(select(Customer.phone, Customer.id_number)).one() == ("13812345678", ID_OK)  # fmt: skip


def test_objects_already_in_the_session_see_the_import(session, branch):
    customer = session.scalars(select(Customer)).one()
    assert customer.name == "李四"
    path = write_table(branch / "c.csv", ["customer_no", "name", "address", "agent_code"], [["C1", "李小四", "x", "A1"]])  # fmt: skip
    import_file(session, "customers", path)
    assert customer.name == "李小四"


def test_branches_the_rows_go_to(session, tmp_path):
    session.add_all([Branch(code="cd", name="成都分公司", city="成都"), Branch(code="cq", name="重庆分公司", city="重庆")])  # fmt: skip
    session.commit()
    path = write_table(tmp_path / "t.csv", ["team_code", "team_name"], [["T1", "一队"]])
    with pytest.raises(ImportFailed) as err:
        import_file(session, "teams", path)
    assert "several branches" in str(err.value)
    cd, cq = (session.scalar(select(Branch.id).where(Branch.code == c)) for c in ("cd", "cq"))
    import_file(session, "teams", path, branch_id=cd)
    import_file(session, "teams", path, branch_id=cq)  # the same team code in another branch
    session.commit()
    assert sorted(session.execute(select(Team.branch_id, Team.code)).all()) == [(cd, "T1"), (cq, "T1")]  # fmt: skip
    with pytest.raises(ImportFailed, match="branch 999 does not exist"):
        import_file(session, "teams", path, branch_id=999)


def test_an_empty_cell_clears_an_optional_value_but_keeps_one_that_cannot_be_empty(session, branch):
    header = ["工号", "姓名", "手机号", "团队代码", "状态", "服务上限"]
    import_file(session, "specialists", write_table(branch / "s1.csv", header, [["E1", "王芳", "13800000001", "T1", "休假", 250]]))  # fmt: skip
    import_file(session, "specialists", write_table(branch / "s2.csv", header, [["E1", "王芳", None, "T1", None, None]]))  # fmt: skip
    session.commit()
    e1 = session.scalars(select(Specialist)).one()
    assert (e1.phone, e1.status.value, e1.capacity) == (None, "leave", 250)
