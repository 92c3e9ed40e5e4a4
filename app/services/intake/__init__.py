"""Intake of a departed agent's customers: grid matching, the unmatched queue, the SMS outbox
(a specialist who leaves is app.services.leaving).

The modules are imported by their own names (``app.services.intake.outbox`` ...): importing
this package does not load shapely or numpy.
"""
