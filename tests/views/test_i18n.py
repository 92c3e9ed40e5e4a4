"""Chinese is the users' language: every string the app shows has a translation, and the
compiled file the app loads is the one built from the dictionary."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from app.paths import I18N
from app.views.i18n import install_translators

ROOT = Path(__file__).resolve().parents[2]


def _build_module():
    spec = importlib.util.spec_from_file_location("i18n_build", I18N / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_string_in_the_code_has_a_chinese_translation():
    build = _build_module()
    found = build.extract()
    dictionary = json.loads((I18N / "zh_CN.json").read_text(encoding="utf-8"))
    missing = [f"{c}: {s}" for c in found for s in found[c] if not dictionary.get(c, {}).get(s)]
    assert missing == []


def test_the_compiled_translation_is_current(tmp_path):
    build = _build_module()
    found = build.extract()
    dictionary = json.loads((I18N / "zh_CN.json").read_text(encoding="utf-8"))
    committed = build.TS.read_bytes()
    try:
        build.write_ts(found, dictionary)
        assert build.TS.read_bytes() == committed, "run: python resources/i18n/build.py"
    finally:
        build.TS.write_bytes(committed)


def test_chinese_is_loaded_and_english_is_the_source(qapp):
    translators = install_translators(qapp, "zh_CN")
    try:
        assert QCoreApplication.translate("SignInDialog", "Sign in") == "登录"
        assert QCoreApplication.translate("labels", "Renewal collection") == "续收"
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    assert QCoreApplication.translate("SignInDialog", "Sign in") == "Sign in"
