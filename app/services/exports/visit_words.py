"""How a weekly visit list's stops, days and routes read in its files (PDF and workbook); the
words themselves are in app.services.words."""

from __future__ import annotations

from datetime import date

from app.services.visits.lists import Stop, Todo, VisitList
from app.services.words import Texts


def km(metres: float) -> str:
    return f"{metres / 1000:.1f}"


def day_label(day: date, t: Texts) -> str:
    return f"{day.month}/{day.day} {t[f'weekday_{day.weekday()}']}"


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def todo_text(todo: Todo, t: Texts) -> str:
    """Return what to do, as the specialist reads it."""
    due = f"{todo.due_date.month}/{todo.due_date.day}" if todo.due_date else ""
    if todo.what == "task":
        key = "todo_task_overdue" if todo.overdue else "todo_task"
        return t[key].format(kind=t.code("kind", todo.task_kind), due=due)
    if todo.what == "premium":
        return t["todo_premium"].format(
            amount=yuan(todo.amount_fen or 0), due=due, policy=todo.policy_no
        )
    missed = "、".join(t[f"milestone_{m}"] for m in todo.missed)
    return t["todo_handoff"].format(missed=missed, days=todo.days_over)


def grid_text(stop: Stop, t: Texts) -> str:
    if not stop.grid_code:
        return t["visits_no_grid"]
    return f"{stop.grid_code} {stop.grid_name or ''}".strip()


def route_text(vl: VisitList, t: Texts) -> str:
    return t["visits_route"].format(route=km(vl.route_m), unordered=km(vl.unordered_m))


def gathered_text(vl: VisitList, t: Texts) -> str:
    sunday = vl.week_monday.toordinal() + 6
    return t["visits_gathered"].format(
        monday=vl.week_monday.isoformat(),
        sunday=date.fromordinal(sunday).isoformat(),
        until=vl.premium_until.isoformat(),
    )
