"""Implausible or hostile rows are refused whole, naming the file, the row, the column and what
is wrong: amounts and policy years out of range, tasks that contradict themselves, and numbers
that belong to another branch (issue: the importer must refuse hostile input)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from test_import_support import make_branch, rejects, write_table

from app.models import Branch, Customer, DepartedAgent, PremiumDue, Specialist, Task, Team
from app.services.importer import import_file

DUES = ["policy_no", "policy_year", "due_date", "amount_due"]
POLICIES = ["policy_no", "customer_no", "issue_date", "payment_mode", "modal_premium", "status"]
TASKS = ["task_no", "kind", "customer_no", "policy_no", "employee_no", "created_at", "status",
         "completed_at"]  # fmt: skip
CUSTOMERS = ["customer_no", "name", "address", "agent_code"]


@pytest.fixture
def branch(session, tmp_path):
    """Team T1, grids G1 and G2 (E1 owns G1), agent A1, customer C1, policy P1, from files."""
    return make_branch(session, tmp_path)


# --- 1. amounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["100,000,000.01", "¥250,000,000", "99999999999999999999999", "92233720368547758.08",
     "1E+999999999", 1e300],
)  # fmt: skip
def test_amounts_above_the_limit_are_refused_readably(session, branch, amount):
    path = write_table(branch / "d.xlsx", DUES, [["P1", 1, "2023-03-01", 1200], ["P1", 2, "2024-03-01", amount]])  # fmt: skip
    err = rejects(session, "dues", path, (3, "amount_due", "above the limit of 100,000,000 yuan"))
    assert "d.xlsx, row 3, column amount_due:" in str(err)


def test_received_amount_and_modal_premium_have_the_same_limit(session, branch):
    header = [*DUES, "amount_received", "received_date"]
    path = write_table(branch / "d.csv", header, [["P1", 1, "2023-03-01", 1200, "1" + "0" * 30, "2023-03-02"]])  # fmt: skip
    rejects(session, "dues", path, (2, "amount_received", "above the limit"))
    path = write_table(branch / "p.csv", POLICIES, [["P2", "C1", "2024-01-01", "年交", "123456789012", "有效"]])  # fmt: skip
    rejects(session, "policies", path, (2, "modal_premium", "above the limit"))


def test_an_amount_at_the_limit_is_accepted(session, branch):
    path = write_table(branch / "d.csv", DUES, [["P1", 1, "2023-03-01", "100,000,000.00"]])
    import_file(session, "dues", path)
    session.commit()
    assert session.scalar(select(PremiumDue.amount_due_fen)) == 10_000_000_000


def test_each_branch_sets_its_own_amount_limit(session, branch):
    from app.services.people.branches import SettingError, set_amount_limit

    branch_id = session.scalar(select(Branch.id))
    set_amount_limit(session, actor=None, branch_id=branch_id, yuan=50_000)
    session.commit()
    path = write_table(branch / "d.csv", DUES, [["P1", 1, "2023-03-01", "50,000.01"]])
    rejects(session, "dues", path, (2, "amount_due", "above the limit of 50,000 yuan"))
    path = write_table(branch / "d.csv", DUES, [["P1", 1, "2023-03-01", "50,000"]])
    import_file(session, "dues", path)
    session.commit()
    for wrong in (0, 10**12):
        with pytest.raises(SettingError, match="between 1 and 1,000,000,000 yuan"):
            set_amount_limit(session, actor=None, branch_id=branch_id, yuan=wrong)


def test_only_the_branchs_senior_supervisor_sets_its_amount_limit(session, branch):
    from app.models.enums import Role
    from app.services.errors import NotAllowed
    from app.services.people.auth import UserInfo
    from app.services.people.branches import set_amount_limit

    branch_id = session.scalar(select(Branch.id))
    for role, where in ((Role.SUPERVISOR, branch_id), (Role.ANALYST, branch_id),
                        (Role.SENIOR_SUPERVISOR, branch_id + 1)):  # fmt: skip
        someone = UserInfo(9, "x", "x", role, where, frozenset())
        with pytest.raises(NotAllowed, match="only its senior supervisor"):
            set_amount_limit(session, actor=someone, branch_id=branch_id, yuan=5)
    assert session.get(Branch, branch_id).max_amount_yuan == 100_000_000


# --- 2. policy years -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "words"),
    [(101, "above 100"), (0, "below 1"), ("40000", "above 100"), ("1" + "0" * 25, "above 100")],
)
def test_policy_year_runs_from_1_to_100(session, branch, year, words):
    path = write_table(branch / "d.csv", DUES, [["P1", year, "2023-03-01", 1200]])
    rejects(session, "dues", path, (2, "policy_year", words))


def test_policy_year_100_is_accepted(session, branch):
    import_file(session, "dues", write_table(branch / "d.csv", DUES, [["P1", 100, "2122-03-01", 1200]]))  # fmt: skip
    session.commit()
    assert session.scalar(select(PremiumDue.policy_year)) == 100


def test_dates_outside_any_plausible_year_are_refused_readably(session, branch):
    rows = [["K1", "保全", "C1", None, None, "0001-01-01 00:00", "待办", None],
            ["K2", "保全", "C1", None, None, "2024-03-01 10:00", "已完成", "9999-12-31 23:59"]]  # fmt: skip
    rejects(session, "tasks", write_table(branch / "t.csv", TASKS, rows),
            (2, "created_at", "not a plausible date"), (3, "completed_at", "not a plausible date"))  # fmt: skip


def test_capacity_beyond_any_plausible_number_is_refused(session, branch):
    header = ["employee_no", "name", "team_code", "capacity"]
    path = write_table(branch / "s.csv", header, [["E2", "赵敏", "T1", "1" + "0" * 20]])
    rejects(session, "specialists", path, (2, "capacity", "above 100000"))


# --- 3. tasks that contradict themselves ---------------------------------------------------


def test_a_task_completed_before_it_was_created_is_refused(session, branch):
    rows = [["K1", "保全", "C1", None, None, "2024-03-02 10:00", "已完成", "2024-03-01 18:00"],
            ["K2", "保全", "C1", None, None, "2024-03-02 10:00", "已完成", "2024-03-02 10:00"]]  # fmt: skip
    err = rejects(session, "tasks", write_table(branch / "t.csv", TASKS, rows),
                  (2, "completed_at", "before the task was created"))  # fmt: skip
    assert "2024-03-01 18:00" in str(err) and "2024-03-02 10:00" in str(err)


def test_a_task_whose_policy_belongs_to_another_customer_is_refused(session, branch):
    import_file(session, "customers", write_table(branch / "c.csv", CUSTOMERS, [["C2", "王五", "成都", "A1"]]))  # fmt: skip
    rows = [["K1", "续收", "C2", "P1", None, "2024-03-02 10:00", "待办", None],
            ["K2", "续收", "C1", "P1", None, "2024-03-02 10:00", "待办", None]]  # fmt: skip
    rejects(session, "tasks", write_table(branch / "t.csv", TASKS, rows),
            (2, "policy_no", "policy 'P1' belongs to customer 'C1', not to 'C2'"))  # fmt: skip


# --- 4. every number is looked up in the import's branch -----------------------------------


@pytest.fixture
def two_branches(session, branch):
    """The fixture's branch, and branch b2 with team T1, agent A9 and customer C9 of its own."""
    b2 = Branch(code="b2", name="二分公司", city="重庆")
    session.add(b2)
    session.commit()
    b2_id = b2.id
    import_file(session, "teams", write_table(branch / "t2.csv", ["team_code", "team_name"], [["T1", "二队"]]), branch_id=b2_id)  # fmt: skip
    import_file(session, "agents", write_table(branch / "a2.csv", ["agent_code", "name"], [["A9", "钱代理"]]), branch_id=b2_id)  # fmt: skip
    import_file(session, "customers", write_table(branch / "c2.csv", CUSTOMERS, [["C9", "孙七", "重庆", "A9"]]), branch_id=b2_id)  # fmt: skip
    session.commit()
    return b2_id


