"""Code values of the domain, as stored in the database and written in exchange files."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SENIOR_SUPERVISOR = "senior_supervisor"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"


class ContractType(StrEnum):
    LABOUR = "labour"
    SERVICE = "service"


class SpecialistStatus(StrEnum):
    ACTIVE = "active"
    LEAVE = "leave"
    LEFT = "left"


class PaymentMode(StrEnum):
    ANNUAL = "annual"
    SEMIANNUAL = "semiannual"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"
    SINGLE = "single"

    @property
    def per_year(self) -> int:
        """Instalments in one policy year (0 for single premium)."""
        return {"annual": 1, "semiannual": 2, "quarterly": 4, "monthly": 12, "single": 0}[
            self.value
        ]


class PolicyStatus(StrEnum):
    IN_FORCE = "in_force"
    LAPSED = "lapsed"
    SURRENDERED = "surrendered"
    CLAIM = "claim"
    DEATH = "death"
    MATURED = "matured"


# Terminations that remove a policy from both sides of persistency when they precede the due date.
TERMINATED_BY_EVENT = (PolicyStatus.CLAIM, PolicyStatus.DEATH)


class Step(StrEnum):
    """The 4-sell ladder; the integer level is the position on it."""

    PRE_SELL = "pre_sell"
    SOFT_SELL = "soft_sell"
    CROSS_SELL = "cross_sell"
    UP_SELL = "up_sell"

    @property
    def level(self) -> int:
        return STEPS.index(self) + 1


STEPS: tuple[Step, ...] = (Step.PRE_SELL, Step.SOFT_SELL, Step.CROSS_SELL, Step.UP_SELL)


class TaskKind(StrEnum):
    PRE_SELL = "pre_sell"
    RENEWAL_COLLECTION = "renewal_collection"
    SERVICING = "servicing"
    CROSS_SELL = "cross_sell"
    UP_SELL = "up_sell"
    CALLBACK = "callback"


# Which ladder step a done task of each kind is evidence for (callbacks are evidence of none).
STEP_OF_TASK_KIND: dict[TaskKind, Step] = {
    TaskKind.PRE_SELL: Step.PRE_SELL,
    TaskKind.RENEWAL_COLLECTION: Step.SOFT_SELL,
    TaskKind.SERVICING: Step.SOFT_SELL,
    TaskKind.CROSS_SELL: Step.CROSS_SELL,
    TaskKind.UP_SELL: Step.UP_SELL,
}


class Channel(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"


class TaskStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


OPEN_TASK_STATUSES = (TaskStatus.OPEN, TaskStatus.IN_PROGRESS)


class NotificationTemplate(StrEnum):
    AGENT_CHANGE = "agent_change"
    SPECIALIST_CHANGE = "specialist_change"


class NotificationStatus(StrEnum):
    QUEUED = "queued"
    # Written to the gateway's file: it has left GridDesk, its result is not back yet.
    EXPORTED = "exported"
    SENT = "sent"
    FAILED = "failed"
    # Taken back before it left: a later change replaced it, or made it pointless.
    WITHDRAWN = "withdrawn"


class AssignmentReason(StrEnum):
    AUTO_MATCH = "auto_match"
    REBALANCE = "rebalance"
    MANUAL = "manual"
    SPECIALIST_LEFT = "specialist_left"
    IMPORT = "import"
    UNDO = "undo"


class GridStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


class MatchMethod(StrEnum):
    POINT = "point"
    ADDRESS = "address"
    RULE = "rule"
    MANUAL = "manual"
