"""A senior supervisor manages the accounts of their own branch: adds users with a role and
teams, resets passwords and deactivates accounts, keeping the branch's last senior supervisor.
Everyone else is refused, and every refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.models import Branch, Team, User
from app.models.enums import Role
from app.services.errors import NotAllowed
from app.services.people.accounts import (
    AccountError,
    AccountNotAllowed,
    add_account,
    deactivate_account,
    list_accounts,
    reset_password,
)
from app.services.people.auth import SignInFailed, UserInfo, authenticate, hash_password, user_info

PASSWORD = "correct horse"


@dataclass
class Branches:
    """Branch A (teams A1, A2; users boss, sup, ana) and branch B (team B1; user chief)."""

    Session: object
    boss: UserInfo
    sup: UserInfo
    ana: UserInfo
    chief: UserInfo


@pytest.fixture
def branches(Session) -> Branches:  # noqa: N803
    digest = hash_password(PASSWORD)  # one slow hash for every user
    with Session() as s, s.begin():
        a = Branch(code="A", name="甲分公司", city="成都")
        b = Branch(code="B", name="乙分公司", city="重庆")
        s.add_all([a, b])
        s.flush()
        a1, a2, b1 = (Team(branch_id=a.id, code="A1", name="一队"),
                      Team(branch_id=a.id, code="A2", name="二队"),
                      Team(branch_id=b.id, code="B1", name="三队"))  # fmt: skip
        s.add_all([a1, a2, b1])
        s.flush()

        def user(login: str, branch: Branch, role: Role, teams: list[Team]) -> UserInfo:
            u = User(
                branch_id=branch.id,
                login=login,
                display_name=login.title(),
                role=role,
                password_hash=digest,
            )
            u.teams = teams
            s.add(u)
            s.flush()
            return user_info(u)

        return Branches(
            Session,
            boss=user("boss", a, Role.SENIOR_SUPERVISOR, []),
            sup=user("sup", a, Role.SUPERVISOR, [a1]),
            ana=user("ana", a, Role.ANALYST, []),
            chief=user("chief", b, Role.SENIOR_SUPERVISOR, []),
        )


def _users(Session) -> list[tuple[str, bool, str]]:  # noqa: N803
    with Session() as s:
        return [
            tuple(r)
            for r in s.execute(
                select(User.login, User.active, User.password_hash).order_by(User.login)
            )
        ]


def _signs_in(Session, login: str, password: str) -> bool:  # noqa: N803
    with Session() as s:
        try:
            authenticate(s, login, password)
        except SignInFailed:
            return False
        return True


def test_the_first_account_is_a_senior_supervisor_made_without_signing_in(Session):  # noqa: N803
    with Session() as s, s.begin():
        s.add(Branch(code="A", name="甲分公司", city="成都"))
    with Session() as s, s.begin(), pytest.raises(AccountError) as refused:
        add_account(
            s, actor=None, login="ana", display_name="Ana", role="analyst", password=PASSWORD
        )
    assert refused.value.code == "account.first_senior"
    with Session() as s, s.begin():
        row = add_account(
            s, actor=None, login="boss", display_name="老 王", role="senior_supervisor",
            password=PASSWORD,
        )  # fmt: skip
    assert (row.login, row.display_name, row.role, row.active) == (
        "boss", "老 王", Role.SENIOR_SUPERVISOR, True,
    )  # fmt: skip
    with Session() as s:
        assert authenticate(s, "boss", PASSWORD).role is Role.SENIOR_SUPERVISOR
    # From now on somebody can sign in, so nobody adds users without doing so.
    with Session() as s, s.begin(), pytest.raises(AccountNotAllowed) as refused:
        add_account(
            s, actor=None, login="boss2", display_name="B", role="senior_supervisor",
            password=PASSWORD,
        )  # fmt: skip
    assert refused.value.code == "account.sign_in_needed"


def test_a_senior_supervisor_adds_users_of_each_role_to_their_branch(branches):
    Session = branches.Session  # noqa: N806
    with Session() as s, s.begin():
        sup = add_account(
            s, actor=branches.boss, login=" lin ", display_name="林 主管", role=Role.SUPERVISOR,
            password="12345678", team_codes=["A2", "A1"],
        )  # fmt: skip
        add_account(
            s, actor=branches.boss, login="zhao", display_name="赵", role="analyst",
            password="12345678",
        )  # fmt: skip
    assert (sup.login, sup.team_codes) == ("lin", ("A1", "A2"))
    with Session() as s:
        lin = authenticate(s, "lin", "12345678")
        teams = set(s.scalars(select(Team.id).where(Team.code.in_(["A1", "A2"]))))
        listed = list_accounts(s, actor=branches.boss)
    assert lin.role is Role.SUPERVISOR and lin.team_ids == teams
    # The list holds the branch's accounts only, by login; nobody's password.
    assert [r.login for r in listed] == ["ana", "boss", "lin", "sup", "zhao"]
    assert [r.team_codes for r in listed if r.login == "sup"] == [("A1",)]


@pytest.mark.parametrize(
    ("login", "role", "password", "teams", "code"),
    [
        ("new", "analyst", "1234567", (), "account.short_password"),
        ("new", "supervisor", PASSWORD, (), "account.team_needed"),
        ("new", "supervisor", PASSWORD, ("B1",), "account.unknown_team"),  # another branch's team
        ("new", "supervisor", PASSWORD, ("A1", "ZZ"), "account.unknown_team"),
        ("new", "analyst", PASSWORD, ("A1",), "account.teams_unused"),
        ("chief", "analyst", PASSWORD, (), "account.login_taken"),  # taken in another branch
        ("two words", "analyst", PASSWORD, (), "account.bad_login"),
        ("new", "admin", PASSWORD, (), "account.bad_role"),
    ],
)
def test_an_account_that_cannot_be_made_as_asked_is_refused(
    branches, login, role, password, teams, code
):
    before = _users(branches.Session)
    with branches.Session() as s, s.begin(), pytest.raises(AccountError) as refused:
        add_account(
            s, actor=branches.boss, login=login, display_name="New", role=role,
            password=password, team_codes=teams,
        )  # fmt: skip
    assert refused.value.code == code
    assert str(refused.value)  # a readable sentence for the command line
    assert _users(branches.Session) == before


@pytest.mark.parametrize("who", ["sup", "ana"])
def test_only_a_senior_supervisor_manages_accounts(branches, who):
    actor = getattr(branches, who)
    before = _users(branches.Session)
    attempts = [
        lambda s: add_account(
            s, actor=actor, login="new", display_name="N", role="analyst", password=PASSWORD
        ),
        lambda s: reset_password(s, actor=actor, login="ana", password="new password"),
        lambda s: deactivate_account(s, actor=actor, login="ana"),
        lambda s: list_accounts(s, actor=actor),
    ]
    for attempt in attempts:
        with branches.Session() as s, s.begin(), pytest.raises(NotAllowed) as refused:
            attempt(s)
        assert refused.value.code == "account.not_senior"  # type: ignore[attr-defined]
        assert f"{who} ({actor.role.value}) may not manage user accounts" in str(refused.value)
    assert _users(branches.Session) == before


def test_a_senior_supervisor_is_refused_another_branchs_accounts(branches):
    before = _users(branches.Session)
    for attempt in (
        lambda s: reset_password(s, actor=branches.chief, login="ana", password="new password"),
        lambda s: deactivate_account(s, actor=branches.chief, login="sup"),
        lambda s: add_account(
            s,
            actor=branches.chief,
            login="x",
            display_name="X",
            role="analyst",
            password=PASSWORD,
            branch_code="A",
        ),  # fmt: skip
    ):
        with branches.Session() as s, s.begin(), pytest.raises(AccountNotAllowed) as refused:
            attempt(s)
        assert refused.value.code.startswith("account.other_branch")
    with branches.Session() as s:
        assert [r.login for r in list_accounts(s, actor=branches.chief)] == ["chief"]
    assert _users(branches.Session) == before


def test_a_reset_password_replaces_the_old_one(branches):
    with branches.Session() as s, s.begin():
        reset_password(s, actor=branches.boss, login="sup", password="brand new 1")
    assert _signs_in(branches.Session, "sup", "brand new 1")
    assert not _signs_in(branches.Session, "sup", PASSWORD)
    with branches.Session() as s, s.begin(), pytest.raises(AccountError) as refused:
        reset_password(s, actor=branches.boss, login="sup", password="short")
    assert refused.value.code == "account.short_password"
    with branches.Session() as s, s.begin(), pytest.raises(AccountError) as refused:
        reset_password(s, actor=branches.boss, login="nobody", password="long enough")
    assert refused.value.code == "account.unknown_login"


def test_a_deactivated_user_cannot_sign_in(branches):
    assert _signs_in(branches.Session, "ana", PASSWORD)
    with branches.Session() as s, s.begin():
        row = deactivate_account(s, actor=branches.boss, login="ana")
    assert not row.active
    assert not _signs_in(branches.Session, "ana", PASSWORD)
    with branches.Session() as s:
        assert [r.active for r in list_accounts(s, actor=branches.boss) if r.login == "ana"] == [
            False
        ]


def test_the_branchs_last_active_senior_supervisor_is_kept(branches):
    Session = branches.Session  # noqa: N806
    with Session() as s, s.begin(), pytest.raises(AccountNotAllowed) as refused:
        deactivate_account(s, actor=branches.boss, login="boss")
    assert refused.value.code == "account.last_senior"
    assert "last active senior supervisor" in str(refused.value)
    with Session() as s, s.begin():
        add_account(
            s, actor=branches.boss, login="deputy", display_name="D", role="senior_supervisor",
            password=PASSWORD,
        )  # fmt: skip
    # With a second senior supervisor, the first may go (even by their own hand) ...
    with Session() as s, s.begin():
        deactivate_account(s, actor=branches.boss, login="boss")
    with Session() as s:
        deputy = authenticate(s, "deputy", PASSWORD)
    # ... and the second is now the last; branch B's senior supervisor does not count.
    with Session() as s, s.begin(), pytest.raises(AccountNotAllowed) as refused:
        deactivate_account(s, actor=deputy, login="deputy")
    assert refused.value.code == "account.last_senior"
    # Nor may the deactivated one act any more.
    with Session() as s, s.begin(), pytest.raises(AccountNotAllowed) as refused:
        deactivate_account(s, actor=branches.boss, login="deputy")
    assert refused.value.code == "account.not_senior"
    assert [(login, active) for login, active, _ in _users(Session) if "boss" in login or
            "deputy" in login] == [("boss", False), ("deputy", True)]  # fmt: skip
