"""A CJK font for matplotlib, so Chinese labels draw as text and not as empty boxes.

A new machine often has no CJK font at all, so GridDesk ships Noto Sans CJK SC (SIL Open Font
License 1.1) in ``resources/fonts`` with its licence; users' desktops usually have Microsoft
YaHei (Windows) or PingFang SC (macOS), which the fallback list covers.
"""

from __future__ import annotations

from pathlib import Path

from app.paths import FONTS

FALLBACK_FAMILIES = [
    "Noto Sans CJK SC",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "DejaVu Sans",
]

_BUNDLED = "NotoSansCJKsc-Regular.otf"
_configured = False


def cjk_font_path() -> Path | None:
    """Return the path of the Noto Sans CJK SC font GridDesk ships, or None if it is absent."""
    path = FONTS / _BUNDLED
    return path if path.is_file() else None


def configure_matplotlib() -> Path | None:
    """Register the bundled CJK font with matplotlib and set a CJK-first sans-serif list;
    return the font file registered (None when only the system's fonts are available)."""
    global _configured
    from matplotlib import font_manager, rcParams

    path = cjk_font_path()
    if not _configured:
        if path is not None:
            font_manager.fontManager.addfont(str(path))
        _configured = True
    families = list(FALLBACK_FAMILIES)
    for name in rcParams["font.sans-serif"]:
        if name not in families:
            families.append(name)
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = families
    # The CJK faces lack the Unicode minus sign; an ASCII hyphen draws everywhere.
    rcParams["axes.unicode_minus"] = False
    return path
