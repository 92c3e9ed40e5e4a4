"""Reading cell values as the core systems write them: dates in several spellings, amounts with
separators and currency signs, full-width digits, and the numbers Excel made of phone, ID and
policy numbers.

Every parser takes a cleaned cell (see ``clean``: a stripped, NFKC-folded string, or the
int/float/date/datetime openpyxl gave) and returns the value or raises ValueProblem, whose
message says what is wrong in words a supervisor understands.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo


class ValueProblem(ValueError):
    """A cell that cannot be read; the message says what is wrong with it."""


def clean(value: object) -> object | None:
    """Return the cell with text folded (full-width to half-width) and trimmed; None if empty."""
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip() if value.isascii() else unicodedata.normalize("NFKC", value).strip()
        return s or None
    return value


def _number_text(value: object) -> str:
    """Return text for a cell; a float that is a whole number loses its '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_text(value: object) -> str:
    """Return the cell as text (a whole-number float such as 1001.0 reads as '1001')."""
    return _number_text(value)


# Excel keeps 15 significant digits: a longer number typed into a General cell is rounded.
_EXCEL_DIGITS = 15


def parse_code(value: object) -> str:
    """Return a key such as a customer or policy number, refusing one Excel rounded."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric and abs(value) >= 10**_EXCEL_DIGITS:  # type: ignore[arg-type]
        raise ValueProblem(
            f"{_number_text(value)} was stored by Excel as a number and may have lost digits: "
            "format the column as text in the source file and export it again"
        )
    s = _number_text(value)
    if ("E" in s or "e" in s) and re.fullmatch(r"\d(\.\d+)?E\+\d+", s, flags=re.IGNORECASE):
        raise ValueProblem(
            f"'{s}' was written by Excel in scientific notation: its digits are lost"
        )
    return s


# --- dates and times ---------------------------------------------------------------------

_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(\d{4})年(\d{1,2})月(\d{1,2})[日号]?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME = re.compile(
    r"(\d{1,2})[:时点](\d{1,2})(?:分|[:分](\d{1,2})(\.\d{1,6})?秒?)?\s*(Z|[+-]\d{2}:?\d{2})?",
    flags=re.IGNORECASE,
)
DATE_HINT = "write 2024-03-01, 2024/3/1 or 2024年3月1日"


# Years a date in an exchange file can fall in: anything else is a typing error or hostile, and
# a year such as 1 or 9999 cannot even be moved to UTC.
FIRST_YEAR, LAST_YEAR = 1900, 2199


def _ymd(y: int, m: int, d: int, shown: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        raise ValueProblem(f"'{shown}' is not a real date") from None


def _plausible(day: date, shown: object) -> None:
    """Refuse a date outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueProblem(
            f"'{shown}' is not a plausible date (years {FIRST_YEAR} to {LAST_YEAR} are read)"
        )


@lru_cache(maxsize=65_536)
def _date_and_rest(s: str) -> tuple[date, str]:
    """Return the date at the start of ``s`` and what follows it."""
    if len(s) == 10 and s[4] == "-" and s[7] == "-":
        try:
            return date.fromisoformat(s), ""
        except ValueError:
            pass  # 2024-02-30, or a spelling fromisoformat does not take: read it below
    m = _DATE.match(s)
    if m and not s[m.end() : m.end() + 1].isdigit():
        g = m.groups()
        y, mo, d = (g[0], g[1], g[2]) if g[0] else (g[3], g[4], g[5])
        return _ymd(int(y), int(mo), int(d), s), s[m.end() :].strip()
    m = _COMPACT_DATE.fullmatch(s)
    if m:
        y, mo, d = (int(x) for x in m.groups())
        return _ymd(y, mo, d, s), ""
    raise ValueProblem(f"'{s}' is not a date ({DATE_HINT})")


def parse_date(value: object) -> date:
    """Return the date in a cell: 2024-03-01, 2024/3/1, 2024年3月1日, 20240301 or an Excel date
    (a time of day after the date is ignored), between FIRST_YEAR and LAST_YEAR."""
    day = _any_date(value)
    _plausible(day, value)
    return day


def _any_date(value: object) -> date:
    if value.__class__ is str:
        day, rest = _date_and_rest(value)  # type: ignore[arg-type]
        if not rest:
            return day
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        s = _number_text(value)  # 20240301 typed into a number cell
        if not re.fullmatch(r"\d{8}", s):
            raise ValueProblem(f"the number {s} is not a date ({DATE_HINT})")
        return _date_and_rest(s)[0]
    s = str(value)
    day, rest = _date_and_rest(s)
    if rest and not _TIME.fullmatch(rest.lstrip("Tt").strip()):
        raise ValueProblem(f"'{s}' is not a date ({DATE_HINT})")
    return day


