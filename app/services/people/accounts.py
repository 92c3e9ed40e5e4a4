"""User accounts of a branch: who may sign in, with which role and which teams.

Only an active senior supervisor manages accounts, and only those of their own branch. On a
database where nobody can sign in yet, the first account (a senior supervisor) is made without
one. The functions change the caller's session and never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.models import Branch, Team, User
from app.models.enums import Role
from app.services.database.roles import sync_login
from app.services.errors import DomainError, NotAllowed
from app.services.people.auth import UserInfo, clear_failures, hash_password

MIN_PASSWORD = 8
MAX_TEXT = 50  # login and display name, as the columns hold them


class AccountError(DomainError):
    """An account change that cannot be made as asked."""


class AccountNotAllowed(AccountError, NotAllowed):
    """The acting user may not make this change (role, branch, the last senior supervisor)."""


@dataclass(frozen=True)
class AccountRow:
    """One user account as the list of accounts shows it."""

    id: int
    login: str
    display_name: str
    role: Role
    team_codes: tuple[str, ...]
    active: bool
    last_sign_in: datetime | None
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        """Whether the account waits after too many wrong passwords at ``now``."""
        return self.locked_until is not None and now < self.locked_until


def _row(user: User) -> AccountRow:
    return AccountRow(
        id=user.id,
        login=user.login,
        display_name=user.display_name,
        role=Role(user.role),
        team_codes=tuple(sorted(t.code for t in user.teams)),
        active=user.active,
        last_sign_in=user.last_sign_in,
        locked_until=user.locked_until,
    )


# --- reading -----------------------------------------------------------------------------


def list_accounts(session: Session, *, actor: UserInfo) -> list[AccountRow]:
    """Return the accounts of the actor's branch by login (active and deactivated)."""
    me = _acting_senior(session, actor)
    users = session.scalars(
        select(User)
        .where(User.branch_id == me.branch_id)
        .options(selectinload(User.teams))
        .order_by(User.login)
    )
    return [_row(u) for u in users]


def branch_teams(session: Session, *, actor: UserInfo) -> list[tuple[str, str]]:
    """Return (code, name) of every team of the actor's branch, by code."""
    me = _acting_senior(session, actor)
    rows = session.execute(
        select(Team.code, Team.name).where(Team.branch_id == me.branch_id).order_by(Team.code)
    )
    return [(code, name) for code, name in rows]


def has_active_users(session: Session) -> bool:
    """Whether anyone can sign in to this database (else the first account needs no actor)."""
    return bool(session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))))


# --- changing ----------------------------------------------------------------------------


def add_account(
    session: Session,
    *,
    actor: UserInfo | None,
    login: str,
    display_name: str,
    role: Role | str,
    password: str,
    team_codes: Collection[str] = (),
    branch_code: str | None = None,
) -> AccountRow:
    """Create an account in the actor's branch and return it.

    ``actor`` None makes the first account of a database nobody can sign in to yet: it must be
    a senior supervisor, of the branch ``branch_code`` names (or of the only branch)."""
    if actor is None:
        branch_id = _first_account_branch(session, role, branch_code)
    else:
        branch_id = _acting_senior(session, actor).branch_id
        if branch_code is not None:
            _own_branch(session, branch_id, branch_code)
    login = _valid_login(session, login)
    name = _valid_name(display_name)
    role = _valid_role(role)
    teams = _valid_teams(session, branch_id, role, team_codes)
    _check_password(password)
    user = User(
        branch_id=branch_id,
        login=login,
        display_name=name,
        role=role,
        password_hash=hash_password(password),
        active=True,
    )
    user.teams = teams
    session.add(user)
    session.flush()
    sync_login(session, login, password)  # their database role, where the database has them
    return _row(user)


def reset_password(session: Session, *, actor: UserInfo, login: str, password: str) -> AccountRow:
    """Give the account a new password, lift any lock, and return it."""
    me = _acting_senior(session, actor)
    _check_password(password)
    user = _member(session, me, login)
    user.password_hash = hash_password(password)
    clear_failures(user)
    session.flush()
    sync_login(session, user.login, password)
    return _row(user)


