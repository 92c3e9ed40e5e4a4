"""Errors services raise for the user to read: what went wrong and what to do."""

from __future__ import annotations


class NotAllowed(Exception):
    """The signed-in user's role does not allow this change."""


class StaleData(Exception):
    """Someone else changed the data this change was based on; reload and try again."""


class NotFound(Exception):
    """A referenced row does not exist (any more)."""
