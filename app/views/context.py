"""What every page of the main window shares: the database, the user, the background runner,
the selection."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

from app.services.database import unit_of_work
from app.services.people.auth import UserInfo
from app.views.operations import BackgroundRunner, JobState
from app.views.selection import Selection

T = TypeVar("T")


@dataclass
class AppContext:
    # The field is named Session (ctx.Session() opens one), so the ORM class goes by OrmSession
    # here: inside the class body the name Session is the field, not a type.
    Session: sessionmaker[OrmSession]
    user: UserInfo
    runner: BackgroundRunner
    db_label: str
    as_of: date
    read_only: bool = False
    snapshot_label: str = ""
    web_available: bool = True
    # What the window looks at (a grid, a specialist or a team): one per window, shared by
    # its pages (app/views/selection.py).
    selection: Selection = field(default_factory=Selection)
    # Called (from the job's thread) when a write's commit left the persistency figures to a
    # job after it (app.services.database.unit_of_work); the window runs that job. None: every write
    # settles them before it commits.
    on_deferred: Callable[[], None] | None = None
    # True while that job runs: pages reading persistency say their figures are updating.
    updating: bool = False
    # What waits for that job to end (exports of persistency figures): run_when_current.
    waiting: list[Callable[[], None]] = field(default_factory=list)

    def run_when_current(self, fn: Callable[[], None]) -> bool:
        """Run ``fn`` now, or, while the persistency figures are being updated after a large
        change, once they are current (the window calls :meth:`figures_current`); return
        whether it waits. An export started then would otherwise write the figures of before
        the change."""
        if not self.updating:
            fn()
            return False
        self.waiting.append(fn)
        return True

    def figures_current(self) -> None:
        """Run what waited for the figures (in the order it came)."""
        waiting, self.waiting = self.waiting, []
        for fn in waiting:
            fn()

    def read(self, fn: Callable[[OrmSession], T]) -> Callable[[JobState], T]:
        """Wrap ``fn(session)`` as a background job that opens and closes its own session."""

        def job(_state: JobState) -> T:
            with self.Session() as s:
                return fn(s)

        return job

    def write(self, fn: Callable[[OrmSession], T]) -> Callable[[JobState], T]:
        """Wrap ``fn(session)`` as a background job run in one transaction."""

        def job(_state: JobState) -> T:
            with self.Session() as s:
                if self.on_deferred is not None:
                    unit_of_work.may_defer(s)
                with s.begin():
                    result = fn(s)
                if self.on_deferred is not None and unit_of_work.deferred(s):
                    # The window may be gone: the marks stay committed, and the next window's
                    # start (or any job settling everything) settles them.
                    with contextlib.suppress(RuntimeError):
                        self.on_deferred()
                return result

        return job


def call(ctx: AppContext, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Run a quick read on the GUI thread (a handful of rows, well under a frame)."""
    with ctx.Session() as s:
        return fn(s, *args, **kw)
