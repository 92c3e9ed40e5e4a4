"""Passwords (argon2 hashes), sign-in, and what each role may see and change."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models import User
from app.models.base import utcnow
from app.models.enums import Role
from app.services.errors import DomainError

_hasher = PasswordHasher()

# This many wrong passwords within FAILURE_WINDOW lock the account for LOCK_TIME.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)


class SignInFailed(DomainError):
    """Wrong user name or password (deliberately not saying which)."""


class AccountLocked(DomainError):
    """Too many wrong passwords in a short time: the account waits until ``until``.

    Deliberately not a SignInFailed: callers that word every SignInFailed as "wrong user name
    or password" let this one through with its own message, which says how long to wait."""

    def __init__(self, login: str, until: datetime, now: datetime) -> None:
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        super().__init__(
            "auth.locked_one" if minutes == 1 else "auth.locked", login=login, minutes=minutes
        )
        self.login = login
        self.until = until
        self.minutes = minutes


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    if not password:
        raise ValueError("a password must not be empty")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return True when ``password`` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class UserInfo:
    """The signed-in user, as views and services need it (no ORM object)."""

    id: int
    login: str
    display_name: str
    role: Role
    branch_id: int
    team_ids: frozenset[int]

    @property
    def sees_all_teams(self) -> bool:
        return self.role in (Role.SENIOR_SUPERVISOR, Role.ANALYST)

    @property
    def sees_contact_data(self) -> bool:
        """Whether phone and ID numbers are shown unmasked to this user."""
        return self.role in (Role.SENIOR_SUPERVISOR, Role.SUPERVISOR)

    @property
    def may_reassign_tasks(self) -> bool:
        return self.role in (Role.SENIOR_SUPERVISOR, Role.SUPERVISOR)

    @property
    def may_move_across_teams(self) -> bool:
        """Assignments and grid ownership across teams, imports, intake."""
        return self.role is Role.SENIOR_SUPERVISOR

    @property
    def may_import(self) -> bool:
        return self.role is Role.SENIOR_SUPERVISOR

    def team_scope(self) -> frozenset[int] | None:
        """Return the team ids this user is limited to, or None for the whole branch."""
        return None if self.sees_all_teams else self.team_ids


def user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        login=user.login,
        display_name=user.display_name,
        role=Role(user.role),
        branch_id=user.branch_id,
        team_ids=frozenset(t.id for t in user.teams),
    )


def authenticate(
    session: Session, login: str, password: str, *, now: datetime | None = None
) -> UserInfo:
    """Return the user whose login and password match; raise SignInFailed otherwise, or
    AccountLocked while the account waits after too many wrong passwords.

    A wrong password is counted in a short transaction of its own on the session's engine, so
    it stays counted whether or not the caller commits ``session``; call this before the
    session writes anything, and in a session opened without ``begin()`` (on SQLite that takes
    the write lock, which the count would wait for). A right one clears the count and records
    the sign-in in ``session`` (the caller commits it)."""
    now = now or utcnow()
    user = session.scalars(select(User).where(User.login == login.strip())).one_or_none()
    if user is None or not user.active:
        raise SignInFailed("auth.wrong")
    if user.locked_until is not None and now < user.locked_until:
        raise AccountLocked(user.login, user.locked_until, now)
    if not verify_password(user.password_hash, password):
        locked_until = _record_failure(session, user.id, now)
        if locked_until is not None:
            raise AccountLocked(user.login, locked_until, now)
        raise SignInFailed("auth.wrong")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.failed_logins or user.failed_since is not None or user.locked_until is not None:
        clear_failures(user)
    user.last_sign_in = now
    return user_info(user)


def clear_failures(user: User) -> None:
    """Forget the user's wrong passwords and lift any lock (a right password, a reset)."""
    user.failed_logins = 0
    user.failed_since = None
    user.locked_until = None


def _record_failure(session: Session, user_id: int, now: datetime) -> datetime | None:
    """Count a wrong password; return until when the account is locked, if it now is."""
    bind = session.get_bind()
    if isinstance(bind, Engine):
        with Session(bind) as own, own.begin():
            return _count_failure(own, user_id, now)
    # A session bound to a connection (tests in a savepoint): its transaction is all there is.
    until = _count_failure(session, user_id, now)
    session.flush()
    return until


def _count_failure(session: Session, user_id: int, now: datetime) -> datetime | None:
    # The row lock keeps two wrong passwords typed at once from counting as one (PostgreSQL;
    # SQLite writes one transaction at a time anyway).
    user = session.scalars(select(User).where(User.id == user_id).with_for_update()).one()
    if user.locked_until is not None and now < user.locked_until:
        return user.locked_until
    window_over = user.failed_since is None or now - user.failed_since >= FAILURE_WINDOW
    if window_over or user.locked_until is not None:  # a new window, or a lock that has passed
        clear_failures(user)
        user.failed_since = now
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILURES:
        user.locked_until = now + LOCK_TIME
    return user.locked_until


def mask_phone(phone: str | None) -> str:
    """Return the phone number as 138****5678."""
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str | None) -> str:
    """Return the ID number keeping its first 6 and last 4 characters."""
    if not id_number:
        return ""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
