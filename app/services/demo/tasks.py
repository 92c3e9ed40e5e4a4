"""The work done for a pool customer: tasks, SMS and the assignment history, as rows."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from app.models.enums import AssignmentReason, Channel, NotificationStatus, TaskKind, TaskStatus
from app.services.clock import local_date
from app.services.demo.dates import at_local
from app.services.demo.policies import GRACE_DAYS, DueDraft
from app.services.demo.rand import ri
from app.services.demo.staff import SpecPlan
from app.services.demo.story import Story, lognormal_days

Row = dict[str, Any]

STALE_PRE_SELL_DAYS = 45  # an unanswered pre-sell older than this has been closed as failed
RENEWAL_GIVE_UP_DAYS = 14.0  # median days after the due date to close an unpaid collection
_PRE_SELL_DONE = ("已添加微信", "已添加微信", "已添加企业微信", "已电话建联，客户同意加微信")
_PRE_SELL_FAILED = ("多次联系未接通", "号码已停机", "客户拒绝添加")
_RENEWAL_FAILED = ("客户拒绝续缴", "多次联系未接通", "客户资金困难，暂缓缴费")
_SERVICES = (
    "保单检视",
    "地址变更",
    "受益人变更",
    "银行账户变更",
    "理赔协助",
    "生存金领取",
    "保单贷款咨询",
)
_CROSS_DONE = ("推荐家财险成交", "转介绍新客户1人", "车险综拓成交", "推荐意外险成交")
_UP_DONE = "新保单已承保"
_DECLINED = ("客户暂无需求", "客户考虑中，暂不办理", "预算不足")
_CALLBACK_DONE = ("回访满意", "回访满意", "回访一般", "客户建议增加上门频次")


class TaskWriter:
    """Turns a customer's story into task, notification and assignment-event rows."""

    def __init__(
        self,
        rng: random.Random,
        *,
        as_of: date,
        specs: list[SpecPlan],
        next_id: Callable[[str], int],
    ) -> None:
        self.rng = rng
        self.as_of = as_of
        self.specs = specs
        self.next_id = next_id
        self.tasks: list[Row] = []
        self.notifications: list[Row] = []
        self.events: list[Row] = []

    # -- helpers ------------------------------------------------------------------------------

    def _spec_id(self, index: int | None) -> int | None:
        return None if index is None else self.specs[index].id

    def _finish(self, day: date, created: datetime) -> datetime:
        at = at_local(day, ri(self.rng, 9 * 60, 20 * 60))
        return max(at, created + timedelta(minutes=ri(self.rng, 20, 240)))

    def _open_status(self, created: datetime) -> TaskStatus:
        old = created < at_local(self.as_of - timedelta(days=5), 0)
        return TaskStatus.IN_PROGRESS if old and self.rng.random() < 0.5 else TaskStatus.OPEN

    def task(
        self,
        story: Story,
        kind: TaskKind,
        *,
        created: datetime,
        due: date | None,
        status: TaskStatus,
        done_day: date | None = None,
        outcome: str | None = None,
        policy_id: int | None = None,
        online: bool = False,
    ) -> None:
        """Add a task; open tasks go to today's specialist, settled ones to who settled them."""
        if status.is_open or done_day is None:
            completed = None
            spec = None if online else story.current
        else:
            completed = self._finish(done_day, created)
            spec = None if online else story.serving(done_day)
        tid = self.next_id("task")
        self.tasks.append(
            {
                "id": tid,
                "task_no": f"DT{tid:09d}",
                "kind": kind.value,
                "customer_id": story.customer_id,
                "policy_id": policy_id,
                "specialist_id": self._spec_id(spec),
                "channel": (Channel.ONLINE if online else Channel.OFFLINE).value,
                "created_at": created,
                "due_date": due,
                "status": status.value,
                "outcome": outcome,
                "completed_at": completed,
                "version": 1,
            }
        )

    def _settle(
        self,
        story: Story,
        kind: TaskKind,
        created_day: date,
        *,
        done: float,
        median: float,
        due_days: int,
        outcomes: tuple[str, ...],
        online: bool = False,
    ) -> None:
        """Add a task settled ``median`` days (lognormal) after creation, if it is settled yet."""
        rng = self.rng
        created = at_local(created_day, ri(rng, 8 * 60, 19 * 60))
        settle = created_day + timedelta(days=lognormal_days(rng, median))
        due = created_day + timedelta(days=due_days)
        if settle > self.as_of or (not online and story.serving(settle) is None):
            self.task(
                story,
                kind,
                created=created,
                due=due,
                status=self._open_status(created),
                online=online,
            )
        elif rng.random() < done:
            self.task(
                story,
                kind,
                created=created,
                due=due,
                status=TaskStatus.DONE,
                done_day=settle,
                outcome=rng.choice(outcomes),
                online=online,
            )
        else:
            self.task(
                story,
                kind,
                created=created,
                due=due,
                status=TaskStatus.FAILED,
                done_day=settle,
                outcome=rng.choice(_DECLINED),
                online=online,
            )

    # -- the story ----------------------------------------------------------------------------

    def pre_sell(self, story: Story) -> None:
        rng, m = self.rng, story.matched
        created = story.matched_at + timedelta(minutes=1)
        due = m + timedelta(days=7)
        online = story.grid is None
        if story.steps:
            self.task(
                story,
                TaskKind.PRE_SELL,
                created=created,
                due=due,
                status=TaskStatus.DONE,
                done_day=story.steps[0],
                outcome=rng.choice(_PRE_SELL_DONE),
                online=online,
            )
            return
        if not online and story.serving(m) is None:
            # Matched to a grid nobody covers: the task waits for an owner.
            self.task(story, TaskKind.PRE_SELL, created=created, due=due, status=TaskStatus.OPEN)
            return
        fail_day = m + timedelta(days=ri(rng, 7, 20))
        # A quarter of the unreached stay open a while, but a supervisor closes a pre-sell
        # nobody answered within a few weeks: older ones are settled as failed.
        stale = m < self.as_of - timedelta(days=STALE_PRE_SELL_DAYS)
        if fail_day <= self.as_of and (rng.random() < 0.75 or stale):
            self.task(
                story,
                TaskKind.PRE_SELL,
                created=created,
                due=due,
                status=TaskStatus.FAILED,
                done_day=fail_day,
                outcome=rng.choice(_PRE_SELL_FAILED),
                online=online,
            )
        else:
            self.task(
                story,
                TaskKind.PRE_SELL,
                created=created,
                due=due,
                status=self._open_status(created),
                online=online,
            )

    def renewal(self, story: Story, row: DueDraft, policy_id: int) -> None:
        """Add the collection task of one due, created 60 days ahead (or at the match)."""
        if row.due < story.matched or story.grid is None:
            return
        created_day = max(story.matched, row.due - timedelta(days=60))
        if created_day > self.as_of:
            return
        rng = self.rng
        created = at_local(created_day, ri(rng, 6 * 60, 7 * 60))
        grace_end = row.due + timedelta(days=GRACE_DAYS)
        kw: dict[str, Any] = {"created": created, "due": row.due, "policy_id": policy_id}
        paid = row.received_on
        if paid is not None and not row.missed:
            reached = story.level >= 2 and paid >= story.steps[0]
            if reached and paid >= created_day and story.serving(paid) is not None:
                partial = row.received_fen < row.amount_fen
                outcome = "部分缴费，余额待收" if partial else "已收取续期保费"
                self.task(
                    story,
                    TaskKind.RENEWAL_COLLECTION,
                    status=TaskStatus.DONE,
                    done_day=paid,
                    outcome=outcome,
                    **kw,
                )
            else:
                self.task(
                    story,
                    TaskKind.RENEWAL_COLLECTION,
                    status=TaskStatus.CANCELLED,
                    done_day=max(paid, created_day),
                    outcome="客户已自行缴费",
                    **kw,
                )
            return
        settle = grace_end
        if row.missed:
            # A customer who will not pay says so, or stays out of reach: the specialist closes
            # the task as failed in the weeks after the due date, not at the grace period's end.
            early = row.due + timedelta(days=lognormal_days(rng, RENEWAL_GIVE_UP_DAYS, 0.5))
            if early < grace_end and story.serving(early) is not None:
                settle = early
        if settle <= self.as_of:
            self.task(
                story,
                TaskKind.RENEWAL_COLLECTION,
                status=TaskStatus.FAILED,
                done_day=settle,
                outcome=rng.choice(_RENEWAL_FAILED),
                **kw,
            )
        else:
            self.task(story, TaskKind.RENEWAL_COLLECTION, status=self._open_status(created), **kw)

    def ladder(self, story: Story) -> None:
        """Add the servicing, cross-sell and up-sell tasks that took the customer up the ladder,
        the offers they declined, extra service requests and the online seats' callbacks."""
        rng, steps = self.rng, story.steps
        first = story.serving(story.matched)
        spec = self.specs[first] if first is not None else None
        # Offline work stops when the customer loses their specialist.
        as_of = story.served_until(self.as_of)
        if story.level >= 2:
            created_day = max(steps[0], steps[1] - timedelta(days=ri(rng, 0, 5)))
            created = at_local(created_day, ri(rng, 8 * 60, 12 * 60))
            self.task(
                story,
                TaskKind.SERVICING,
                created=created,
                due=created_day + timedelta(days=5),
                status=TaskStatus.DONE,
                done_day=steps[1],
                outcome=rng.choice(_SERVICES),
            )
            # Later service requests: an equity gap shows as requests from those who never
            # bought more left undone, or done slowly (the requests keep coming back).
            biased = spec is not None and spec.equity_gap and story.level < 3
            for _ in range(rng.choice((1, 2, 3) if biased else (0, 0, 1, 1, 2))):
                day = steps[1] + timedelta(days=ri(rng, 1, max(2, (as_of - steps[1]).days)))
                if day > as_of:
                    continue
                self._settle(
                    story,
                    TaskKind.SERVICING,
                    day,
                    done=0.5 if biased else 0.93,
                    median=(5.0 if biased else 1.5) * (spec.speed if spec else 1.0),
                    due_days=5,
                    outcomes=_SERVICES,
                )
        if story.level >= 3:
            created_day = max(steps[1], steps[2] - timedelta(days=ri(rng, 3, 10)))
            created = at_local(created_day, ri(rng, 8 * 60, 18 * 60))
            self.task(
                story,
                TaskKind.CROSS_SELL,
                created=created,
                due=created_day + timedelta(days=30),
                status=TaskStatus.DONE,
                done_day=steps[2],
                outcome=rng.choice(_CROSS_DONE),
            )
        elif story.level == 2 and rng.random() < 0.4:
            day = steps[1] + timedelta(days=ri(rng, 20, 90))
            if day <= as_of:
                self._settle(
                    story,
                    TaskKind.CROSS_SELL,
                    day,
                    done=0.0,
                    median=12.0,
                    due_days=30,
                    outcomes=_DECLINED,
                )
        if story.level == 3 and rng.random() < 0.35:
            day = steps[2] + timedelta(days=ri(rng, 15, 90))
            if day <= as_of:
                self._settle(
                    story,
                    TaskKind.UP_SELL,
                    day,
                    done=0.0,
                    median=15.0,
                    due_days=30,
                    outcomes=_DECLINED,
                )
        if steps and rng.random() < 0.35:
            day = steps[0] + timedelta(days=ri(rng, 1, 10))
            if day <= as_of:
                self._settle(
                    story,
                    TaskKind.CALLBACK,
                    day,
                    done=0.9,
                    median=0.7,
                    due_days=3,
                    outcomes=_CALLBACK_DONE,
                    online=True,
                )

    def up_sell(self, story: Story, policy_id: int, policy_no: str) -> None:
        rng, day = self.rng, story.steps[3]
        created_day = max(story.steps[2], day - timedelta(days=ri(rng, 5, 15)))
        created = at_local(created_day, ri(rng, 8 * 60, 18 * 60))
        self.task(
            story,
            TaskKind.UP_SELL,
            created=created,
            due=created_day + timedelta(days=30),
            status=TaskStatus.DONE,
            done_day=day,
            outcome=f"{_UP_DONE} {policy_no}",
            policy_id=policy_id,
        )

    # -- SMS and history ----------------------------------------------------------------------

    def sms(self, story: Story, template: str, body: str, at: datetime) -> None:
        rng = self.rng
        row: Row = {
            "id": self.next_id("notification"),
            "customer_id": story.customer_id,
            "template": template,
            "body": body,
            "created_at": at,
            "status": NotificationStatus.SENT.value,
            "sent_at": None,
            "error": None,
        }
        if at >= at_local(self.as_of - timedelta(days=1), 0):
            row["status"] = NotificationStatus.QUEUED.value
        elif story.phone is None or rng.random() < 0.02:
            row["status"] = NotificationStatus.FAILED.value
            row["error"] = (
                "手机号为空"
                if story.phone is None
                else rng.choice(("空号", "用户停机", "网关超时"))
            )
        else:
            row["sent_at"] = at + timedelta(seconds=ri(rng, 20, 1800))
        self.notifications.append(row)

    def event(
        self,
        story: Story,
        *,
        old: int | None,
        new: int | None,
        reason: AssignmentReason,
        actor: str,
        at: datetime,
    ) -> None:
        self.events.append(
            {
                "id": self.next_id("assignment_event"),
                "customer_id": story.customer_id,
                "grid_id": None,
                "task_id": None,
                "from_specialist_id": self._spec_id(old),
                "to_specialist_id": self._spec_id(new),
                "reason": reason.value,
                "actor": actor,
                "at": at,
                "effective_on": local_date(at),
                "batch_id": None,
            }
        )
