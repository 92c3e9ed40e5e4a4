"""The columns of the intake page's tables: departed agents, and the customers whose
address matched no grid."""

from __future__ import annotations

from app.services.people import org
from app.views.i18n import translate
from app.views.labels import listed
from app.views.table_models import Column


def agent_columns() -> list[Column[org.AgentRow]]:
    return [
        Column("code", translate("IntakePage", "Agent"), lambda r: r.agent_code),
        Column("name", translate("IntakePage", "Name"), lambda r: r.name),
        Column("left_on", translate("IntakePage", "Left on"), lambda r: r.left_on),
        Column(
            "customers", translate("IntakePage", "Customers"), lambda r: r.customers, numeric=True
        ),
        Column(
            "in_pool",
            translate("IntakePage", "In the pool"),
            lambda r: r.in_pool,
            numeric=True,
            header_tip=translate(
                "IntakePage", "Customers of the agent taken into the pool already"
            ),
        ),
        Column(
            "no_policy",
            translate("IntakePage", "No policy in force"),
            lambda r: r.no_policy_in_force,
            numeric=True,
            header_tip=translate(
                "IntakePage",
                "Customers outside the pool with no policy in force: intake leaves them out",
            ),
        ),
        Column(
            "waiting",
            translate("IntakePage", "Waiting for intake"),
            lambda r: r.waiting,
            numeric=True,
            alert=lambda r: r.waiting > 0,
            header_tip=translate(
                "IntakePage",
                "Customers with a policy in force not yet in the pool: the next intake takes them in",
            ),
        ),
    ]


def unmatched_columns() -> list[Column]:
    return [
        Column("customer_no", translate("IntakePage", "Customer no."), lambda r: r.customer_no),
        Column("name", translate("IntakePage", "Name"), lambda r: r.name),
        Column("pool", translate("IntakePage", "Entered pool"), lambda r: r.pool_entered_on),
        Column("waiting", translate("IntakePage", "Days waiting"), lambda r: r.days_waiting),
        Column("address", translate("IntakePage", "Address"), lambda r: r.address),
        Column(
            "suggestions",
            translate("IntakePage", "Suggested grids"),
            lambda r: listed(s.grid_code for s in r.suggestions) or "—",
        ),
    ]
