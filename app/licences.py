"""The third-party parts GridDesk bundles, their versions and licences (Help ▸ About)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.paths import DOCS, FONTS, LICENCES, WEB


@dataclass(frozen=True)
class Part:
    """A bundled part: what it is, its version, its licence's name and the licence's text."""

    name: str
    version: str
    licence: str
    files: tuple[Path, ...]
    use: str  # what GridDesk uses it for, in English (the view words it)

    def text(self) -> str:
        """Return the licence's full text (every file, one after the other)."""
        return "\n\n".join(p.read_text(encoding="utf-8") for p in self.files)


def bundled_parts() -> list[Part]:
    """Return the bundled parts whose licences travel with GridDesk."""
    return [
        Part("Leaflet", "1.9.4", "BSD-2-Clause", (WEB / "leaflet" / "LICENSE",), "map"),
        Part(
            "Noto Sans CJK SC",
            "1.004",
            "SIL OFL 1.1",
            (FONTS / "OFL-1.1-NotoSansCJK.txt",),
            "font",
        ),
        Part(
            "Qt / PySide6",
            _pyside_version(),
            "LGPL-3.0",
            (LICENCES / "LGPL-3.0.txt", LICENCES / "GPL-3.0.txt"),
            "widgets",
        ),
    ]


def user_guide(language: str) -> Path:
    """Return the user guide in ``language`` ('zh_CN' or 'en'), the English one otherwise."""
    localised = DOCS / f"user-guide.{language}.md"
    return localised if localised.is_file() else DOCS / "user-guide.md"


def _pyside_version() -> str:
    try:
        import PySide6
    except ImportError:  # pragma: no cover - the app needs it; the command line does not
        return ""
    return PySide6.__version__