def test_a_customer_of_another_branch_is_not_updated(session, branch, two_branches):
    path = write_table(branch / "c.csv", CUSTOMERS, [["C1", "冒名", "重庆市渝中区", "A9"]])
    rejects(session, "customers", path, (2, "customer_no", "customer 'C1' belongs to another branch"), branch_id=two_branches)  # fmt: skip
    c1 = session.scalars(select(Customer).where(Customer.customer_no == "C1")).one()
    assert (c1.name, c1.address, c1.branch_id) != ("冒名", "重庆市渝中区", two_branches)
    assert c1.name == "李四"
    # The other branch's agent is not found from b2.
    path = write_table(branch / "c3.csv", CUSTOMERS, [["C10", "周八", "重庆", "A1"]])
    rejects(session, "customers", path, (2, "agent_code", "no departed agent 'A1' in this branch"), branch_id=two_branches)  # fmt: skip


def test_agents_specialists_and_policies_of_another_branch_are_refused(session, branch, two_branches):  # fmt: skip
    b2 = two_branches
    rejects(session, "agents", write_table(branch / "a.csv", ["agent_code", "name"], [["A1", "冒名"]]),
            (2, "agent_code", "agent 'A1' belongs to another branch"), branch_id=b2)  # fmt: skip
    rejects(session, "specialists", write_table(branch / "s.csv", ["employee_no", "name", "team_code", "grids"], [["E1", "冒名", "T1", "G1"]]),
            (2, "employee_no", "specialist 'E1' belongs to another branch"),
            (2, "grids", "no grid G1 in this branch"), branch_id=b2)  # fmt: skip
    rejects(session, "policies", write_table(branch / "p.csv", POLICIES, [["P1", "C9", "2024-01-01", "年交", 1, "有效"], ["P2", "C1", "2024-01-01", "年交", 1, "有效"]]),
            (2, "policy_no", "policy 'P1' belongs to another branch"),
            (3, "customer_no", "no customer 'C1' in this branch"), branch_id=b2)  # fmt: skip
    rejects(session, "dues", write_table(branch / "d.csv", DUES, [["P1", 1, "2023-03-01", 1]]),
            (2, "policy_no", "no policy 'P1' in this branch"), branch_id=b2)  # fmt: skip
    assert session.scalars(select(DepartedAgent.name).where(DepartedAgent.agent_code == "A1")).one() == "张代理"  # fmt: skip
    e1 = session.scalars(select(Specialist).where(Specialist.employee_no == "E1")).one()
    assert e1.name == "王芳" and session.get(Team, e1.team_id).branch_id != b2


