"""Display names of the domain's codes, translated."""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

from app.views.i18n import arg, translate

_C = "labels"

TASK_KINDS = {
    "pre_sell": QT_TRANSLATE_NOOP("labels", "Pre-sell (contact, WeChat)"),
    "renewal_collection": QT_TRANSLATE_NOOP("labels", "Renewal collection"),
    "servicing": QT_TRANSLATE_NOOP("labels", "Policy servicing"),
    "cross_sell": QT_TRANSLATE_NOOP("labels", "Cross-sell / referral"),
    "up_sell": QT_TRANSLATE_NOOP("labels", "Up-sell"),
    "callback": QT_TRANSLATE_NOOP("labels", "Callback (online seat)"),
}
TASK_STATUSES = {
    "open": QT_TRANSLATE_NOOP("labels", "Open"),
    "in_progress": QT_TRANSLATE_NOOP("labels", "In progress"),
    "done": QT_TRANSLATE_NOOP("labels", "Done"),
    "failed": QT_TRANSLATE_NOOP("labels", "Failed"),
    "cancelled": QT_TRANSLATE_NOOP("labels", "Cancelled"),
}
SPECIALIST_STATUSES = {
    "active": QT_TRANSLATE_NOOP("labels", "Active"),
    "leave": QT_TRANSLATE_NOOP("labels", "On leave"),
    "left": QT_TRANSLATE_NOOP("labels", "Left"),
}
# Where a scheduled rebalancing plan stands (app.services.rebalance.scheduled).
SCHEDULED_STATUSES = {
    "scheduled": QT_TRANSLATE_NOOP("labels", "waiting"),
    "applied": QT_TRANSLATE_NOOP("labels", "applied"),
    "cancelled": QT_TRANSLATE_NOOP("labels", "cancelled"),
    "refused": QT_TRANSLATE_NOOP("labels", "refused"),
}
CONTRACT_TYPES = {
    "labour": QT_TRANSLATE_NOOP("labels", "Labour contract"),
    "service": QT_TRANSLATE_NOOP("labels", "Service contract"),
}
CHANNELS = {
    "offline": QT_TRANSLATE_NOOP("labels", "Offline"),
    "online": QT_TRANSLATE_NOOP("labels", "Online seat"),
}
ROLES = {
    "senior_supervisor": QT_TRANSLATE_NOOP("labels", "Senior supervisor"),
    "supervisor": QT_TRANSLATE_NOOP("labels", "Supervisor"),
    "analyst": QT_TRANSLATE_NOOP("labels", "Analyst"),
}
STEPS = {
    1: QT_TRANSLATE_NOOP("labels", "Pre-sell"),
    2: QT_TRANSLATE_NOOP("labels", "Soft-sell"),
    3: QT_TRANSLATE_NOOP("labels", "Cross-sell"),
    4: QT_TRANSLATE_NOOP("labels", "Up-sell"),
}
# Why a customer, grid or task changed hands (assignment history), and who did it.
ASSIGNMENT_REASONS = {
    "auto_match": QT_TRANSLATE_NOOP("labels", "Matched at intake"),
    "rebalance": QT_TRANSLATE_NOOP("labels", "Rebalancing"),
    "manual": QT_TRANSLATE_NOOP("labels", "Assigned by hand"),
    "specialist_left": QT_TRANSLATE_NOOP("labels", "Specialist left"),
    "import": QT_TRANSLATE_NOOP("labels", "Imported"),
    "undo": QT_TRANSLATE_NOOP("labels", "Undone"),
}
ACTORS = {"system": QT_TRANSLATE_NOOP("labels", "GridDesk (automatic)")}


def listed(items) -> str:
    """Return ``items`` as one text, separated as the user's language separates a list
    ("a, b" in English, "a、b" in Chinese)."""
    return translate("labels", ", ").join(str(i) for i in items)


def counted(n: int, one: str, several: str) -> str:
    """Return a count in words: ``one`` when ``n`` is 1, else ``several``, their %1 the number
    ("1 move", "2 moves"; Chinese says both alike)."""
    return arg(one if n == 1 else several, f"{n:,}")


def moves(n: int) -> str:
    return counted(n, translate("labels", "%1 move"), translate("labels", "%1 moves"))


def grids(n: int) -> str:
    return counted(n, translate("labels", "%1 grid"), translate("labels", "%1 grids"))


def customers(n: int) -> str:
    return counted(n, translate("labels", "%1 customer"), translate("labels", "%1 customers"))


def open_tasks(n: int) -> str:
    return counted(n, translate("labels", "%1 open task"), translate("labels", "%1 open tasks"))


def sentence_gap() -> str:
    """Return what goes between two sentences in the user's language (a space in English,
    nothing after a Chinese 。: its translation is a zero-width space, as Qt takes an empty
    one for none)."""
    return translate("labels", " ")


def label(table: dict, code) -> str:
    """Return the translated display name of ``code`` in ``table`` (the code if unknown)."""
    key = getattr(code, "value", code)
    text = table.get(key)
    return translate(_C, text) if text else ("" if key is None else str(key))


def pct(value) -> str:
    """Return a rate (a fraction) as a percentage with one decimal, or an em dash."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def yuan(fen: int | None) -> str:
    return "—" if fen is None else f"¥{fen / 100:,.2f}"
