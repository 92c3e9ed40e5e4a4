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
CONTRACT_TYPES = {"labour": "Labour contract", "service": "Service contract"}
CHANNELS = {"offline": "Offline", "online": "Online seat"}
ROLES = {
    "senior_supervisor": "Senior supervisor",
    "supervisor": "Supervisor",
    "analyst": "Analyst",
}
STEPS = {1: "Pre-sell", 2: "Soft-sell", 3: "Cross-sell", 4: "Up-sell"}


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
