"""Widgets, dialogs and Qt item models. Thin: the work is done in app.services."""
