"""Display names of the domain's codes, translated."""

from __future__ import annotations

from app.views.i18n import tr

_C = "labels"

TASK_KINDS = {
    "pre_sell": "Pre-sell (contact, WeChat)",
    "renewal_collection": "Renewal collection",
    "servicing": "Policy servicing",
    "cross_sell": "Cross-sell / referral",
    "up_sell": "Up-sell",
    "callback": "Callback (online seat)",
}
TASK_STATUSES = {
    "open": "Open",
    "in_progress": "In progress",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
SPECIALIST_STATUSES = {"active": "Active", "leave": "On leave", "left": "Left"}
# Where a scheduled rebalancing plan stands (app.services.rebalance.scheduled).
SCHEDULED_STATUSES = {
    "scheduled": "waiting",
    "applied": "applied",
    "cancelled": "cancelled",
    "refused": "refused",
}
CONTRACT_TYPES = {"labour": "Labour contract", "service": "Service contract"}
CHANNELS = {"offline": "Offline", "online": "Online seat"}
ROLES = {
    "senior_supervisor": "Senior supervisor",
    "supervisor": "Supervisor",
    "analyst": "Analyst",
}
STEPS = {1: "Pre-sell", 2: "Soft-sell", 3: "Cross-sell", 4: "Up-sell"}
# Why a customer, grid or task changed hands (assignment history), and who did it.
ASSIGNMENT_REASONS = {
    "auto_match": "Matched at intake",
    "rebalance": "Rebalancing",
    "manual": "Assigned by hand",
    "specialist_left": "Specialist left",
    "import": "Imported",
    "undo": "Undone",
}
ACTORS = {"system": "GridDesk (automatic)"}


def listed(items) -> str:
    """Return ``items`` as one text, separated as the user's language separates a list
    ("a, b" in English, "a、b" in Chinese)."""
    return tr(_C, ", ").join(str(i) for i in items)


def counted(n: int, one: str, several: str) -> str:
    """Return a count in words: ``one`` when ``n`` is 1, else ``several``, their %1 the number
    ("1 move", "2 moves"; Chinese says both alike)."""
    return (one if n == 1 else several).replace("%1", f"{n:,}")


def moves(n: int) -> str:
    return counted(n, tr(_C, "%1 move"), tr(_C, "%1 moves"))


def grids(n: int) -> str:
    return counted(n, tr(_C, "%1 grid"), tr(_C, "%1 grids"))


def customers(n: int) -> str:
    return counted(n, tr(_C, "%1 customer"), tr(_C, "%1 customers"))


def open_tasks(n: int) -> str:
    return counted(n, tr(_C, "%1 open task"), tr(_C, "%1 open tasks"))


def sentence_gap() -> str:
    """Return what goes between two sentences in the user's language (a space in English,
    nothing after a Chinese 。: its translation is a zero-width space, as Qt takes an empty
    one for none)."""
    return tr(_C, " ")


def label(table: dict, code) -> str:
    """Return the translated display name of ``code`` in ``table`` (the code if unknown)."""
    key = getattr(code, "value", code)
    text = table.get(key)
    return tr(_C, text) if text else ("" if key is None else str(key))


def pct(value) -> str:
    """Return a rate (a fraction) as a percentage with one decimal, or an em dash."""
    return "—" if value is None else f"{float(value) * 100:.1f}%"


def yuan(fen: int | None) -> str:
    return "—" if fen is None else f"¥{fen / 100:,.2f}"
