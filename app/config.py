"""What the command line needs from the settings, without starting the GUI."""

from __future__ import annotations


def settings_db_url_unless(flag: str | None) -> str | None:
    """Return the settings' database URL only when neither ``flag`` (``--db``) nor GRIDDESK_DB
    names one: reading the settings loads Qt, whose import hook then slows every later import
    the command makes at run time (xlsxwriter's re.sub calls one per cell: 4.6 s of a 30 s
    detail export)."""
    import os

    from app.db import ENV_VAR

    if (flag and flag.strip()) or (os.environ.get(ENV_VAR) or "").strip():
        return None
    return settings_db_url()


def settings_db_url() -> str | None:
    """Return the database URL saved in the settings, or None."""
    try:
        from app.settings import Preferences
    except ImportError:  # pragma: no cover - Qt missing: settings cannot be read
        return None
    return Preferences().database_url or None


def settings_weights():
    """Return the workload weights saved in the settings (the defaults without Qt)."""
    from app.services.rebalance.workload import Weights

    try:
        from app.settings import Preferences
    except ImportError:  # pragma: no cover - Qt missing: settings cannot be read
        return Weights()
    return Preferences().workload_weights


def settings_move_costs():
    """Return what moving a customer costs, as saved in the settings (the defaults without Qt)."""
    from app.services.rebalance.disruption import MoveCosts

    try:
        from app.settings import Preferences
    except ImportError:  # pragma: no cover - Qt missing: settings cannot be read
        return MoveCosts()
    return Preferences().move_costs
