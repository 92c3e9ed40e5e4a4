"""Languages: Simplified Chinese (the users' language) and English.

Source strings are English; ``resources/i18n/griddesk_zh_CN.qm`` carries the Chinese. The
language is the one chosen in the settings, else Chinese on a Chinese system, else English.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from app.paths import I18N
from app.services.messages import arg

__all__ = ["LANGUAGES", "arg", "effective_language", "install_translators", "translate"]

LANGUAGES = {"zh_CN": "简体中文", "en": "English"}


def effective_language(preference: str) -> str:
    """Return 'zh_CN' or 'en' for a saved preference ('' means follow the system)."""
    if preference in LANGUAGES:
        return preference
    return "zh_CN" if QLocale.system().language() == QLocale.Language.Chinese else "en"


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Load Qt's own and GridDesk's translations for ``language``; return them (keep a ref)."""
    installed: list[QTranslator] = []
    if language == "en":
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
        return installed
    QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    for name, folder in ((f"qtbase_{language}", qt_dir), (f"griddesk_{language}", str(I18N))):
        tr = QTranslator(app)
        if tr.load(name, folder):
            app.installTranslator(tr)
            installed.append(tr)
    return installed


def translate(context: str, text: str) -> str:
    """Translate ``text`` outside a QObject (item models, dataclass labels).

    Call it with both as literals, ``translate("Context", "Text")``, for pyside6-lupdate to
    find the text (resources/i18n/build.py); a string held elsewhere is marked where it is
    written with ``QT_TRANSLATE_NOOP("context", "Text")``."""
    return QCoreApplication.translate(context, text)
