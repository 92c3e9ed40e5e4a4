"""Column helpers: enums stored as their code strings, portable across databases."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import Enum
from sqlalchemy.orm import mapped_column


def enum_type(enum_cls: type[StrEnum]) -> Enum:
    """Return a VARCHAR-backed Enum type storing the members' code values."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=24,
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def enum_column(enum_cls: type[StrEnum], **kw: Any) -> Any:
    """Return a mapped column holding ``enum_cls`` members."""
    return mapped_column(enum_type(enum_cls), **kw)
