"""How a database is named on screen: words people know, the full address in a tooltip."""

from __future__ import annotations

from app.db import default_url, redact
from app.views.i18n import arg, translate


def database_label(url: str) -> str:
    """Return how a database is named on screen: the local database, a shared database by its
    name and server, or a file by its name (the full address goes in a tooltip)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    if url == redact(default_url()):
        return translate("MainWindow", "Local database on this computer")
    try:
        parsed = make_url(url)
    except Exception:  # a label is never worth an error
        return url
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or url).name or url
    return arg(
        translate("MainWindow", "Shared database %1 on %2"),
        parsed.database or "",
        parsed.host or "localhost",
    )
