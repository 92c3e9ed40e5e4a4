"""What a write changed, as one typed value every writer's result gives (``result.changes``)
and every page of the app hears (``Page.on_changes``): a page reads again only what a change
touched.

Each kind holds the ids changed, or :data:`SOME` when the writer changed some without listing
them (a rebalance's customers, an import's rows): both count as touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# Some rows of a kind changed, not listed.
SOME: None = None
Ids = frozenset[int] | None

KINDS = ("customers", "grids", "tasks", "specialists", "settings", "plans", "derived")


@dataclass(frozen=True)
class Changes:
    """The rows a write changed, by kind, and the change batch it wrote or undid."""

    customers: Ids = frozenset()
    grids: Ids = frozenset()
    tasks: Ids = frozenset()
    specialists: Ids = frozenset()
    # The branch's settings (scorecard standards, hand-off targets, amount limit).
    settings: bool = False
    # Kept or scheduled plans (scenarios, plans with a later effective date).
    plans: bool = False
    # Persistency figures brought current after a change whose commit left them to a job.
    derived: bool = False
    # The change batch this change wrote (undoable), and the batch it undid.
    batch_id: int | None = None
    undone_batch_id: int | None = None

    def touches(self, *kinds: str) -> bool:
        """Say whether the change touched any of ``kinds`` (names in :data:`KINDS`)."""
        for kind in kinds:
            value = getattr(self, kind)
            if value is None or value is True or (isinstance(value, frozenset) and value):
                return True
        return False

    def __or__(self, other: Changes) -> Changes:
        """Both changes together (the batches of the later one)."""

        def both(a: Ids, b: Ids) -> Ids:
            return None if a is None or b is None else a | b

        return Changes(
            customers=both(self.customers, other.customers),
            grids=both(self.grids, other.grids),
            tasks=both(self.tasks, other.tasks),
            specialists=both(self.specialists, other.specialists),
            settings=self.settings or other.settings,
            plans=self.plans or other.plans,
            derived=self.derived or other.derived,
            batch_id=other.batch_id if other.batch_id is not None else self.batch_id,
            undone_batch_id=(
                other.undone_batch_id if other.undone_batch_id is not None else self.undone_batch_id
            ),
        )


def ids_of(values: Iterable[int | None]) -> frozenset[int]:
    """Return the ids given, None left out."""
    return frozenset(v for v in values if v is not None)


def some_if(count: int) -> Ids:
    """SOME when ``count`` rows changed, else none."""
    return SOME if count else frozenset()


def combined(changes: Iterable[Changes]) -> Changes:
    """Return every change together."""
    out = Changes()
    for c in changes:
        out = out | c
    return out
