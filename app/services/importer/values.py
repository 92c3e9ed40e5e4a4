"""Reading values as the core systems write them: dates in several spellings, amounts with
separators and currency signs, full-width digits, numbers Excel made of phone and ID numbers."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from app.services.clock import branch_tz


class ValueProblem(ValueError):
    """A cell that cannot be read; the message says what is wrong with it."""


def text(value) -> str:
    """Return the cell as clean text: full-width characters folded, spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def parse_date(value) -> date:
    """Return the date in a cell: 2024-03-01, 2024/3/1, 2024年3月1日, 20240301 or an Excel date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    s = text(value)
    s = s.split(" ")[0].split("T")[0] if re.match(r"^\d{4}[-/.]\d", s) else s
    for pattern in _DATE_PATTERNS:
        m = pattern.match(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueProblem(f"'{s}' is not a real date") from None
    raise ValueProblem(f"'{s}' is not a date (write 2024-03-01, 2024/3/1 or 2024年3月1日)")


def parse_datetime(value, tz: str | None = None) -> datetime:
    """Return an aware datetime; times without a zone are in the branch's time zone."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time.min)
    else:
        s = text(value).replace("T", " ")
        if not s:
            raise ValueProblem("is empty")
        parts = s.split(" ", 1)
        day = parse_date(parts[0])
        clock = time.min
        if len(parts) == 2 and parts[1].strip():
            t = parts[1].strip()
            try:
                clock = time.fromisoformat(t if t.count(":") != 1 else t + ":00")
            except ValueError:
                raise ValueProblem(f"'{s}' has a time that cannot be read") from None
        dt = datetime.combine(day, clock)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=branch_tz(tz))
    return dt


def parse_amount_fen(value) -> int:
    """Return an amount in yuan as integer fen: '1,234.50', '¥1234.5', '１２３４' are read."""
    if isinstance(value, bool):
        raise ValueProblem(f"'{value}' is not an amount")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        s = text(value).replace(",", "").replace("¥", "").replace("元", "").replace(" ", "")
        if not s:
            raise ValueProblem("is empty")
        try:
            amount = Decimal(s)
        except InvalidOperation:
            raise ValueProblem(f"'{text(value)}' is not an amount") from None
    if not amount.is_finite():
        raise ValueProblem(f"'{text(value)}' is not an amount")
    if amount < 0:
        raise ValueProblem(f"{amount} is negative")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueProblem(f"{amount} has more than two decimals")
    return int(fen)


def parse_int(value, *, minimum: int | None = None) -> int:
    s = text(value)
    try:
        n = int(Decimal(s)) if s else None
    except InvalidOperation:
        n = None
    if n is None or Decimal(s) != n:
        raise ValueProblem(f"'{s}' is not a whole number")
    if minimum is not None and n < minimum:
        raise ValueProblem(f"{n} is below {minimum}")
    return n


def parse_float(value, *, low: float, high: float) -> float:
    s = text(value)
    try:
        f = float(s)
    except ValueError:
        raise ValueProblem(f"'{s}' is not a number") from None
    if not low <= f <= high:
        raise ValueProblem(f"{f} is outside {low}..{high}")
    return f


def parse_phone(value) -> str:
    """Return a phone number as digits (Excel may have stored it as a number)."""
    s = text(value).replace("-", "").replace(" ", "")
    if s.startswith("+86"):
        s = s[3:]
    if not re.fullmatch(r"\d{7,15}", s):
        raise ValueProblem(f"'{text(value)}' is not a phone number")
    return s


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_checksum_ok(id_number: str) -> bool:
    """Return True when an 18-character ID number's last character matches GB 11643."""
    total = sum(int(d) * w for d, w in zip(id_number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == id_number[17]


def parse_id_number(value) -> str:
    """Return an 18-character resident ID number, refusing one Excel turned into a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 1e15:
        raise ValueProblem(
            "was stored by Excel as a number and has lost its last digits; "
            "format the column as text in the source file and export it again"
        )
    s = text(value).upper()
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", s):
        raise ValueProblem(
            f"'{s}' is an ID number Excel wrote in scientific notation: its digits are lost"
        )
    if not re.fullmatch(r"\d{17}[\dX]", s):
        raise ValueProblem(f"'{s}' is not an 18-character ID number")
    if not id_checksum_ok(s):
        hint = " (it ends in zeros: Excel may have rounded it)" if s.endswith("000") else ""
        raise ValueProblem(f"'{s}' has a wrong check digit{hint}")
    return s


def parse_enum(value, enum_cls: type[StrEnum], aliases: dict[str, str]) -> StrEnum:
    """Return the member named by its code or one of its Chinese labels."""
    s = text(value)
    key = aliases.get(s, aliases.get(s.lower(), s.lower()))
    try:
        return enum_cls(key)
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValueProblem(f"'{s}' is not one of {allowed}") from None


def split_list(value) -> list[str]:
    """Return the items of a list written as 'a、b', 'a;b' or 'a,b'."""
    return [p.strip() for p in re.split(r"[、;；,，]", text(value)) if p.strip()]