def test_tasks_refer_only_to_their_branch(session, branch, two_branches):
    b2 = two_branches
    b1 = session.scalars(select(Branch.id).where(Branch.code == "default")).one()
    import_file(session, "tasks", write_table(branch / "t1.csv", TASKS, [["K1", "保全", "C1", "P1", "E1", "2024-03-01 10:00", "待办", None]]), branch_id=b1)  # fmt: skip
    session.commit()
    rows = [["K1", "保全", "C9", None, None, "2024-03-01 10:00", "待办", None],
            ["K2", "保全", "C1", "P1", "E1", "2024-03-01 10:00", "待办", None]]  # fmt: skip
    rejects(session, "tasks", write_table(branch / "t2.csv", TASKS, rows),
            (2, "task_no", "task 'K1' belongs to another branch"),
            (3, "customer_no", "no customer 'C1' in this branch"),
            (3, "policy_no", "no policy 'P1' in this branch"),
            (3, "employee_no", "no specialist 'E1' in this branch"), branch_id=b2)  # fmt: skip
    k1 = session.scalars(select(Task).where(Task.task_no == "K1")).one()
    c1 = session.scalars(select(Customer.id).where(Customer.customer_no == "C1")).one()
    assert k1.customer_id == c1 and k1.created_at.date() == date(2024, 3, 1)


def test_the_same_numbers_import_into_their_own_branch(session, branch, two_branches):
    """Scoping does not get in the way: b2's own rows update as before."""
    result = import_file(session, "customers", write_table(branch / "c.csv", CUSTOMERS, [["C9", "孙七七", "重庆", "A9"]]), branch_id=two_branches)  # fmt: skip
    session.commit()
    assert (result.inserted, result.updated) == (0, 1)
    assert session.scalars(select(Customer.name).where(Customer.customer_no == "C9")).one() == "孙七七"  # fmt: skip
