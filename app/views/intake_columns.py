"""The columns of the intake page's tables: departed agents, and the customers whose
address matched no grid."""

from __future__ import annotations

from app.services.people import org
from app.views.i18n import tr
from app.views.labels import listed
from app.views.table_models import Column

_C = "IntakePage"  # the page's texts, translated under its name


def agent_columns() -> list[Column[org.AgentRow]]:
    return [
        Column("code", tr(_C, "Agent"), lambda r: r.agent_code),
        Column("name", tr(_C, "Name"), lambda r: r.name),
        Column("left_on", tr(_C, "Left on"), lambda r: r.left_on),
        Column("customers", tr(_C, "Customers"), lambda r: r.customers, numeric=True),
        Column(
            "in_pool",
            tr(_C, "In the pool"),
            lambda r: r.in_pool,
            numeric=True,
            header_tip=tr(_C, "Customers of the agent taken into the pool already"),
        ),
        Column(
            "no_policy",
            tr(_C, "No policy in force"),
            lambda r: r.no_policy_in_force,
            numeric=True,
            header_tip=tr(
                _C, "Customers outside the pool with no policy in force: intake leaves them out"
            ),
        ),
        Column(
            "waiting",
            tr(_C, "Waiting for intake"),
            lambda r: r.waiting,
            numeric=True,
            alert=lambda r: r.waiting > 0,
            header_tip=tr(
                _C,
                "Customers with a policy in force not yet in the pool: the next intake takes them in",
            ),
        ),
    ]


def unmatched_columns() -> list[Column]:
    return [
        Column("customer_no", tr(_C, "Customer no."), lambda r: r.customer_no),
        Column("name", tr(_C, "Name"), lambda r: r.name),
        Column("pool", tr(_C, "Entered pool"), lambda r: r.pool_entered_on),
        Column("waiting", tr(_C, "Days waiting"), lambda r: r.days_waiting),
        Column("address", tr(_C, "Address"), lambda r: r.address),
        Column(
            "suggestions",
            tr(_C, "Suggested grids"),
            lambda r: listed(s.grid_code for s in r.suggestions) or "—",
        ),
    ]
