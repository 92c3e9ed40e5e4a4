"""Chinese is the users' language: every string the app shows has a translation, and the
compiled file the app loads is the one Qt's tools build from the code and the .ts."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
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
    """pyside6-lupdate, run over the code into a copy of the committed .ts, finds nothing new
    and nothing left untranslated."""
    assert _build_module().check() == []


def test_the_compiled_translation_is_current(tmp_path):
    build = _build_module()
    subprocess.run(
        [build._tool("pyside6-lrelease"), "-silent", str(build.TS), "-qm", str(tmp_path / "a.qm")],
        check=True,
    )
    assert (tmp_path / "a.qm").read_bytes() == build.QM.read_bytes(), (
        "run: python resources/i18n/build.py"
    )


# Where a text is not a literal, and was marked for lupdate where it is written.
_DYNAMIC = {
    "app/views/i18n.py": "the function itself",
    "app/views/labels.py": "the labels, marked with QT_TRANSLATE_NOOP in their tables",
    "app/views/errors.py": "MESSAGES, marked with QT_TRANSLATE_NOOP in the catalogue",
}


def test_every_translated_text_is_one_lupdate_finds():
    """lupdate reads ``self.tr("…")`` and ``translate("Context", "…")`` only when the texts are
    literals, and never inside an f-string: a text it cannot see would stay English."""
    wrong = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_fstrings = {
            id(call)
            for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr)
            for call in ast.walk(node)
            if isinstance(call, ast.Call)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            own = isinstance(f, ast.Attribute) and f.attr == "tr" and _is_self(f.value)
            free = isinstance(f, ast.Name) and f.id in ("translate", "tr")
            if not (own or free):
                continue
            where = f"{rel}:{node.lineno}: {ast.unparse(node)[:80]}"
            if id(node) in in_fstrings:
                wrong.append(f"{where} (inside an f-string)")
            elif free and f.id == "tr":
                wrong.append(f"{where} (tr() outside a class: use translate())")
            elif rel not in _DYNAMIC and not all(
                isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args
            ):
                wrong.append(f"{where} (not literals)")
    assert wrong == []


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


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
    from app.services.leaving.left_behind import LeftBehind
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


def test_sentences_are_filled_with_arg_not_one_placeholder_after_another():
    """``text.replace("%1", a).replace("%2", b)`` fills a "%2" inside ``a`` again."""
    wrong = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "replace"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value[:1] == "%"
                and node.args[0].value[1:].isdigit()
            ):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []
