"""What the leaving dialog says: what a hand-over leaves behind, in words, and the columns of
its grids, customers and tasks tables."""

from __future__ import annotations

from app.services.rebalance.left_behind import Handover, LeftBehind
from app.views.i18n import tr
from app.views.labels import TASK_KINDS, TASK_STATUSES, label, listed, sentence_gap, yuan
from app.views.table_models import Column

_C = "LeavingDialog"  # the translations' context: the dialog's own


def left_behind_text(left: LeftBehind) -> str:
    """Return what a person must still deal with by hand, or '' when nothing."""
    parts = []
    if left.locked_grids:
        parts.append(
            tr(_C, "locked grids %1 (unlock or reassign them by hand)").replace(
                "%1", listed(left.locked_grids)
            )
        )
    counts = (  # how many, said of one, said of several
        (
            left.customers_in_locked_grids,
            tr(_C, "1 customer in those grids"),
            tr(_C, "%1 customers in those grids"),
        ),
        (left.locked_customers, tr(_C, "1 locked customer"), tr(_C, "%1 locked customers")),
        (
            left.customers_without_grid,
            tr(_C, "1 customer without a grid"),
            tr(_C, "%1 customers without a grid"),
        ),
        (
            left.open_tasks_staying,
            tr(_C, "1 open task of a customer who stays"),
            tr(_C, "%1 open tasks of customers who stay"),
        ),
    )
    for n, one, several in counts:
        if n:
            parts.append(one if n == 1 else several.replace("%1", f"{n:,}"))
    if not parts:
        return ""
    return tr(_C, "Not in the plan, to hand over by hand: %1.").replace(
        "%1", tr(_C, "; ").join(parts)
    )


def handover_left_text(handover: Handover, name_of: dict[str, str]) -> str:
    """Return what the red line says: the customers left behind now in the plan (given to
    someone by the supervisor), then what a person must still deal with by hand."""
    given = ""
    if handover.given and handover.given_to:
        given = (
            tr(_C, "1 customer left behind is now in the plan, going to %2.")
            if handover.given == 1
            else tr(_C, "%1 customers left behind are now in the plan, going to %2.")
        )
        given = given.replace("%1", f"{handover.given:,}").replace(
            "%2", name_of.get(handover.given_to, handover.given_to)
        )
    rest = left_behind_text(handover.left_behind)
    return sentence_gap().join(t for t in (given, rest) if t)


def grid_columns() -> list[Column]:
    return [
        Column("code", tr(_C, "Grid"), lambda r: r.code),
        Column("name", tr(_C, "Grid name"), lambda r: r.name),
        Column("district", tr(_C, "District"), lambda r: r.district or "—"),
        Column("customers", tr(_C, "Customers in the grid"), lambda r: r.customers, numeric=True),
        Column("locked", tr(_C, "Locked"), lambda r: tr(_C, "Yes") if r.locked else ""),
    ]


def customer_columns() -> list[Column]:
    return [
        Column("no", tr(_C, "Customer no."), lambda r: r.customer_no),
        Column("name", tr(_C, "Name"), lambda r: r.name),
        Column("grid", tr(_C, "Grid"), lambda r: r.grid_code or "—"),
        Column("tasks", tr(_C, "Open tasks"), lambda r: r.open_tasks, numeric=True),
        Column(
            "premium",
            tr(_C, "Premium due in 90 days"),
            lambda r: r.premium_due_90d_fen,
            yuan,
            numeric=True,
        ),
        Column("locked", tr(_C, "Locked"), lambda r: tr(_C, "Yes") if r.locked else ""),
    ]


def task_columns() -> list[Column]:
    return [
        Column("no", tr(_C, "Task no."), lambda r: r.task_no),
        Column("kind", tr(_C, "Kind"), lambda r: label(TASK_KINDS, r.kind)),
        Column("status", tr(_C, "Status"), lambda r: label(TASK_STATUSES, r.status)),
        Column("customer", tr(_C, "Customer no."), lambda r: r.customer_no),
        Column("policy", tr(_C, "Policy no."), lambda r: r.policy_no or "—"),
        Column(
            "due",
            tr(_C, "Due"),
            lambda r: r.due_date,
            alert=lambda r: r.due_before_leaving,
            tooltip=lambda r: tr(_C, "Due before the leaving date") if r.due_before_leaving else "",
        ),
    ]