def deactivate_account(session: Session, *, actor: UserInfo, login: str) -> AccountRow:
    """Stop the account from signing in and return it; the branch's last active senior
    supervisor is kept."""
    me = _acting_senior(session, actor)
    user = _member(session, me, login)
    if not user.active:
        return _row(user)
    if user.role == Role.SENIOR_SUPERVISOR:
        # Locking the branch's active seniors makes two of them deactivating each other at
        # the same moment wait for one another, so one always remains.
        seniors = session.scalars(
            select(User.id)
            .where(
                User.branch_id == user.branch_id,
                User.role == Role.SENIOR_SUPERVISOR,
                User.active.is_(True),
            )
            .with_for_update()
        ).all()
        if set(seniors) <= {user.id}:
            raise AccountNotAllowed("account.last_senior", login=user.login)
    user.active = False
    session.flush()
    sync_login(session, user.login)  # the database role no longer signs in either
    return _row(user)


# --- checks ------------------------------------------------------------------------------


def _acting_senior(session: Session, actor: UserInfo) -> User:
    """Return the actor's row, as the database has it now, if they may manage accounts."""
    me = session.get(User, actor.id)
    if me is None or not me.active or me.role != Role.SENIOR_SUPERVISOR:
        role = actor.role.value if me is None else Role(me.role).value
        raise AccountNotAllowed("account.not_senior", login=actor.login, role=role)
    return me


def _member(session: Session, me: User, login: str) -> User:
    """Return the account ``login`` of the acting senior's branch."""
    user = session.scalars(
        select(User).where(User.login == login.strip()).options(selectinload(User.teams))
    ).one_or_none()
    if user is None:
        raise AccountError("account.unknown_login", login=login.strip())
    if user.branch_id != me.branch_id:
        raise AccountNotAllowed("account.other_branch_user", login=user.login)
    return user


def _own_branch(session: Session, branch_id: int, code: str) -> None:
    if session.scalar(select(Branch.code).where(Branch.id == branch_id)) != code:
        raise AccountNotAllowed("account.other_branch_add", branch=code)


def _first_account_branch(session: Session, role: Role | str, code: str | None) -> int:
    if has_active_users(session):
        raise AccountNotAllowed("account.sign_in_needed")
    if _valid_role(role) != Role.SENIOR_SUPERVISOR:
        raise AccountError("account.first_senior")
    stmt = select(Branch.id).order_by(Branch.id).limit(2)
    if code is not None:
        stmt = stmt.where(Branch.code == code)
    ids = session.scalars(stmt).all()
    if code is not None and not ids:
        raise AccountError("account.unknown_branch", branch=code)
    if not ids:
        raise AccountError("account.no_branch")
    if len(ids) > 1:
        raise AccountError("account.branch_needed")
    return ids[0]


def _valid_login(session: Session, login: str) -> str:
    login = login.strip()
    if not login or any(ch.isspace() for ch in login) or len(login) > MAX_TEXT:
        raise AccountError("account.bad_login", login=login, maximum=MAX_TEXT)
    if session.scalar(select(func.count()).select_from(User).where(User.login == login)):
        raise AccountError("account.login_taken", login=login)
    return login


def _valid_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_TEXT:
        raise AccountError("account.bad_name", maximum=MAX_TEXT)
    return name


def _valid_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = [r.value for r in Role]
        raise AccountError("account.bad_role", value=str(role), choices=choices) from None


def _valid_teams(
    session: Session, branch_id: int, role: Role, codes: Collection[str]
) -> list[Team]:
    wanted = {c.strip() for c in codes if c.strip()}
    if role != Role.SUPERVISOR:
        if wanted:
            raise AccountError("account.teams_unused")
        return []
    if not wanted:
        raise AccountError("account.team_needed")
    teams = list(
        session.scalars(
            select(Team)
            .where(Team.branch_id == branch_id, Team.code.in_(wanted))
            .order_by(Team.code)
        )
    )
    unknown = sorted(wanted - {t.code for t in teams})
    if unknown:
        raise AccountError("account.unknown_team", teams=unknown)
    return teams


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError("account.short_password", minimum=MIN_PASSWORD)
