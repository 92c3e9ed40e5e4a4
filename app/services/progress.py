"""The small state object long jobs report progress to and check for cancellation."""

from __future__ import annotations

from typing import Protocol


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it; the caller rolls back."""


class JobState(Protocol):
    def report(self, fraction: float, text: str = "") -> None: ...

    def cancelled(self) -> bool: ...


class NullState:
    """A state for callers that neither watch progress nor cancel (the command line, tests)."""

    def report(self, fraction: float, text: str = "") -> None:
        pass

    def cancelled(self) -> bool:
        return False


def check(state: JobState | None) -> None:
    """Raise Cancelled if the job's user asked to stop."""
    if state is not None and state.cancelled():
        raise Cancelled()
