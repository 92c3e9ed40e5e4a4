"""SQLAlchemy models of GridDesk. No Qt here."""

from app.models.base import Base, UTCDateTime, utcnow
from app.models.customers import (
    CoverageMark,
    Customer,
    PersistencyBase,
    PersistencyMonth,
    Policy,
    PremiumDue,
)
from app.models.derived import PersistencyDirty, PolicyDirty
from app.models.funnel import FunnelDirty, FunnelMonth
from app.models.geo import AddressRule, Grid
from app.models.meta import SnapshotInfo
from app.models.org import Branch, DepartedAgent, Specialist, Team, User, user_team
from app.models.work import (
    AssignmentEvent,
    ChangeBatch,
    Notification,
    Scenario,
    ScheduledPlan,
    Task,
)

__all__ = [
    "AddressRule",
    "AssignmentEvent",
    "Base",
    "Branch",
    "ChangeBatch",
    "CoverageMark",
    "Customer",
    "DepartedAgent",
    "FunnelDirty",
    "FunnelMonth",
    "Grid",
    "Notification",
    "PersistencyBase",
    "PersistencyDirty",
    "PolicyDirty",
    "PersistencyMonth",
    "Policy",
    "PremiumDue",
    "Scenario",
    "ScheduledPlan",
    "SnapshotInfo",
    "Specialist",
    "Task",
    "Team",
    "User",
    "UTCDateTime",
    "user_team",
    "utcnow",
]
