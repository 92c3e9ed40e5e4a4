"""A CJK font for Qt widgets: the system's if it has one, else the one GridDesk ships."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

_family: str | None = None


def cjk_family() -> str | None:
    """Return the CJK font family install_cjk_font chose (None before it ran, or if none)."""
    return _family


def install_cjk_font() -> str | None:
    """Make sure Chinese text renders; return the family used, or None if none was found."""
    global _family
    _family = _choose_cjk_font()
    return _family


def _choose_cjk_font() -> str | None:
    families = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    preferred = ("Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC")
    for name in preferred:
        if name in families:
            return name
    if families:
        return families[0]
    from app.services.render.fonts import cjk_font_path

    path = cjk_font_path()
    if path is None:
        return None
    font_id = QFontDatabase.addApplicationFont(str(path))
    loaded = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not loaded:
        return None
    app = QApplication.instance()
    if isinstance(app, QApplication):  # instance() is typed as the QCoreApplication
        font = QFont(app.font())
        # Keep the system's Latin face first; Qt falls back to the CJK face per character.
        font.setFamilies([font.family(), loaded[0]])
        app.setFont(font)
    return loaded[0]
