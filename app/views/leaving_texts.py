"""What the leaving dialog says: what a hand-over leaves behind, in words, and the columns of
its grids, customers and tasks tables."""

from __future__ import annotations

from app.services.leaving.left_behind import Handover, LeftBehind
from app.views.i18n import arg, translate
from app.views.labels import TASK_KINDS, TASK_STATUSES, label, listed, sentence_gap, yuan
from app.views.table_models import Column


def left_behind_text(left: LeftBehind) -> str:
    """Return what a person must still deal with by hand, or '' when nothing."""
    parts = []
    if left.locked_grids:
        parts.append(
            arg(
                translate("LeavingDialog", "locked grids %1 (unlock or reassign them by hand)"),
                listed(left.locked_grids),
            )
        )
    counts = (  # how many, said of one, said of several
        (
            left.customers_in_locked_grids,
            translate("LeavingDialog", "1 customer in those grids"),
            translate("LeavingDialog", "%1 customers in those grids"),
        ),
        (
            left.locked_customers,
            translate("LeavingDialog", "1 locked customer"),
            translate("LeavingDialog", "%1 locked customers"),
        ),
        (
            left.customers_without_grid,
            translate("LeavingDialog", "1 customer without a grid"),
            translate("LeavingDialog", "%1 customers without a grid"),
        ),
        (
            left.open_tasks_staying,
            translate("LeavingDialog", "1 open task of a customer who stays"),
            translate("LeavingDialog", "%1 open tasks of customers who stay"),
        ),
    )
    for n, one, several in counts:
        if n:
            parts.append(one if n == 1 else arg(several, f"{n:,}"))
    if not parts:
        return ""
    return arg(
        translate("LeavingDialog", "Not in the plan, to hand over by hand: %1."),
        translate("LeavingDialog", "; ").join(parts),
    )


def handover_left_text(handover: Handover, name_of: dict[str, str]) -> str:
    """Return what the red line says: the customers left behind now in the plan (given to
    someone by the supervisor), then what a person must still deal with by hand."""
    given = ""
    if handover.given and handover.given_to:
        given = (
            translate("LeavingDialog", "1 customer left behind is now in the plan, going to %2.")
            if handover.given == 1
            else translate(
                "LeavingDialog", "%1 customers left behind are now in the plan, going to %2."
            )
        )
        given = arg(given, f"{handover.given:,}", name_of.get(handover.given_to, handover.given_to))
    rest = left_behind_text(handover.left_behind)
    return sentence_gap().join(t for t in (given, rest) if t)


def grid_columns() -> list[Column]:
    return [
        Column("code", translate("LeavingDialog", "Grid"), lambda r: r.code),
        Column("name", translate("LeavingDialog", "Grid name"), lambda r: r.name),
        Column("district", translate("LeavingDialog", "District"), lambda r: r.district or "—"),
        Column(
            "customers",
            translate("LeavingDialog", "Customers in the grid"),
            lambda r: r.customers,
            numeric=True,
        ),
        Column(
            "locked",
            translate("LeavingDialog", "Locked"),
            lambda r: translate("LeavingDialog", "Yes") if r.locked else "",
        ),
    ]


def customer_columns() -> list[Column]:
    return [
        Column("no", translate("LeavingDialog", "Customer no."), lambda r: r.customer_no),
        Column("name", translate("LeavingDialog", "Name"), lambda r: r.name),
        Column("grid", translate("LeavingDialog", "Grid"), lambda r: r.grid_code or "—"),
        Column(
            "tasks", translate("LeavingDialog", "Open tasks"), lambda r: r.open_tasks, numeric=True
        ),
        Column(
            "premium",
            translate("LeavingDialog", "Premium due in 90 days"),
            lambda r: r.premium_due_90d_fen,
            yuan,
            numeric=True,
        ),
        Column(
            "locked",
            translate("LeavingDialog", "Locked"),
            lambda r: translate("LeavingDialog", "Yes") if r.locked else "",
        ),
    ]


def task_columns() -> list[Column]:
    return [
        Column("no", translate("LeavingDialog", "Task no."), lambda r: r.task_no),
        Column("kind", translate("LeavingDialog", "Kind"), lambda r: label(TASK_KINDS, r.kind)),
        Column(
            "status", translate("LeavingDialog", "Status"), lambda r: label(TASK_STATUSES, r.status)
        ),
        Column("customer", translate("LeavingDialog", "Customer no."), lambda r: r.customer_no),
        Column("policy", translate("LeavingDialog", "Policy no."), lambda r: r.policy_no or "—"),
        Column(
            "due",
            translate("LeavingDialog", "Due"),
            lambda r: r.due_date,
            alert=lambda r: r.due_before_leaving,
            tooltip=lambda r: (
                translate("LeavingDialog", "Due before the leaving date")
                if r.due_before_leaving
                else ""
            ),
        ),
    ]
