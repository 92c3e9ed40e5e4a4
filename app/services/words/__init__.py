"""The words of what GridDesk writes without Qt, one catalogue per language.

The workbooks, the visit lists' PDF, the detail files and the grid map's legends are made by
the services (and by the command line, which has no Qt), so their words cannot come from Qt's
translation files. They come from here: ``zh_CN.py`` and ``en.py`` each hold every word by key,
and ``Texts`` reads one language. What the app shows on screen is translated by Qt
(resources/i18n).
"""

from __future__ import annotations

from app.services.words import en, zh_CN

LANGS = ("zh_CN", "en")
CATALOGUES: dict[str, dict[str, str]] = {"zh_CN": zh_CN.WORDS, "en": en.WORDS}


class Texts:
    """The words of one language: ``t["sheet_cover"]``, ``t.code("kind", "servicing")``."""

    def __init__(self, lang: str) -> None:
        if lang not in CATALOGUES:
            raise ValueError(f"unknown language '{lang}': choose one of {', '.join(LANGS)}")
        self.lang = lang
        self._words = CATALOGUES[lang]

    def __getitem__(self, key: str) -> str:
        return self._words[key]

    def code(self, table: str, value: object) -> str:
        """Return the name of a code value (``kind``, ``status``, ``mode``, ...), or the code."""
        if value is None:
            return ""
        raw = str(getattr(value, "value", value))
        return self._words.get(f"{table}_{raw}", raw)

    def group(self, by: str | None, key: object, name: str) -> str:
        """Return the name of a report's group: ``name`` as the metrics give it (a grid's,
        specialist's or team's own name), or, for the group of no grid, specialist or team
        (``key`` None), this language's word for it."""
        if key is not None:
            return name
        return self._words.get(f"group_none_{by}", self._words["group_none"])
