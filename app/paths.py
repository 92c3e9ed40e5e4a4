"""Where the app's bundled resources are."""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
I18N = RESOURCES / "i18n"
ICONS = RESOURCES / "icons"
WEB = RESOURCES / "web"
LICENCES = RESOURCES / "licences"
FONTS = RESOURCES / "fonts"
# The user guide and its screenshots (Help ▸ User guide).
DOCS = Path(__file__).resolve().parent.parent / "docs"