def parse_datetime(value: object) -> datetime:
    """Return the date and time in a cell, naive unless it names its offset (Z, +08:00).

    A date alone means midnight. Naive values are in the branch's time zone: see ``to_utc``.
    """
    moment = _any_datetime(value)
    _plausible(moment.date(), value)
    return moment


def _any_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.min)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.combine(_any_date(value), time.min)
    s = str(value)
    day, rest = _date_and_rest(s)
    if not rest:
        return datetime.combine(day, time.min)
    m = _TIME.fullmatch(rest.lstrip("Tt").strip())
    if not m:
        raise ValueProblem(f"'{s}' has a time of day that cannot be read (write 2024-03-01 09:30)")
    hh, mm, ss, frac, zone = m.groups()
    try:
        clock = time(int(hh), int(mm), int(ss or 0), int((frac or ".0")[1:].ljust(6, "0")))
    except ValueError:
        raise ValueProblem(f"'{s}' has an impossible time of day") from None
    moment = datetime.combine(day, clock)
    if zone:
        offset = "+00:00" if zone.upper() == "Z" else zone
        if ":" not in offset:
            offset = f"{offset[:3]}:{offset[3:]}"
        moment = datetime.fromisoformat(f"{moment.isoformat()}{offset}")
    return moment


def to_utc(moment: datetime, tz: ZoneInfo) -> datetime:
    """Return an aware UTC datetime; a naive one is taken as local time in ``tz``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


# --- numbers -----------------------------------------------------------------------------

_CURRENCY = str.maketrans({",": None, "¥": None, "元": None, " ": None, "_": None})


@lru_cache(maxsize=65_536)
def _decimal(s: str) -> Decimal:
    t = s.translate(_CURRENCY)
    if t.upper().startswith(("RMB", "CNY")):
        t = t[3:]
    try:
        amount = Decimal(t)
    except InvalidOperation:
        raise ValueProblem(
            f"'{s}' is not an amount (write 1234.50, 1,234.50 or ¥1,234.50)"
        ) from None
    if not amount.is_finite():
        raise ValueProblem(f"'{s}' is not an amount")
    return amount


# No single premium, due or receipt comes near this; a larger figure is a typing error or
# hostile. Each branch may set its own limit (Branch.max_amount_yuan), up to
# LIMIT_CEILING_YUAN: ten million rows at that size still add up inside the database's 64-bit
# fen, which sums of a whole branch need.
MAX_AMOUNT_YUAN = 100_000_000
LIMIT_CEILING_YUAN = 1_000_000_000


def parse_amount_fen(value: object, *, maximum_yuan: int = MAX_AMOUNT_YUAN) -> int:
    """Return an amount in yuan as integer fen, exactly: '1,234.50', '¥1234.5', '１２３４', from
    0 to ``maximum_yuan``."""
    if value.__class__ is str:
        amount = _decimal(value)  # type: ignore[arg-type]
    elif isinstance(value, bool):
        raise ValueProblem(f"'{value}' is not an amount")
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        # What Excel shows: a sum such as 1234.5600000000001 is 1234.56 on screen.
        amount = Decimal(f"{value:.{_EXCEL_DIGITS}g}")
    elif isinstance(value, Decimal):
        amount = value
    else:
        amount = _decimal(str(value))
    if not amount.is_finite():
        raise ValueProblem(f"'{value}' is not an amount")
    if amount < 0:
        raise ValueProblem(f"{amount} is negative: amounts cannot be below zero")
    if amount > maximum_yuan:  # compared before any arithmetic, which 1E+999999999 would overflow
        raise ValueProblem(
            f"{_shown_amount(amount)} yuan is above the limit of {maximum_yuan:,} yuan "
            "for one amount"
        )
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueProblem(f"{amount} has more than two decimals (fen are the smallest unit)")
    return int(fen)


def _shown_amount(amount: Decimal) -> str:
    """Return a large amount as a supervisor reads it: 250,000,000 or 1E+30 (never 30 digits)."""
    if amount.adjusted() < 18:
        return f"{amount:,f}"
    return f"{amount:.3E}"


# Whole numbers in exchange files are small (policy years, capacities). Larger ones are only
# shown, never converted: int() of a 5,000-digit text raises, and of 1E+999999999 never ends.
_HUGE = 10**18


def parse_int(value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return a whole number ('3', 3, 3.0 or '３') within [minimum, maximum]."""
    n, shown = _whole_number(value)
    if minimum is not None and n < minimum:
        raise ValueProblem(f"{shown} is below {minimum}")
    if maximum is not None and n > maximum:
        raise ValueProblem(f"{shown} is above {maximum}")
    if abs(n) >= _HUGE:
        raise ValueProblem(f"{shown} is too large a number")
    return n


