"""Grids (the city's cells, with their polygons) and learned address rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, UTCDateTime, utcnow
from app.models.enums import GridStatus
from app.models.org import Specialist
from app.models.types import enum_column


class Grid(Base):
    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("branch_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(50))
    # GeoJSON geometry (Polygon or MultiPolygon, WGS84 lon/lat) as text.
    geometry: Mapped[str] = mapped_column(Text)
    # Community and street names the grid covers, as a JSON list, for address matching.
    communities: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[GridStatus] = enum_column(GridStatus, default=GridStatus.ACTIVE)
    # Bounding box and centroid, kept with the geometry for quick spatial filters and labels.
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("specialist.id"), index=True)
    # A locked grid keeps its owner through rebalancing.
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[Specialist | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class AddressRule(Base):
    """A text fragment that sends an address to a grid, saved when a person resolves one."""

    __tablename__ = "address_rule"
    __table_args__ = (UniqueConstraint("branch_id", "pattern"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    pattern: Mapped[str] = mapped_column(String(200))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id", ondelete="CASCADE"))
    created_by: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
