"""Five wrong passwords within 15 minutes lock an account for 15 minutes; a right password
clears the count. Failures count even when the caller never commits its session (the command
line commits only after a successful sign-in). "Now" is given, never slept for."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.models import Branch, User
from app.models.enums import Role
from app.services.people.accounts import list_accounts, reset_password
from app.services.people.auth import AccountLocked, SignInFailed, authenticate, hash_password

PASSWORD = "correct horse"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def Session(Session):  # noqa: N802 - the conftest's, with a branch and two users in it
    with Session() as s, s.begin():
        branch = Branch(code="A", name="甲分公司", city="成都")
        s.add(branch)
        s.flush()
        digest = hash_password(PASSWORD)
        for login, role in (("boss", Role.SENIOR_SUPERVISOR), ("ana", Role.ANALYST)):
            s.add(
                User(
                    branch_id=branch.id,
                    login=login,
                    display_name=login,
                    role=role,
                    password_hash=digest,
                )
            )
    return Session


def _try(Session, password: str, at: datetime, login: str = "ana"):  # noqa: N803
    """Sign in as the callers do: a session of its own, committed only on success."""
    with Session() as s:
        user = authenticate(s, login, password, now=at)
        s.commit()
        return user


def _wrong(Session, at: datetime, login: str = "ana") -> None:  # noqa: N803
    with pytest.raises(SignInFailed):
        _try(Session, "wrong password", at, login)


def _state(Session, login: str = "ana") -> tuple:  # noqa: N803
    with Session() as s:
        u = s.scalars(select(User).where(User.login == login)).one()
        return u.failed_logins, u.locked_until, u.last_sign_in


def test_a_wrong_password_counts_although_the_session_is_rolled_back(Session):  # noqa: N803
    _wrong(Session, T0)
    _wrong(Session, T0 + timedelta(minutes=1))
    assert _state(Session) == (2, None, None)


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(Session):  # noqa: N803
    for minute in range(4):
        _wrong(Session, T0 + timedelta(minutes=minute))
    with pytest.raises(AccountLocked) as locked:
        _try(Session, "wrong again", T0 + timedelta(minutes=4))
    assert locked.value.minutes == 15
    assert "try again in 15 minutes" in str(locked.value)
    # While locked, even the right password is refused, saying how long is left.
    with pytest.raises(AccountLocked) as locked:
        _try(Session, PASSWORD, T0 + timedelta(minutes=13, seconds=30))
    assert locked.value.minutes == 6
    assert locked.value.until == T0 + timedelta(minutes=19)
    # Other accounts are not affected.
    assert _try(Session, PASSWORD, T0 + timedelta(minutes=5), login="boss").login == "boss"
    # Fifteen minutes after the lock, the right password signs in and clears the count.
    released = T0 + timedelta(minutes=19)
    assert _try(Session, PASSWORD, released).login == "ana"
    assert _state(Session) == (0, None, released)


def test_a_right_password_clears_the_count(Session):  # noqa: N803
    for minute in range(4):
        _wrong(Session, T0 + timedelta(minutes=minute))
    _try(Session, PASSWORD, T0 + timedelta(minutes=5))
    for minute in range(6, 10):
        _wrong(Session, T0 + timedelta(minutes=minute))  # four again: not five in a row
    assert _state(Session)[:2] == (4, None)


def test_wrong_passwords_spread_over_more_than_fifteen_minutes_do_not_lock(Session):  # noqa: N803
    for minute in (0, 5, 10, 14):
        _wrong(Session, T0 + timedelta(minutes=minute))
    _wrong(Session, T0 + timedelta(minutes=15))  # a new window starts: one failure in it
    assert _state(Session)[:2] == (1, None)
    # After a lock has passed, counting starts again from one.
    for minute in range(16, 19):
        _wrong(Session, T0 + timedelta(minutes=minute))
    with pytest.raises(AccountLocked):
        _try(Session, "wrong", T0 + timedelta(minutes=19))
    assert _state(Session)[:2] == (5, T0 + timedelta(minutes=34))
    _wrong(Session, T0 + timedelta(minutes=40))
    assert _state(Session)[:2] == (1, None)


def test_a_senior_supervisor_sees_and_lifts_a_lock_with_a_new_password(Session):  # noqa: N803
    for minute in range(5):
        with pytest.raises((SignInFailed, AccountLocked)):
            _try(Session, "wrong", T0 + timedelta(minutes=minute))
    boss = _try(Session, PASSWORD, T0, login="boss")
    with Session() as s:
        ana = next(r for r in list_accounts(s, actor=boss) if r.login == "ana")
    assert ana.locked(T0 + timedelta(minutes=5)) and not ana.locked(T0 + timedelta(minutes=19))
    with Session() as s, s.begin():
        reset_password(s, actor=boss, login="ana", password="a new one")
    assert _try(Session, "a new one", T0 + timedelta(minutes=6)).login == "ana"
