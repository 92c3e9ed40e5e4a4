"""The small state object long jobs report progress to and check for cancellation."""

from __future__ import annotations

from typing import Protocol

from app.services.messages import Message


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it; the caller rolls back."""


class JobState(Protocol):
    """``report(fraction, step)``: how far the job is (0 to 1) and, when it starts a new step,
    what it does now, as a code of the message catalogue (the views word it)."""

    def report(self, fraction: float, step: Message | None = None) -> None: ...

    def cancelled(self) -> bool: ...


class NullState:
    """A state for callers that neither watch progress nor cancel (the command line, tests)."""

    def report(self, fraction: float, step: Message | None = None) -> None:
        pass

    def cancelled(self) -> bool:
        return False


def check(state: JobState | None) -> None:
    """Raise Cancelled if the job's user asked to stop."""
    if state is not None and state.cancelled():
        raise Cancelled()
