"""Facts about the database file itself: set in offline snapshots, absent in live databases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class SnapshotInfo(Base):
    """One row in a snapshot file: where and when it was copied from, and what it covers."""

    __tablename__ = "snapshot_info"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    taken_by: Mapped[str] = mapped_column(String(50))
    # The source database URL with any password removed.
    source: Mapped[str] = mapped_column(String(300))
    branch_id: Mapped[int] = mapped_column(Integer)
    # JSON list of team ids, or null for the whole branch.
    team_ids: Mapped[str | None] = mapped_column(Text)
