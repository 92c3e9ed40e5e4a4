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


def test_service_progress_steps_are_shown_in_the_users_language(qapp):
    from app.services.messages import Message
    from app.views.errors import message_text

    translators = install_translators(qapp, "zh_CN")
    try:
        assert message_text(Message("progress.refreshing_persistency")) == "正在更新继续率基础数据"
        assert message_text(Message("progress.rows_read", rows=12345)) == "已读取 12,345 行"
    finally:
        for t in translators:
            qapp.removeTranslator(t)
    assert message_text(Message("progress.rows_read", rows=12345)) == "12,345 rows read"


def test_every_progress_step_a_service_reports_is_a_code_of_the_catalogue():
    """A job says what it does with a code (and parameters), never with a sentence the views
    would have to recognise."""
    import ast

    from app.services.messages import MESSAGES

    wrong = []
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "report"
                and len(node.args) >= 2
            ):
                continue
            step = node.args[1]
            if isinstance(step, ast.Name):  # passed on (a wrapper's own parameter)
                continue
            ok = (
                isinstance(step, ast.Call)
                and getattr(step.func, "id", "") == "Message"
                and isinstance(step.args[0], ast.Constant)
                and step.args[0].value in MESSAGES
            )
            if not ok:
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(step)}")
    assert wrong == []


def test_assignment_history_shows_reasons_and_actors_in_words(qapp):
    """The specialist's history tab shows why and by whom, not the stored codes."""
    from app.models.enums import AssignmentReason
    from app.views.labels import ACTORS, ASSIGNMENT_REASONS, label

    assert set(ASSIGNMENT_REASONS) == {r.value for r in AssignmentReason}
    translators = install_translators(qapp, "zh_CN")
    try:
        shown = [label(ASSIGNMENT_REASONS, r) for r in AssignmentReason]
        assert all(text and not text.isascii() for text in shown), shown
        assert label(ACTORS, "system") == "系统自动"
        assert label(ACTORS, "supervisor") == "supervisor"  # a person's login as it is
    finally:
        for t in translators:
            qapp.removeTranslator(t)


def test_lists_and_counts_read_right_in_both_languages(qapp):
    from app.services.rebalance.left_behind import LeftBehind
    from app.views.labels import listed
    from app.views.leaving_texts import left_behind_text

    left = LeftBehind(("QY001", "QY002"), 4, 0, 0, 1)
    assert listed(["程洋", "胡磊帅"]) == "程洋, 胡磊帅"
    english = left_behind_text(left)
    assert "4 locked customers" in english and "1 open task of a customer who stays" in english
    translators = install_translators(qapp, "zh_CN")
    try:
        assert listed(["程洋", "胡磊帅"]) == "程洋、胡磊帅"
        chinese = left_behind_text(left)
        assert "QY001、QY002" in chinese and "留下客户的 1 个未完成任务" in chinese
        assert "；" in chinese and "; " not in chinese  # full-width between the parts
    finally:
        for t in translators:
            qapp.removeTranslator(t)


def test_sentences_follow_the_language_s_punctuation(qapp):
    """Summaries join sentences with a space in English and with nothing after a Chinese 。;
    a name with its figures takes full-width brackets in Chinese."""
    from app.views.labels import sentence_gap

    assert sentence_gap() == " "
    translators = install_translators(qapp, "zh_CN")
    try:
        assert " " not in sentence_gap()  # no visible space after 。
        assert QCoreApplication.translate("RebalancePage", "%1 (%2 / %3)") == "%1（%2 / %3）"
    finally:
        for t in translators:
            qapp.removeTranslator(t)


def test_counts_are_singular_for_one_in_english_and_alike_in_chinese(qapp):
    from app.views.labels import counted, grids, moves

    assert (moves(1), moves(2), grids(1), grids(1234)) == (
        "1 move",
        "2 moves",
        "1 grid",
        "1,234 grids",
    )
    assert counted(0, "%1 colleague", "%1 colleagues") == "0 colleagues"
    translators = install_translators(qapp, "zh_CN")
    try:
        assert (moves(1), moves(12), grids(1)) == ("1 项调整", "12 项调整", "1 个网格")
    finally:
        for t in translators:
            qapp.removeTranslator(t)
        install_translators(qapp, "en")
