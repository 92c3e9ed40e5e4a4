"""Passwords (argon2 hashes), sign-in, and what each role may see and change."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import User
from app.models.enums import Role

_hasher = PasswordHasher()


class SignInFailed(Exception):
    """Wrong user name or password (deliberately not saying which)."""


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


def authenticate(session: Session, login: str, password: str) -> UserInfo:
    """Return the user whose login and password match; raise SignInFailed otherwise."""
    user = session.scalars(select(User).where(User.login == login.strip())).one_or_none()
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise SignInFailed("wrong user name or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user_info(user)


def create_user(
    session: Session,
    *,
    branch_id: int,
    login: str,
    display_name: str,
    role: Role,
    password: str,
    team_ids: tuple[int, ...] = (),
) -> UserInfo:
    """Create a user with a hashed password and return it."""
    from app.models import Team

    user = User(
        branch_id=branch_id,
        login=login,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
    )
    if team_ids:
        user.teams = list(session.scalars(select(Team).where(Team.id.in_(team_ids))))
    session.add(user)
    session.flush()
    return user_info(user)


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
