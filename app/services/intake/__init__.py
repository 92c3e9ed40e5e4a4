"""Intake of a departed agent's customers: grid matching, the unmatched queue, the SMS outbox,
and what a leaving specialist leaves behind.

The modules are imported by their own names (``app.services.intake.outbox`` ...): importing
this package does not load shapely or numpy.
"""
