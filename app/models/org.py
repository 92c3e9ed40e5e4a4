"""Branches, teams, specialists, departed agents and users."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.enums import ContractType, Role, SpecialistStatus
from app.models.types import enum_column


class Branch(Base):
    """One deployment scope: a city branch. A shared database may hold several."""

    __tablename__ = "branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(50))
    timezone: Mapped[str] = mapped_column(String(50), default="Asia/Shanghai")
    grace_days: Mapped[int] = mapped_column(Integer, default=60)
    # When the community grid pilot started; charts mark it.
    pilot_start: Mapped[date | None] = mapped_column(Date)
    # The largest premium, due or receipt an import accepts, in yuan (app.services.importer).
    max_amount_yuan: Mapped[int] = mapped_column(
        BigInteger, default=100_000_000, server_default="100000000"
    )
    # Hand-off targets, days from a customer's pool entry (app.services.metrics.handoff).
    handoff_sms_days: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    handoff_contact_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    handoff_service_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # Monthly scorecard standards, whole percent (app.services.metrics.scorecard).
    scorecard_renewal_pct: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
    scorecard_persistency_pct: Mapped[int] = mapped_column(Integer, default=85, server_default="85")
    scorecard_tasks_pct: Mapped[int] = mapped_column(Integer, default=80, server_default="80")
    scorecard_contact_pct: Mapped[int] = mapped_column(Integer, default=80, server_default="80")


class Team(Base):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("branch_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    # The supervisor's name as the core systems write it; the user account is linked separately.
    supervisor_name: Mapped[str | None] = mapped_column(String(50))

    specialists: Mapped[list[Specialist]] = relationship(back_populates="team")


class Specialist(Base):
    __tablename__ = "specialist"
    # The task queue sorted by specialist walks specialists in name order.
    __table_args__ = (Index("ix_specialist_name_id", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    contract_type: Mapped[ContractType] = enum_column(ContractType, default=ContractType.LABOUR)
    hire_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[SpecialistStatus] = enum_column(
        SpecialistStatus, default=SpecialistStatus.ACTIVE
    )
    left_on: Mapped[date | None] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer, default=400)
    version: Mapped[int] = mapped_column(Integer, default=1)

    team: Mapped[Team] = relationship(back_populates="specialists")

    __mapper_args__ = {"version_id_col": version}


class DepartedAgent(Base):
    __tablename__ = "agent"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    agent_code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    left_on: Mapped[date | None] = mapped_column(Date)


user_team = Table(
    "user_team",
    Base.metadata,
    Column("user_id", ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    # "user" is reserved in PostgreSQL.
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    login: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    role: Mapped[Role] = enum_column(Role)
    # Loaded only when read: on a database that enforces roles nobody but the owner may read
    # it (app.services.database.roles), so a plain select of users must not ask for it.
    password_hash: Mapped[str] = mapped_column(String(200), deferred=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Wrong passwords since failed_since (the first of the current window); at the limit the
    # account waits until locked_until (app.services.people.auth). A right password clears all three.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sign_in: Mapped[datetime | None] = mapped_column(UTCDateTime)

    teams: Mapped[list[Team]] = relationship(secondary=user_team)