def _whole_number(value: object) -> tuple[int, str]:
    """Return the whole number in a cell (beyond ±10¹⁸ only its sign counts) and how to show it."""
    if value.__class__ is str and value.isdigit() and value.isascii() and len(value) < 19:  # type: ignore[attr-defined]
        return int(value), value  # type: ignore[call-overload, return-value]
    if isinstance(value, bool):
        raise ValueProblem(f"'{value}' is not a whole number")
    if isinstance(value, int):
        d = Decimal(value)
    else:
        s = _number_text(value).replace(",", "")
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise ValueProblem(f"'{s[:40]}' is not a whole number") from None
        if not d.is_finite() or d != d.to_integral_value():
            raise ValueProblem(f"'{s[:40]}' is not a whole number")
    if d.adjusted() < 18:
        return int(d), str(int(d))
    return (_HUGE if d > 0 else -_HUGE), f"{d:.3E}"


def parse_float(value: object, *, low: float, high: float) -> float:
    """Return a decimal number such as a longitude, within [low, high]."""
    if isinstance(value, bool):
        raise ValueProblem(f"'{value}' is not a number")
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueProblem(f"'{value}' is not a number") from None
    if not low <= f <= high:
        raise ValueProblem(f"{f} is outside {low:g}..{high:g}")
    return f


# --- phone and ID numbers ----------------------------------------------------------------

_PHONE_NOISE = str.maketrans({"-": None, " ": None, "(": None, ")": None})


def parse_phone(value: object) -> str:
    """Return a phone number as digits; Excel may have stored it as a number (13812345678.0)."""
    if isinstance(value, float) and not value.is_integer():
        raise ValueProblem(f"{value!r} is not a phone number")
    s = _number_text(value).translate(_PHONE_NOISE)
    if s.startswith("+86"):
        s = s[3:]
    elif s.startswith("0086"):
        s = s[4:]
    if not re.fullmatch(r"\d{7,15}", s):
        raise ValueProblem(f"'{_number_text(value)}' is not a phone number")
    return s


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits of an ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_id_number(value: object) -> str:
    """Return an 18-character resident ID number, refusing one Excel turned into a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) >= 10**_EXCEL_DIGITS:
            raise ValueProblem(
                "was stored by Excel as a number and has lost its last digits "
                f"({_number_text(value)}): format the column as text in the source file "
                "and export it again"
            )
        raise ValueProblem(f"{_number_text(value)} is not an 18-character ID number")
    s = str(value).upper()
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", s):
        raise ValueProblem(
            f"'{s}' is an ID number Excel wrote in scientific notation: its digits are lost; "
            "format the column as text in the source file and export it again"
        )
    if not re.fullmatch(r"\d{17}[\dX]", s):
        raise ValueProblem(f"'{s}' is not an 18-character ID number")
    try:
        date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise ValueProblem(f"'{s}' holds an impossible birth date ({s[6:14]})") from None
    expected = id_check_char(s[:17])
    if s[17] != expected:
        hint = " (it ends in zeros: Excel may have rounded it)" if s.endswith("00") else ""
        raise ValueProblem(f"'{s}' has a wrong check digit: expected {expected}{hint}")
    return s


# --- codes and lists ---------------------------------------------------------------------


def parse_enum(value: object, *, enum_cls: type[StrEnum], labels: dict[str, str]) -> StrEnum:
    """Return the member named by its code (any case) or one of its Chinese labels."""
    s = _number_text(value)
    key = labels.get(s) or labels.get(s.lower()) or s.lower().replace(" ", "_").replace("-", "_")
    try:
        return enum_cls(key)
    except ValueError:
        shown: dict[str, str] = {}
        for label, code in labels.items():
            if not label.isascii():
                shown.setdefault(code, label)
        allowed = ", ".join(
            f"{m.value} ({shown[m.value]})" if m.value in shown else m.value for m in enum_cls
        )
        raise ValueProblem(f"'{s}' is not one of {allowed}") from None


_LIST_SEPARATORS = re.compile(r"[、;,\n]+")


def split_list(value: object) -> list[str]:
    """Return the items of a list written as 'a、b', 'a;b' or 'a,b' (full-width too)."""
    return [p.strip() for p in _LIST_SEPARATORS.split(_number_text(value)) if p.strip()]
