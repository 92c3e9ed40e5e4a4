"""Pool customers, their policies, the premium dues and the persistency base derived from them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.enums import MatchMethod, PaymentMode, PolicyStatus
from app.models.types import enum_column


class Customer(Base):
    __tablename__ = "customer"
    # The task queue sorted by customer walks customers in name order.
    __table_args__ = (Index("ix_customer_name_id", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    customer_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(18))
    address: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"), index=True)
    match_method: Mapped[MatchMethod | None] = enum_column(MatchMethod, nullable=True)
    specialist_id: Mapped[int | None] = mapped_column(ForeignKey("specialist.id"), index=True)
    # Null until the customer enters the pool (their agent left and intake ran).
    pool_entered_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The 4-sell ladder: highest step reached (0-4) and the date each step was reached.
    step: Mapped[int] = mapped_column(SmallInteger, default=0)
    pre_sell_on: Mapped[date | None] = mapped_column(Date)
    soft_sell_on: Mapped[date | None] = mapped_column(Date)
    cross_sell_on: Mapped[date | None] = mapped_column(Date)
    up_sell_on: Mapped[date | None] = mapped_column(Date)
    # A locked customer keeps their specialist through rebalancing.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    policies: Mapped[list[Policy]] = relationship(back_populates="customer")

    __mapper_args__ = {"version_id_col": version}


class CoverageMark(Base):
    """A pool customer's address marked outside the branch's coverage (no grid is meant to
    take it), by whom, when and why; ``cleared_at`` set when it went back to the unmatched
    queue (``cleared_how`` 'restored') or a grid was found for it ('matched'). Rows are kept:
    together they are the customer's coverage history. A customer has at most one open mark."""

    __tablename__ = "coverage_mark"
    __table_args__ = (
        Index(
            "ux_coverage_mark_open",
            "customer_id",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    # A code of app.services.intake.coverage.REASONS, and the person's own words.
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(200), default="")
    marked_by: Mapped[str] = mapped_column(String(50))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_by: Mapped[str | None] = mapped_column(String(50))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cleared_how: Mapped[str | None] = mapped_column(String(10))


class Policy(Base):
    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_no: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    product: Mapped[str | None] = mapped_column(String(100))
    issue_date: Mapped[date] = mapped_column(Date)
    payment_mode: Mapped[PaymentMode] = enum_column(PaymentMode)
    modal_premium_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PolicyStatus] = enum_column(PolicyStatus)
    status_date: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship(back_populates="policies")


class PremiumDue(Base):
    """One instalment of one policy: what was due, what came in and when."""

    __tablename__ = "premium_due"
    __table_args__ = (
        UniqueConstraint("policy_id", "due_date"),
        # Covering what a branch's premium in a window reads (rebalancing's loads): the dues
        # are summed from the index alone.
        Index(
            "ix_premium_due_year_date",
            "policy_year",
            "due_date",
            "policy_id",
            "amount_due_fen",
            "amount_received_fen",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policy.id"))
    policy_year: Mapped[int] = mapped_column(SmallInteger)
    due_date: Mapped[date] = mapped_column(Date)
    amount_due_fen: Mapped[int] = mapped_column(BigInteger)
    amount_received_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    received_on: Mapped[date | None] = mapped_column(Date)


class PersistencyBase(Base):
    """The first due row of policy year 2 (13-month) or 3 (25-month) of each regular-premium
    policy, with what persistency needs beside it, kept current by the import and assignment
    services so reports read one narrow table instead of joining four."""

    __tablename__ = "persistency_base"
    __table_args__ = (
        # A period's rows, with every column the reports by branch, team, specialist, grid and
        # days to first contact read: those reports are index-only range scans.
        Index(
            "ix_persistency_base_year_date",
            "policy_year",
            "due_date",
            "branch_id",
            "specialist_id",
            "amount_due_fen",
            "received_fen",
            "days_late",
            "received_on",
            "terminated_on",
            "grid_id",
            "customer_id",
        ),
    )

    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policy.id", ondelete="CASCADE"), primary_key=True
    )
    policy_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    due_date: Mapped[date] = mapped_column(Date)
    amount_due_fen: Mapped[int] = mapped_column(BigInteger)
    # Received amount capped at the amount due.
    received_fen: Mapped[int] = mapped_column(BigInteger)
    received_on: Mapped[date | None] = mapped_column(Date)
    # received_on minus due_date in days (negative when paid ahead); null when nothing came in.
    days_late: Mapped[int | None] = mapped_column(Integer)
    # Date of a termination by death or claim, else null.
    terminated_on: Mapped[date | None] = mapped_column(Date)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id"))
    # The specialist serving the customer on the due date (from the assignment history).
    specialist_id: Mapped[int | None] = mapped_column(ForeignKey("specialist.id"))
    payment_mode: Mapped[PaymentMode] = enum_column(PaymentMode)
    product: Mapped[str | None] = mapped_column(String(100))


class PersistencyMonth(Base):
    """The persistency base rows added up per month, kept current with them
    (``app.services.metrics.summary``), so a report of months whose grace period has passed
    reads a few thousand cells instead of every policy.

    Two grains share the table: ``grain`` 'S' cells are per (branch, policy year, due month,
    specialist on the due date) and 'G' cells per (branch, policy year, due month, grid);
    ``key_id`` is that specialist's or grid's id, 0 for none. Rows terminated by death or claim
    before their due date are left out, as reports leave them out. ``persisting`` and
    ``premium_received_fen`` count what came in within ``grace_days`` (the branch's grace
    period when the cell was written)."""

    __tablename__ = "persistency_month"
    __table_args__ = {"sqlite_with_rowid": False}

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    policy_year: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    due_month: Mapped[str] = mapped_column(String(7), primary_key=True)  # 'YYYY-MM'
    branch_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grace_days: Mapped[int] = mapped_column(Integer)
    policies: Mapped[int] = mapped_column(Integer)
    persisting: Mapped[int] = mapped_column(Integer)
    premium_due_fen: Mapped[int] = mapped_column(BigInteger)
    premium_received_fen: Mapped[int] = mapped_column(BigInteger)
