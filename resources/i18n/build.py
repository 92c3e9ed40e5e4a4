"""Builds the Qt translation files with Qt's own tools.

    python resources/i18n/build.py          # update griddesk_zh_CN.ts from the code, compile .qm
    python resources/i18n/build.py --check  # exit 1 if the .ts is behind the code or a string
                                            # lacks a translation

``pyside6-lupdate`` finds the strings in app/: ``self.tr("…")`` (context: the enclosing class),
``translate("Context", "…")`` outside a QObject, and ``QT_TRANSLATE_NOOP("context", "…")`` where
a text is held in a table and translated later: the code labels of app/views/labels.py
(context "labels") and the services' message templates, MESSAGES in app/services/messages.py
(context "messages"; a translation keeps the template's {placeholders}). Both texts are
literals, or lupdate does not see them.

The translator edits ``griddesk_zh_CN.ts`` (``pyside6-linguist resources/i18n/griddesk_zh_CN.ts``,
or any .ts editor); ``pyside6-lrelease`` compiles it into the ``.qm`` the app loads. Strings no
longer in the code are dropped from the .ts, and it records no source locations, so it changes
only when a text does.

The files GridDesk writes without Qt (workbooks, PDFs, the map's legends) take their words from
app/services/words/ (zh_CN.py, en.py), the one catalogue per language outside Qt.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TS = HERE / "griddesk_zh_CN.ts"
QM = HERE / "griddesk_zh_CN.qm"


def _tool(name: str) -> str:
    """Return the path of one of PySide6's Qt tools installed beside this Python."""
    path = Path(sys.executable).with_name(name)
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6 (pip install -e .)")
    return found


def lupdate(ts: Path) -> None:
    """Bring ``ts`` up to date with the strings of app/ (keeping its translations)."""
    subprocess.run(
        [
            _tool("pyside6-lupdate"),
            "-silent",
            "-extensions",
            "py",
            str(ROOT / "app"),
            "-no-obsolete",
            "-locations",
            "none",
            "-source-language",
            "en",
            "-target-language",
            "zh_CN",
            "-ts",
            str(ts),
        ],
        check=True,
    )


def translations(ts: Path = TS) -> dict[str, dict[str, str]]:
    """Return {context: {source: translation}} of the finished translations in ``ts``."""
    found: dict[str, dict[str, str]] = {}
    for context in ET.parse(ts).getroot().iter("context"):
        texts = found.setdefault(context.findtext("name") or "", {})
        for message in context.iter("message"):
            t = message.find("translation")
            if t is not None and t.get("type") != "unfinished" and t.text:
                texts[message.findtext("source") or ""] = t.text
    return found


def untranslated(ts: Path) -> list[str]:
    """Return "context: source" of every message of ``ts`` without a finished translation."""
    missing = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            t = message.find("translation")
            if t is None or t.get("type") == "unfinished" or not (t.text or ""):
                missing.append(f"{name}: {message.findtext('source')}")
    return missing


def check() -> list[str]:
    """Return what is wrong with the committed .ts: behind the code, or untranslated strings."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / TS.name
        shutil.copyfile(TS, copy)
        lupdate(copy)
        problems = untranslated(copy)
        if copy.read_bytes() != TS.read_bytes():
            problems.insert(0, f"{TS.name} is behind the code: run python resources/i18n/build.py")
    return problems


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = check()
        print("\n".join(problems) or "every string is translated")
        return 1 if problems else 0
    lupdate(TS)
    subprocess.run([_tool("pyside6-lrelease"), "-silent", str(TS), "-qm", str(QM)], check=True)
    missing = untranslated(TS)
    if missing:
        print(f"{len(missing)} strings lack a translation:\n" + "\n".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
